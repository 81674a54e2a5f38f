// Graph schema: constraints and indexes, all idempotent (IF NOT EXISTS).
// Run by the loader before every load (graph/neo4j_store.py); safe to paste into Neo4j Browser.
// Community edition has uniqueness constraints (each backed by a range index) but no
// existence or node key constraints.

// name: constraint_entity_id
// Every :Enterprise and :Person also carries :Entity; entity ids are unique across both.
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.entity_id IS UNIQUE

// name: constraint_list_record
CREATE CONSTRAINT list_record_uid IF NOT EXISTS FOR (n:ListRecord) REQUIRE n.record_uid IS UNIQUE

// name: constraint_address
CREATE CONSTRAINT address_key IF NOT EXISTS FOR (n:Address) REQUIRE n.key IS UNIQUE

// name: constraint_phone
CREATE CONSTRAINT phone_number IF NOT EXISTS FOR (n:Phone) REQUIRE n.number IS UNIQUE

// name: constraint_load_state
CREATE CONSTRAINT load_state_key IF NOT EXISTS FOR (n:LoadState) REQUIRE n.key IS UNIQUE

// name: index_identifier
// USCC (or the bare organisation code for old records) of enterprises.
CREATE INDEX enterprise_identifier IF NOT EXISTS FOR (n:Enterprise) ON (n.identifier)

// name: index_org_code
CREATE INDEX enterprise_org_code IF NOT EXISTS FOR (n:Enterprise) ON (n.org_code)

// name: index_id_hash
// Keyed HMAC of a person's identity number; the number itself is never in the graph.
CREATE INDEX person_id_hash IF NOT EXISTS FOR (n:Person) ON (n.id_hash)

// name: index_list
CREATE INDEX list_record_list IF NOT EXISTS FOR (n:ListRecord) ON (n.list)

// name: fulltext_names
// Names and aliases of enterprises and persons, CJK analyzer (overlapping bigrams), so that
// 鑫达贸易 finds 营口市鑫达贸易有限公司 and 鑫达贸易(营口)有限公司. Eventually consistent: commits
// do not wait for Lucene (about 45% of node load time otherwise); the loader calls
// db.index.fulltext.awaitEventuallyConsistentIndexRefresh() before it reports a load complete.
CREATE FULLTEXT INDEX entity_names IF NOT EXISTS
FOR (n:Enterprise|Person) ON EACH [n.name, n.aliases]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk', `fulltext.eventually_consistent`: true}}
