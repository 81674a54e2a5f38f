// Joint discipline (联合惩戒) and incentives: who a listing reaches, and whether a candidate is
// reached.
//
// $rules (a list of {list, subject_kind, rule, kind, basis, measures, roles}) comes from
// cypher/joint_discipline_rules.yaml; the stores pass it unless the caller does. kind:
// 'discipline' (a negative list's joint discipline) or 'incentive' (a positive list's
// measures, reaching the listed subject itself: role self). Roles:
//   self        the listed subject itself (path [])
//   legal_rep   (person)-[:LEGAL_REP_OF]->(firm)
//   director, supervisor, manager (senior manager: 经理, 副经理, 财务负责人, ...), finance
//   (financial officer), principal (principal person in charge: 总经理, 厂长, 负责人)
//               (person)-[:EXECUTIVE_OF {role_classes}]->(firm); role text -> classes in
//               graph/load.py ROLE_CLASSES
//   controller  the actual controller: the natural persons whose ultimate share (see
//               beneficial_owners) is >= $threshold (default 0.25); when nobody reaches it,
//               the person(s) with the largest ultimate share (the top shareholder chain).
// Paths are steps {from, type, to} from the role holder to the firm.
//
// Time: $as_of (an ISO date, YYYY-MM-DD; the stores pass today when the caller gives none).
// A record's status at $as_of (graph/store.py record_status; docs/architecture.md):
//   'not_yet' effective_from > $as_of; 'removed' removed_on <= $as_of; 'ended'
//   effective_to < $as_of (effective_to is the last day in force); else 'in_force'.
// Only records in force reach anyone, unless $include_history (default false): then every
// record answers, with its status, for investigators.

// name: joint_discipline_forward
// defaults: {"threshold": 0.25, "include_history": false}
// For a listed subject $entity_id, every person (listed enterprise) or firm (listed person)
// its listings reach under $rules at $as_of, and the subject itself for an incentive rule.
// One row per (list record, rule, role, target):
// {subject_id, subject_name, subject_kind, list, record_uid, rule, kind, basis, measures,
//  role, target_id, target_name, target_kind, share (controller's ultimate share, else null),
//  path, status, effective_from, effective_to, removed_on, removal_reason},
// ordered by record_uid, rule, role, target_id. Lists with no rule (grades) give no row.
MATCH (s:Entity {entity_id: $entity_id})-[:HAS_RECORD]->(lr:ListRecord)
WITH s, lr, CASE WHEN lr.effective_from > $as_of THEN 'not_yet'
                 WHEN lr.removed_on <= $as_of THEN 'removed'
                 WHEN lr.effective_to < $as_of THEN 'ended'
                 ELSE 'in_force' END AS status
