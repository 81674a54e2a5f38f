"""Locust users for benchmarks/api_load.py: entity detail and related parties on random ids, and
CG_BENCH_SEARCHERS of the clients (fixed count) searching by name.

Env: CG_BENCH_IDS (file of entity ids, one a line), CG_BENCH_KEY (API key),
CG_BENCH_DEPTH (related parties depth, default 2), CG_BENCH_WAIT (max think time in s, default 0),
CG_BENCH_CLIENT (`fast`: FastHttpUser, geventhttpclient, the default; `requests`: HttpUser),
CG_BENCH_NAMES (file of name queries, one a line), CG_BENCH_SEARCHERS (default 0).
"""
import os
import random
from urllib.parse import quote

from locust import FastHttpUser, HttpUser, between, constant, task

IDS = [x.strip() for x in open(os.environ["CG_BENCH_IDS"], encoding="utf-8") if x.strip()]
KEY = os.environ["CG_BENCH_KEY"]
DEPTH = int(os.environ.get("CG_BENCH_DEPTH", "2"))
WAIT = float(os.environ.get("CG_BENCH_WAIT", "0"))
HEADERS = {"X-API-Key": KEY, "X-Purpose": "api load benchmark"}
Base = HttpUser if os.environ.get("CG_BENCH_CLIENT") == "requests" else FastHttpUser
SEARCHERS = int(os.environ.get("CG_BENCH_SEARCHERS", "0"))
NAMES = ([x.strip() for x in open(os.environ["CG_BENCH_NAMES"], encoding="utf-8") if x.strip()]
         if SEARCHERS else [])


class ApiUser(Base):
    wait_time = between(0, WAIT) if WAIT > 0 else constant(0)

    @task(3)
    def entity_detail(self):
        self.client.get(f"/entities/{random.choice(IDS)}", name="entity detail", headers=HEADERS)

    @task(1)
    def related(self):
        self.client.get(f"/entities/{random.choice(IDS)}/related?depth={DEPTH}&limit=100",
                        name=f"related parties depth {DEPTH}", headers=HEADERS)


class SearchUser(Base):
    """An investigator looking firms and persons up by name (exactly SEARCHERS of the clients)."""
    abstract = SEARCHERS == 0  # locust spawns a class with fixed_count 0 by weight
    fixed_count = SEARCHERS
    wait_time = ApiUser.wait_time

    @task
    def search(self):
        self.client.get(f"/search/name?q={quote(random.choice(NAMES))}&limit=20", name="name search",
                        headers=HEADERS)
