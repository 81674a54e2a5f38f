// Statements that apply an ingest's change (graph/apply_changes.py, `creditgraph load --changes`)
// to a loaded graph: only the entities the ingest touched. The entities to upsert lose their
// relations and list records here, then the loader's merge_* statements (load.cypher) write
// them again from the output's rows; retired entities go with their relations.

// name: changes_contacts
// The Address and Phone nodes of these entities: checked for orphans once the change is applied.
UNWIND $ids AS id
MATCH (:Entity {entity_id: id})-[:AT|HAS_PHONE]->(c)
RETURN collect(DISTINCT c.key) AS addresses, collect(DISTINCT c.number) AS phones

// name: changes_drop_records
// List records of these entities, and the records the batch deleted (gone from the output).
CALL () {
  UNWIND $ids AS id
  MATCH (:Entity {entity_id: id})-[:HAS_RECORD]->(r:ListRecord)
  RETURN r
  UNION
  UNWIND $uids AS uid
  MATCH (r:ListRecord {record_uid: uid})
  RETURN r
}
DETACH DELETE r

// name: changes_drop_relations
// Every relation of the entities to upsert: written again from relations.csv and the queue.
UNWIND $ids AS id
MATCH (:Entity {entity_id: id})-[r]-()
WHERE type(r) IN $types
DELETE r

// name: changes_drop_entities
// Retired entities (merged into another, split, renamed, every mention deleted).
UNWIND $ids AS id
MATCH (n:Entity {entity_id: id})
DETACH DELETE n

// name: changes_drop_orphans
// Addresses and phones that no entity is at or has any more.
CALL () {
  UNWIND $addresses AS k
  MATCH (a:Address {key: k})
  WHERE NOT (a)--()
  RETURN a AS c
  UNION
  UNWIND $phones AS k
  MATCH (p:Phone {number: k})
  WHERE NOT (p)--()
  RETURN p AS c
}
DELETE c

// name: changes_applied
// The load state names the output and the change it holds now.
MERGE (s:LoadState {key: 'current'})
SET s.content_hash = $content_hash, s.change = $change, s.change_applied_at = $loaded_at
RETURN s.run_id AS run_id