WHERE $include_history OR status = 'in_force'
UNWIND [rule IN $rules WHERE rule.list = lr.list AND rule.subject_kind = s.kind] AS rule
UNWIND rule.roles AS role
CALL (s, role) {
  WITH s, role WHERE role = 'self'
  RETURN s AS t, [] AS path, null AS share
  UNION
  WITH s, role WHERE role = 'legal_rep' AND s:Enterprise
  MATCH (s)<-[:LEGAL_REP_OF]-(t:Person)
  RETURN t, [{from: t.entity_id, type: 'LEGAL_REP_OF', to: s.entity_id}] AS path, null AS share
  UNION
  WITH s, role WHERE role = 'legal_rep' AND s:Person
  MATCH (s)-[:LEGAL_REP_OF]->(t:Enterprise)
  RETURN t, [{from: s.entity_id, type: 'LEGAL_REP_OF', to: t.entity_id}] AS path, null AS share
  UNION
  WITH s, role WHERE role IN ['director', 'supervisor', 'manager', 'finance', 'principal'] AND s:Enterprise
  MATCH (s)<-[r:EXECUTIVE_OF]-(t:Person)
  WHERE role IN r.role_classes
  RETURN t, [{from: t.entity_id, type: 'EXECUTIVE_OF', to: s.entity_id}] AS path, null AS share
  UNION
  WITH s, role WHERE role IN ['director', 'supervisor', 'manager', 'finance', 'principal'] AND s:Person
  MATCH (s)-[r:EXECUTIVE_OF]->(t:Enterprise)
  WHERE role IN r.role_classes
  RETURN t, [{from: s.entity_id, type: 'EXECUTIVE_OF', to: t.entity_id}] AS path, null AS share
  UNION
  WITH s, role WHERE role = 'controller' AND s:Enterprise
  MATCH p = (o:Person)-[rels:SHAREHOLDER_OF*1..5]->(s)
  WHERE size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) | CASE WHEN n IN seen THEN seen ELSE seen + [n] END))
  WITH o, reduce(x = 1.0, r IN rels | x * coalesce(r.ratio, 0.0)) AS share,
       [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
  ORDER BY round(share, 6) DESC, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
  WITH o, sum(share) AS total, head(collect(path)) AS path
  WITH collect({o: o, total: total, path: path}) AS owners, max(total) AS top
  WITH owners, top, size([x IN owners WHERE round(x.total, 9) >= $threshold]) AS n_bo
  UNWIND owners AS w
  WITH w, top, n_bo
  WHERE (n_bo > 0 AND round(w.total, 9) >= $threshold) OR (n_bo = 0 AND top > 0 AND w.total = top)
  RETURN w.o AS t, w.path AS path, round(w.total, 6) AS share
  UNION
  WITH s, role WHERE role = 'controller' AND s:Person
  MATCH (s)-[:SHAREHOLDER_OF*1..5]->(f:Enterprise)
  WITH DISTINCT s, f
  CALL (f) {
    MATCH p = (o:Person)-[rels:SHAREHOLDER_OF*1..5]->(f)
    WHERE size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) | CASE WHEN n IN seen THEN seen ELSE seen + [n] END))
    WITH o, reduce(x = 1.0, r IN rels | x * coalesce(r.ratio, 0.0)) AS share,
         [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
    ORDER BY round(share, 6) DESC, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
    WITH o, sum(share) AS total, head(collect(path)) AS path
    WITH collect({o: o, total: total, path: path}) AS owners, max(total) AS top
    WITH owners, top, size([x IN owners WHERE round(x.total, 9) >= $threshold]) AS n_bo
    UNWIND owners AS w
    WITH w, top, n_bo
    WHERE (n_bo > 0 AND round(w.total, 9) >= $threshold) OR (n_bo = 0 AND top > 0 AND w.total = top)
    RETURN w.o AS o, w.path AS path, round(w.total, 6) AS share
  }
  WITH f, o, s, path, share WHERE o = s
  RETURN f AS t, path, share
}
RETURN s.entity_id AS subject_id, s.name AS subject_name, s.kind AS subject_kind,
       lr.list AS list, lr.record_uid AS record_uid, rule.rule AS rule, rule.kind AS kind,
       rule.basis AS basis, rule.measures AS measures,
       role, t.entity_id AS target_id, t.name AS target_name, t.kind AS target_kind,
       share, path, status, lr.effective_from AS effective_from, lr.effective_to AS effective_to,
       lr.removed_on AS removed_on, lr.removal_reason AS removal_reason
ORDER BY record_uid, rule, role, target_id

