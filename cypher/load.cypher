// Loader statements (graph/neo4j_store.py). Each batch is `UNWIND $rows AS row MERGE ...`
// on the node's key or the relation's `key` (from|TYPE|role|to); `SET x = row.props`
// replaces every property, so a value dropped upstream disappears here too. Every node and
// relation written gets the load's `run_id` and `loaded_at`; anything left with an older
// run_id after a complete load is removed by the retire_* statements.
// The batch and its checkpoint (LoadState.batches_done) commit in one transaction.

// name: merge_Enterprise
UNWIND $rows AS row
MERGE (n:Entity {entity_id: row.id})
SET n = row.props, n:Enterprise, n.run_id = $run_id, n.loaded_at = $loaded_at

// name: merge_Person
UNWIND $rows AS row
MERGE (n:Entity {entity_id: row.id})
SET n = row.props, n:Person, n.run_id = $run_id, n.loaded_at = $loaded_at

// name: merge_ListRecord
UNWIND $rows AS row
MERGE (n:ListRecord {record_uid: row.id})
SET n = row.props, n.run_id = $run_id, n.loaded_at = $loaded_at

// name: merge_Address
UNWIND $rows AS row
MERGE (n:Address {key: row.id})
SET n = row.props, n.run_id = $run_id, n.loaded_at = $loaded_at

// name: merge_Phone
UNWIND $rows AS row
MERGE (n:Phone {number: row.id})
SET n = row.props, n.run_id = $run_id, n.loaded_at = $loaded_at

// name: merge_LEGAL_REP_OF
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:LEGAL_REP_OF {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_SHAREHOLDER_OF
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:SHAREHOLDER_OF {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_EXECUTIVE_OF
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:EXECUTIVE_OF {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_BRANCH_OF
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:BRANCH_OF {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_GUARANTEES
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:GUARANTEES {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_EMPLOYED_BY
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:EMPLOYED_BY {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_POSSIBLY_SAME_AS
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Entity {entity_id: row.to})
MERGE (a)-[r:POSSIBLY_SAME_AS {key: row.props.key}]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_HAS_RECORD
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:ListRecord {record_uid: row.to})
MERGE (a)-[r:HAS_RECORD]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_AT
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Address {key: row.to})
MERGE (a)-[r:AT]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: merge_HAS_PHONE
UNWIND $rows AS row
MATCH (a:Entity {entity_id: row.from}), (b:Phone {number: row.to})
MERGE (a)-[r:HAS_PHONE]->(b)
SET r = row.props, r.run_id = $run_id, r.loaded_at = $loaded_at

// name: load_state
MATCH (s:LoadState {key: 'current'})
RETURN s.run_id AS run_id, s.content_hash AS content_hash, s.status AS status,
       s.batches_done AS batches_done, s.batch_size AS batch_size

// name: load_begin
MERGE (s:LoadState {key: 'current'})
SET s.run_id = $run_id, s.content_hash = $content_hash, s.status = 'running',
    s.batches_done = 0, s.batch_size = $batch_size, s.started_at = $loaded_at

// name: load_checkpoint
MATCH (s:LoadState {key: 'current'})
WHERE s.run_id = $run_id
SET s.batches_done = $batches_done

// name: load_complete
MATCH (s:LoadState {key: 'current'})
WHERE s.run_id = $run_id
SET s.status = 'complete', s.completed_at = $loaded_at

// name: retire_relations
// Relations of the graph's types not written by this run (absent from the new output).
MATCH ()-[r]->()
WHERE type(r) IN $types AND (r.run_id IS NULL OR r.run_id <> $run_id)
CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS

// name: retire_nodes
// Nodes of the graph's labels not written by this run; DETACH takes their relations along.
MATCH (n)
WHERE any(l IN labels(n) WHERE l IN $labels) AND (n.run_id IS NULL OR n.run_id <> $run_id)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS

// name: count_graph
CALL () { MATCH (n) WHERE any(l IN labels(n) WHERE l IN $labels) RETURN count(n) AS nodes }
CALL () { MATCH ()-[r]->() WHERE type(r) IN $types RETURN count(r) AS relations }
RETURN nodes, relations
