// Investigator's queries for Neo4j Browser (http://127.0.0.1:7474/browser/).
//
// Browser shows them as a guide when it connects, with style.grass applied (enterprises blue,
// persons light blue, list records red, addresses yellow, phones purple; captions with names,
// shareholding ratios, executive roles and guarantee amounts): the creditgraph API renders
// this file as the guide (api/browser_guide.py), so a block added here is a slide there.
// Without the API: drag style.grass onto the Browser window and paste the blocks by hand.
//
// Format, read by the guide: the `:params {...}` command sets the values (parameters, never
// typed into the query text; run it as one command); each block is `// --- Title`, comment
// lines saying what it answers, then the query up to its `;`. Each is also a named query the API answers (cypher/*.cypher has the
// tabular form with its row shape); the blocks here return graphs (paths) to look at.

:params {
  entity_id: 'E-0001',
  other_id: 'E-0012',
  types: ['LEGAL_REP_OF', 'SHAREHOLDER_OF', 'EXECUTIVE_OF', 'BRANCH_OF', 'GUARANTEES', 'EMPLOYED_BY'],
  threshold: 0.25,
  max_sharing: 20,
  q: '鑫达贸易',
  as_of: toString(date())
}

// --- Find an entity by name
// Full-text, CJK bigrams, tolerant of dropped divisions, brackets, forms and homophone typos.
// Plain text only: no Lucene operators.
CALL db.index.fulltext.queryNodes('entity_names', $q, {limit: 20}) YIELD node, score
RETURN node.entity_id AS entity_id, node.kind AS kind, node.name AS name, node.aliases AS aliases,
       score
ORDER BY score DESC LIMIT 20;

// --- The entity, its list records, addresses and phones
MATCH (n:Entity {entity_id: $entity_id})
OPTIONAL MATCH p = (n)-[:HAS_RECORD|AT|HAS_PHONE]->()
RETURN n, p;

// --- Related parties within 2 hops
// Change *1..2 to *1..3 for three; paths over $types.
MATCH p = (s:Entity {entity_id: $entity_id})-[rels*1..2]-(o:Entity)
WHERE all(r IN rels WHERE type(r) IN $types)
RETURN p LIMIT 300;

// --- Who else does its legal representative run?
// "Who else does this blacklisted company's legal representative run?"
MATCH (s:Entity {entity_id: $entity_id})<-[:LEGAL_REP_OF]-(p:Person)
MATCH g = (p)-[:LEGAL_REP_OF|EXECUTIVE_OF|SHAREHOLDER_OF]->(other:Enterprise)
OPTIONAL MATCH l = (other)-[:HAS_RECORD]->(:ListRecord)
RETURN g, l;

// --- Ownership chains
// Every shareholder chain up to 5 levels (equity penetration chart).
MATCH p = (o:Entity)-[:SHAREHOLDER_OF*1..5]->(f:Entity {entity_id: $entity_id})
RETURN p;

// --- Beneficial owners
// Persons owning $threshold or more ultimately: ratios multiplied along a chain, added across
// chains. A table.
MATCH (f:Entity {entity_id: $entity_id})
MATCH p = (o:Person)-[rels:SHAREHOLDER_OF*1..5]->(f)
WITH o, reduce(x = 1.0, r IN rels | x * coalesce(r.ratio, 0.0)) AS share,
     [n IN nodes(p) | n.name] AS chain
WITH o, sum(share) AS total, collect({share: round(share, 4), chain: chain}) AS chains
WHERE total >= $threshold
RETURN o.entity_id AS person_id, o.name AS name, round(total, 4) AS share, chains
ORDER BY share DESC;

// --- Joint discipline, reverse
// Is this candidate, its legal representative, an executive or a (>= 25%) shareholder on a
// list with a record in force on $as_of (YYYY-MM-DD; today unless set)? A record is in force
// from effective_from through effective_to, until removed_on (docs/architecture.md).
MATCH (c:Entity {entity_id: $entity_id})
OPTIONAL MATCH p1 = (c)-[:HAS_RECORD]->(r1:ListRecord)
  WHERE coalesce(r1.effective_from <= $as_of, true) AND coalesce($as_of <= r1.effective_to, true)
    AND coalesce($as_of < r1.removed_on, true)
OPTIONAL MATCH p2 = (c)<-[:LEGAL_REP_OF|EXECUTIVE_OF]-(:Entity)-[:HAS_RECORD]->(r2:ListRecord)
  WHERE coalesce(r2.effective_from <= $as_of, true) AND coalesce($as_of <= r2.effective_to, true)
    AND coalesce($as_of < r2.removed_on, true)
OPTIONAL MATCH p3 = (c)<-[:SHAREHOLDER_OF*1..5]-(:Person)-[:HAS_RECORD]->(r3:ListRecord)
  WHERE coalesce(r3.effective_from <= $as_of, true) AND coalesce($as_of <= r3.effective_to, true)
    AND coalesce($as_of < r3.removed_on, true)
RETURN p1, p2, p3;

// --- Joint discipline, forward
// A listed enterprise, its records in force on $as_of, and the persons they reach.
MATCH (s:Enterprise {entity_id: $entity_id})-[:HAS_RECORD]->(lr:ListRecord)
WHERE coalesce(lr.effective_from <= $as_of, true) AND coalesce($as_of <= lr.effective_to, true)
  AND coalesce($as_of < lr.removed_on, true)
MATCH p = (s)<-[:LEGAL_REP_OF|EXECUTIVE_OF]-(:Person)
RETURN s, lr, p;

// --- An entity's records over time
// Every list record of the entity, in force or not (ended, removed, not yet): the history.
MATCH p = (s:Entity {entity_id: $entity_id})-[:HAS_RECORD]->(:ListRecord)
RETURN p;

// --- Guarantee circles through the entity
// Up to 6 firms.
MATCH p = (s:Entity {entity_id: $entity_id})-[:GUARANTEES*2..6]->(s)
RETURN p;

// --- Every guarantee circle in the graph
// Each found once, from its smallest id.
MATCH p = (s:Entity)-[:GUARANTEES*2..6]->(s)
WHERE all(n IN nodes(p) WHERE s.entity_id <= n.entity_id)
RETURN p LIMIT 100;

// --- Firms sharing an address or phone
// Contacts held by more than $max_sharing entities (an incubator, a registration agent) are
// skipped.
MATCH (s:Entity {entity_id: $entity_id})-[:AT|HAS_PHONE]->(c)
WHERE COUNT { (c)<-[:AT|HAS_PHONE]-(:Entity) } <= $max_sharing
MATCH p = (c)<-[:AT|HAS_PHONE]-(o:Entity)
RETURN s, p;

// --- How are two parties connected?
// All shortest paths, up to 6 hops.
MATCH (a:Entity {entity_id: $entity_id}), (b:Entity {entity_id: $other_id})
MATCH p = allShortestPaths((a)-[rels*..6]-(b))
WHERE all(r IN rels WHERE type(r) IN $types)
RETURN p LIMIT 25;

// --- Pairs the linkage could not decide
// A steward's queue, as a graph.
MATCH p = (:Entity)-[r:POSSIBLY_SAME_AS]->(:Entity)
RETURN p ORDER BY r.score DESC LIMIT 100;
