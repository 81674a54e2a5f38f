// Ownership: beneficial owners and guarantee circles.
//
// Ultimate share: along each SHAREHOLDER_OF chain from a natural person to the firm (at most 5
// hops, no entity visited twice) multiply the ratios (a missing ratio counts 0); add the chains
// of the same person (2024 beneficial owner measures: 25% or more, ultimately).

// name: beneficial_owners
// defaults: {"threshold": 0.25}
// Natural persons holding at least $threshold (default 0.25) of $entity_id ultimately.
// Rows: {person_id, name, share (rounded to 6 places), chains [{share, path [{from, type,
// to, ratio}]}] by share descending then path}, ordered by share descending, then person_id.
// Example: P holds 50% of H, H holds 60% of F: P's share of F is 0.6 * 0.5 = 0.30.
MATCH (f:Entity {entity_id: $entity_id})
MATCH p = (o:Person)-[rels:SHAREHOLDER_OF*1..5]->(f)
WHERE size(nodes(p)) = size(reduce(seen = [], n IN nodes(p) | CASE WHEN n IN seen THEN seen ELSE seen + [n] END))
WITH o, reduce(x = 1.0, r IN rels | x * coalesce(r.ratio, 0.0)) AS share,
     [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id,
                   ratio: r.ratio}] AS path
ORDER BY round(share, 6) DESC, [st IN path | st.type + ' ' + st.from + ' ' + st.to]
WITH o, sum(share) AS total, collect({share: round(share, 6), path: path}) AS chains
WHERE round(total, 9) >= $threshold
RETURN o.entity_id AS person_id, o.name AS name, round(total, 6) AS share, chains
ORDER BY share DESC, person_id

// name: shareholders
// defaults: {"threshold": 0.25}
// The direct shareholders (persons or enterprises) of $entity_id holding at least $threshold
// of it (a missing ratio counts 0; two recorded holdings of one holder: the larger). Rows:
// {entity_id, kind, name, identifier, identifier_type, id_masked, ratio, path [{from, type,
// to, ratio}]}, ordered by ratio descending, then entity_id. The credit profile asks which
// of them are under discipline.
MATCH (h:Entity)-[r:SHAREHOLDER_OF]->(f:Entity {entity_id: $entity_id})
WITH h, f, max(coalesce(r.ratio, 0.0)) AS ratio
WHERE round(ratio, 9) >= $threshold
RETURN h.entity_id AS entity_id, h.kind AS kind, h.name AS name, h.identifier AS identifier,
       h.identifier_type AS identifier_type, h.id_masked AS id_masked, ratio,
       [{from: h.entity_id, type: 'SHAREHOLDER_OF', to: f.entity_id, ratio: ratio}] AS path
ORDER BY ratio DESC, entity_id

// name: guarantee_circles
// when: entity_id=*
// defaults: {"max_len": 6, "entity_id": null}
// range: max_len=2..8
// Guarantee circles (担保圈): directed cycles of GUARANTEES of 2..$max_len firms (at most 8:
// a fixed cap, filtered by length), each firm once. With $entity_id: the circles through it;
// with entity_id null: every circle in the graph (each found once, from its smallest id).
// Rows: {circle [entity ids, rotated to start at the smallest id], length, steps [{from,
// type, to, amount}] in circle order}, ordered by length, then circle.
MATCH p = (s:Entity {entity_id: $entity_id})-[rels:GUARANTEES*2..8]->(s)
WHERE length(p) <= $max_len AND size(nodes(p)) - 1 = size(reduce(seen = [], n IN nodes(p)[1..] |
      CASE WHEN n IN seen THEN seen ELSE seen + [n] END))
WITH [n IN nodes(p)[..-1] | n.entity_id] AS ids, rels
WITH ids, rels, reduce(m = ids[0], x IN ids | CASE WHEN x < m THEN x ELSE m END) AS first
WITH ids, rels, [k IN range(0, size(ids) - 1) WHERE ids[k] = first][0] AS i
WITH ids[i..] + ids[..i] AS circle, rels[i..] + rels[..i] AS rels
RETURN DISTINCT circle, size(circle) AS length,
       [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id,
                     amount: r.amount}] AS steps
ORDER BY length, circle

// name: guarantee_circles
// when: entity_id=null
// range: max_len=2..8
MATCH p = (s:Entity)-[rels:GUARANTEES*2..8]->(s)
WHERE length(p) <= $max_len AND $entity_id IS NULL
  AND all(n IN nodes(p) WHERE s.entity_id <= n.entity_id)
  AND size(nodes(p)) - 1 = size(reduce(seen = [], n IN nodes(p)[1..] |
      CASE WHEN n IN seen THEN seen ELSE seen + [n] END))
WITH [n IN nodes(p)[..-1] | n.entity_id] AS circle, rels
RETURN DISTINCT circle, size(circle) AS length,
       [r IN rels | {from: startNode(r).entity_id, type: type(r), to: endNode(r).entity_id,
                     amount: r.amount}] AS steps
ORDER BY length, circle
