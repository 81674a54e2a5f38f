// Entity look-ups and name search.
//
// Entity row (entity_by_id, entity_by_identifier):
//   {entity_id, kind ('enterprise'|'person'), name, aliases [sorted], identifier (enterprise
//    USCC or org code, else null), identifier_type, org_code, id_masked (person, masked number),
//    id_hash (person), birth_date (person), departments [sorted], records [source:record_id],
//    addresses [sorted keys], phones [sorted], n_sources, attrs (JSON text or null),
//    list_records [{record_uid, list, grade, authority, case_no, date, source, effective_from,
//    effective_to, removed_on, removal_reason}] by record_uid}
// Persons never carry the identity number in clear.

// name: entity_by_id
// One entity by its resolved id (E-… enterprise, P-… person); no row when unknown.
MATCH (n:Entity {entity_id: $entity_id})
RETURN n.entity_id AS entity_id, n.kind AS kind, n.name AS name,
       coalesce(n.aliases, []) AS aliases, n.identifier AS identifier,
       n.identifier_type AS identifier_type, n.org_code AS org_code, n.id_masked AS id_masked,
       n.id_hash AS id_hash, n.birth_date AS birth_date,
       coalesce(n.departments, []) AS departments, coalesce(n.records, []) AS records,
       coalesce(n.addresses, []) AS addresses, coalesce(n.phones, []) AS phones,
       n.n_sources AS n_sources, n.attrs AS attrs,
       COLLECT { MATCH (n)-[:HAS_RECORD]->(r:ListRecord)
                 RETURN r {.record_uid, .list, .grade, .authority, .case_no, .date, .source,
                           .effective_from, .effective_to, .removed_on, .removal_reason}
                 ORDER BY r.record_uid } AS list_records

// name: entity_by_identifier
// Entities by an identifier: an enterprise's USCC, its 9-character organisation code
// (hyphen optional: 71000137-4), or a person's id_hash (the API hashes the identity number
// with the keyed HMAC before asking; the number never reaches the graph). Same row as
// entity_by_id; ordered by entity_id (an old org code and a USCC may both match).
CALL () {
  MATCH (n:Enterprise) WHERE n.identifier = toUpper(trim($identifier)) RETURN n
  UNION
  MATCH (n:Enterprise) WHERE n.org_code = toUpper(replace(trim($identifier), '-', '')) RETURN n
  UNION
  MATCH (n:Person) WHERE n.id_hash = trim($identifier) RETURN n
}
RETURN n.entity_id AS entity_id, n.kind AS kind, n.name AS name,
       coalesce(n.aliases, []) AS aliases, n.identifier AS identifier,
       n.identifier_type AS identifier_type, n.org_code AS org_code, n.id_masked AS id_masked,
       n.id_hash AS id_hash, n.birth_date AS birth_date,
       coalesce(n.departments, []) AS departments, coalesce(n.records, []) AS records,
       coalesce(n.addresses, []) AS addresses, coalesce(n.phones, []) AS phones,
       n.n_sources AS n_sources, n.attrs AS attrs,
       COLLECT { MATCH (n)-[:HAS_RECORD]->(r:ListRecord)
                 RETURN r {.record_uid, .list, .grade, .authority, .case_no, .date, .source,
                           .effective_from, .effective_to, .removed_on, .removal_reason}
                 ORDER BY r.record_uid } AS list_records
ORDER BY entity_id

// name: search_name
// defaults: {"limit": 20}
// Full-text search over names and aliases (index entity_names, CJK analyzer: overlapping
// bigrams, full-width folded, lower-cased), tolerant of dropped or moved divisions, forms and
// homophone typos (any shared bigram matches; more shared bigrams rank higher).
// $q is a Lucene query: the stores build it from the user's text (NFKC, punctuation removed,
// Lucene syntax escaped) — in Browser, type plain text such as '鑫达贸易'.
// Rows: {entity_id, kind, name, score} by score descending, then entity_id; at most $limit.
// score is Lucene's (BM25) here and substring, then bigram coverage in the memory store:
// compare ranks and sets, not scores.
// Lucene keeps only the best $limit (options.limit): without it every hit came back to be
// sorted here, all 600,000 enterprises for a query holding 有限公司. Hits tied at the cut are
// Lucene's pick (index order), then ordered by entity_id.
CALL db.index.fulltext.queryNodes('entity_names', $q, {limit: $limit}) YIELD node, score
RETURN node.entity_id AS entity_id, node.kind AS kind, node.name AS name, score
ORDER BY score DESC, entity_id
LIMIT $limit

// name: entity_records
// defaults: {"include_history": true}
// The list records of entity $entity_id with their period and status at $as_of (ISO date;
// the stores pass today when none): 'not_yet', 'removed', 'ended' or 'in_force' (the rule:
// cypher/discipline.cypher). Only those in force unless $include_history (default true).
// Rows: {record_uid, list, grade, authority, case_no, date, source, record_id, department,
// effective_from, effective_to, removed_on, removal_reason, status}, by record_uid.
MATCH (:Entity {entity_id: $entity_id})-[:HAS_RECORD]->(lr:ListRecord)
WITH lr, CASE WHEN lr.effective_from > $as_of THEN 'not_yet'
              WHEN lr.removed_on <= $as_of THEN 'removed'
              WHEN lr.effective_to < $as_of THEN 'ended'
              ELSE 'in_force' END AS status
WHERE $include_history OR status = 'in_force'
RETURN lr.record_uid AS record_uid, lr.list AS list, lr.grade AS grade,
       lr.authority AS authority, lr.case_no AS case_no, lr.date AS date, lr.source AS source,
       lr.record_id AS record_id, lr.department AS department,
       lr.effective_from AS effective_from, lr.effective_to AS effective_to,
       lr.removed_on AS removed_on, lr.removal_reason AS removal_reason, status
ORDER BY record_uid
