"""Data only: the named Cypher queries, the schema, the load statements, the joint-discipline
rules and the Browser files. A package so that an installed wheel carries them
(graph.queries finds them through it); there is no code here."""
