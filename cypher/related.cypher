// Relation paths around entities: related parties, shortest paths, shared contacts.
//
// A path is a list of steps {from, type, to} in the order walked from the start; each step
// names the relation as stored (from = its start node), so a walk may go against the arrow:
// [{from: P-1, type: LEGAL_REP_OF, to: E-1}, {from: P-1, type: LEGAL_REP_OF, to: E-2}] reads
// "E-1's legal representative P-1 is also E-2's legal representative".
// $types filters relation types with `type(r) IN $types` (never spliced into the text); the
// stores check it against LEGAL_REP_OF, SHAREHOLDER_OF, EXECUTIVE_OF, BRANCH_OF, GUARANTEES,
// EMPLOYED_BY, POSSIBLY_SAME_AS.
//
// Depth bounds: Cypher cannot take a variable-length bound as a parameter. related_parties
// keeps one statement per allowed depth (1, 2, 3; `when: depth=N`), so a depth-1 call never
// expands three hops: the row count grows with the degree cubed, and pruning early is what
// keeps depth 3 within tens of milliseconds. shortest_path keeps a fixed cap (10) and filters
// length <= $max_len after the breadth-first search, which stops at the shortest length anyway.

// name: related_parties
// when: depth=1
// defaults: {"depth": 2, "types": ["LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF", "BRANCH_OF", "GUARANTEES", "EMPLOYED_BY"]}
// Entities within $depth hops of $entity_id over $types, in either direction. One row per
// related entity: {entity_id, kind, name, distance (hops), path} where path is the shortest
// walk (ties: the smallest by its steps' "TYPE from to" keys, so both stores agree),
// ordered by distance, then entity_id. Default depth 2, types: all but POSSIBLY_SAME_AS.
MATCH (s:Entity {entity_id: $entity_id})
MATCH p = (s)-[rels*1..1]-(o:Entity)
WHERE o <> s AND all(r IN rels WHERE type(r) IN $types)
WITH o, length(p) AS distance,
     [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
ORDER BY distance, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
WITH o, head(collect({distance: distance, path: path})) AS best
RETURN o.entity_id AS entity_id, o.kind AS kind, o.name AS name,
       best.distance AS distance, best.path AS path
ORDER BY distance, entity_id

// name: related_parties
// when: depth=2
MATCH (s:Entity {entity_id: $entity_id})
MATCH p = (s)-[rels*1..2]-(o:Entity)
WHERE o <> s AND all(r IN rels WHERE type(r) IN $types)
WITH o, length(p) AS distance,
     [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
ORDER BY distance, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
WITH o, head(collect({distance: distance, path: path})) AS best
RETURN o.entity_id AS entity_id, o.kind AS kind, o.name AS name,
       best.distance AS distance, best.path AS path
ORDER BY distance, entity_id

// name: related_parties
// when: depth=3
MATCH (s:Entity {entity_id: $entity_id})
MATCH p = (s)-[rels*1..3]-(o:Entity)
WHERE o <> s AND all(r IN rels WHERE type(r) IN $types)
WITH o, length(p) AS distance,
     [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
ORDER BY distance, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
WITH o, head(collect({distance: distance, path: path})) AS best
RETURN o.entity_id AS entity_id, o.kind AS kind, o.name AS name,
       best.distance AS distance, best.path AS path
ORDER BY distance, entity_id

// name: shortest_path
// defaults: {"max_len": 6, "limit": 10, "types": ["LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF", "BRANCH_OF", "GUARANTEES", "EMPLOYED_BY"]}
// range: max_len=1..10
// How are $from_id and $to_id connected? All shortest walks (either direction) over $types,
// no longer than $max_len (at most 10). Rows: {length, nodes [entity ids from start to end],
// path [{from, type, to}]}, ordered by the steps' "TYPE from to" keys, at most $limit.
// No row when the two are the same, unknown or not connected within $max_len.
MATCH (a:Entity {entity_id: $from_id}), (b:Entity {entity_id: $to_id})
WHERE a <> b
MATCH p = allShortestPaths((a)-[rels*..10]-(b))
WHERE all(r IN rels WHERE type(r) IN $types)
WITH p, rels WHERE length(p) <= $max_len
WITH length(p) AS length, [n IN nodes(p) | n.entity_id] AS nodes,
     [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id}] AS path
RETURN DISTINCT length, nodes, path
ORDER BY [st IN path | st.type + ' ' + st.from + ' ' + st.to]
LIMIT $limit

// name: shared_contacts
// defaults: {"max_sharing": 20}
// Entities sharing an address or a phone with $entity_id (a suspected tie). A contact held by
// more than $max_sharing entities (an incubator, a registration agent) is ignored; each
// shared contact held by k entities weighs 1/(k-1), so a contact shared by two weighs 1.
// Rows: {entity_id, kind, name, shared (number of shared contacts), weight (rounded to 6
// places), contacts [{type: 'address'|'phone', value, sharing (k)}] by type, value}, ordered
// by weight descending, then shared descending, then entity_id.
MATCH (s:Entity {entity_id: $entity_id})-[:AT|HAS_PHONE]->(c)
WITH s, c, COUNT { (c)<-[:AT|HAS_PHONE]-(:Entity) } AS sharing
WHERE sharing <= $max_sharing
MATCH (c)<-[:AT|HAS_PHONE]-(o:Entity)
WHERE o <> s
WITH o, c, sharing,
     CASE WHEN c:Address THEN 'address' ELSE 'phone' END AS type,
     coalesce(c.key, c.number) AS value
ORDER BY type, value
WITH o, collect({type: type, value: value, sharing: sharing}) AS contacts,
     sum(1.0 / (sharing - 1)) AS weight
RETURN o.entity_id AS entity_id, o.kind AS kind, o.name AS name, size(contacts) AS shared,
       round(weight, 6) AS weight, contacts
ORDER BY weight DESC, shared DESC, entity_id
