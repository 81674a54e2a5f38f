"""Shared by the graph store tests (fixture path, Neo4j address and auth)."""
from __future__ import annotations

import os
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"
NEO4J_URI = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")


def neo4j_auth():
    password = os.environ.get("NEO4J_PASSWORD")
    return (os.environ.get("NEO4J_USER") or "neo4j", password) if password else None