// name: joint_discipline_reverse
// defaults: {"threshold": 0.25, "include_history": false, "lists": ["dishonest_debtor", "consumption_restriction", "major_tax_violation", "serious_illegal", "customs_dishonest", "wage_arrears"]}
// Is candidate $entity_id (a bidder, an applicant) reached by joint discipline at $as_of, and
// which incentives does it earn? Looks at the candidate itself, its legal representative(s),
// its actual controller(s) (as above) and its executives, and reports each of their records
// on $lists (default: the negative lists; kind 'discipline'), and the candidate's own records
// that an incentive rule of $rules reaches (kind 'incentive', with the rule and its measures).
// Rows: {candidate_id, relation ('self'|'legal_rep'|'controller'|'executive'), role (the
// executive's role text, else null), holder_id, holder_name, holder_kind, list, record_uid,
// authority, case_no, date, share (controller's ultimate share, else null), path (steps
// from the holder to the candidate; [] for self), kind, rule, basis, measures (null for
// 'discipline'), status, effective_from, effective_to, removed_on, removal_reason}, ordered
// by relation (self, legal_rep, controller, executive), holder_id, role, record_uid, kind,
// rule. No row: nothing found.
MATCH (c:Entity {entity_id: $entity_id})
CALL (c) {
  RETURN c AS h, 'self' AS relation, null AS role, [] AS path, null AS share
  UNION
  MATCH (c)<-[:LEGAL_REP_OF]-(h:Entity)
  RETURN h, 'legal_rep' AS relation, null AS role,
         [{from: h.entity_id, type: 'LEGAL_REP_OF', to: c.entity_id}] AS path, null AS share
  UNION
  MATCH (c)<-[r:EXECUTIVE_OF]-(h:Entity)
  RETURN h, 'executive' AS relation, r.role AS role,
         [{from: h.entity_id, type: 'EXECUTIVE_OF', to: c.entity_id}] AS path, null AS share
  UNION
  WITH c WHERE c:Enterprise
  MATCH p = (o:Person)-[rels:SHAREHOLDER_OF*1..5]->(c)
  WHERE size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) | CASE WHEN n IN seen THEN seen ELSE seen + [n] END))
  WITH o, reduce(x = 1.0, r IN rels | x * coalesce(r.ratio, 0.0)) AS share,
       [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
  ORDER BY round(share, 6) DESC, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
  WITH o, sum(share) AS total, head(collect(path)) AS path
  WITH collect({o: o, total: total, path: path}) AS owners, max(total) AS top
  WITH owners, top, size([x IN owners WHERE round(x.total, 9) >= $threshold]) AS n_bo
  UNWIND owners AS w
  WITH w, top, n_bo
  WHERE (n_bo > 0 AND round(w.total, 9) >= $threshold) OR (n_bo = 0 AND top > 0 AND w.total = top)
  RETURN w.o AS h, 'controller' AS relation, null AS role, w.path AS path,
         round(w.total, 6) AS share
}
MATCH (h)-[:HAS_RECORD]->(lr:ListRecord)
WITH c, h, relation, role, path, share, lr,
     CASE WHEN lr.effective_from > $as_of THEN 'not_yet'
          WHEN lr.removed_on <= $as_of THEN 'removed'
          WHEN lr.effective_to < $as_of THEN 'ended'
          ELSE 'in_force' END AS status
WHERE $include_history OR status = 'in_force'
UNWIND CASE WHEN lr.list IN $lists
            THEN [{kind: 'discipline', rule: null, basis: null, measures: null}] ELSE [] END
     + CASE WHEN relation = 'self'
            THEN [r IN $rules WHERE r.kind = 'incentive' AND r.list = lr.list
                  AND r.subject_kind = h.kind
                  | {kind: 'incentive', rule: r.rule, basis: r.basis, measures: r.measures}]
            ELSE [] END AS answer
RETURN c.entity_id AS candidate_id, relation, role, h.entity_id AS holder_id,
       h.name AS holder_name, h.kind AS holder_kind, lr.list AS list,
       lr.record_uid AS record_uid, lr.authority AS authority, lr.case_no AS case_no,
       lr.date AS date, share, path, answer.kind AS kind, answer.rule AS rule,
       answer.basis AS basis, answer.measures AS measures, status,
       lr.effective_from AS effective_from, lr.effective_to AS effective_to,
       lr.removed_on AS removed_on, lr.removal_reason AS removal_reason
ORDER BY CASE relation WHEN 'self' THEN 0 WHEN 'legal_rep' THEN 1 WHEN 'controller' THEN 2
         ELSE 3 END, holder_id, role, record_uid, kind, rule
