"""Neo4j Browser opens ready for investigators and calls out to no one.

- The neo4j.conf graph/server.py wrote for the running server, and docker-compose.yml, hold the
  same no-calls-out settings and point Browser at the API's style and guide.
- The guide the API serves holds the `:params` command and every query of
  cypher/browser/investigator.cypher, and each query runs on Neo4j with those values.
- In Debian's chromium, with every request off loopback refused, against the server scripts/test
  started: after connecting, the guide is in the sidebar, its values and one of its queries run
  and draw the graph in the style's colours, and no banner asks for usage data.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

from creditgraph.api.app import create_app
from creditgraph.api.browser_guide import QUERIES
from creditgraph.base.settings import Settings
from creditgraph.graph import server
from graph_helpers import FIXTURE, neo4j_auth
from live_server import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path("/tmp/creditgraph_browser_guide.png")
ENTERPRISE_BLUE = "#4C8EDA"  # node.Enterprise in cypher/browser/style.grass
AT_CAPTION = "住所"  # relationship.AT's caption there (Browser's own caption is the type, AT)
BANNER = "collect information on product usage"  # Browser's usage-data banner


def conf_of_running_server() -> dict[str, str]:
    info = server.status()
    if not info["running"]:
        pytest.fail(f"no local Neo4j runs from {info['home']} (scripts/test starts one)")
    lines = (Path(info["home"]) / "conf" / "neo4j.conf").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def compose_env_name(setting: str) -> str:
    """The official image's variable for a setting: `_` doubled, then `.` -> `_`."""
    return "NEO4J_" + setting.replace("_", "__").replace(".", "_")


@pytest.mark.neo4j
def test_server_conf_calls_out_to_no_one_and_opens_the_guide(neo4j_uri):
    conf = conf_of_running_server()
    assert {k: conf.get(k) for k in server.NO_CALLS_OUT} == server.NO_CALLS_OUT
    assert conf["dbms.usage_report.enabled"] == "false" and conf["client.allow_telemetry"] == "false"
    api = os.environ.get("CREDITGRAPH_API_URL") or server.DEFAULT_API_URL
    assert conf["browser.post_connect_cmd"] == server.post_connect_cmd(api)


def test_compose_sets_the_same():
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["neo4j"]["environment"]
    for setting, value in server.NO_CALLS_OUT.items():
        assert env.get(compose_env_name(setting)) == value, setting
    # the API as the investigator's browser reaches it: the port compose publishes
    assert env[compose_env_name("browser.post_connect_cmd")] == server.post_connect_cmd(
        "http://localhost:${API_PORT:-8000}")


def guide_parts(text: str) -> tuple[str, list[str]]:
    """investigator.cypher read without the guide's parser: comments dropped, the `:params`
    command up to its closing brace, then the queries between semicolons."""
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    params_end = code.index("}\n") + 1
    queries = [q.strip() for q in code[params_end:].split(";") if q.strip()]
    return code[:params_end].strip(), queries


@pytest.fixture()
def guide_app(tmp_path):
    """The API over an empty embedded store: the guide and style hold no data."""
    return create_app(settings=Settings(data=tmp_path, id_key="guide-test"))


def test_guide_holds_every_query_of_the_cypher_file(guide_app):
    client = TestClient(guide_app)
    page = client.get(server.BROWSER_GUIDE_PATH, headers={"Origin": "http://127.0.0.1:7474"})
    assert page.status_code == 200 and page.headers["access-control-allow-origin"] == "*"
    runnable = [html.unescape(b).strip() for b in re.findall(r'<pre class="code runnable">(.*?)</pre>',
                                                            page.text, re.S)]
    params, queries = guide_parts(QUERIES.read_text(encoding="utf-8"))
    assert len(queries) >= 10 and runnable == [params, *queries]
    style = client.get(server.BROWSER_STYLE_PATH, headers={"Origin": "http://127.0.0.1:7474"})
    assert style.headers["access-control-allow-origin"] == "*" and ENTERPRISE_BLUE in style.text


@pytest.mark.neo4j
def test_every_guide_query_runs_with_the_guide_values(neo4j_store, neo4j_uri):
    from neo4j import GraphDatabase
    neo4j_store.load(FIXTURE)
    params_cmd, queries = guide_parts(QUERIES.read_text(encoding="utf-8"))
    with GraphDatabase.driver(neo4j_uri, auth=neo4j_auth()) as driver:
        # the :params map is a Cypher map literal: Neo4j reads the values the guide sets
        params = driver.execute_query("RETURN " + params_cmd.removeprefix(":params") + " AS p").records[0]["p"]
        empty = [q.splitlines()[0] for q in queries if not driver.execute_query(q, params).records]
    # every query answers, but the fixture holds no guarantee circle through E-0001
    assert empty == ["MATCH p = (s:Entity {entity_id: $entity_id})-[:GUARANTEES*2..6]->(s)"]


@pytest.fixture()
def live_api(guide_app):
    with serve_in_thread(guide_app) as base:
        yield base


@pytest.mark.neo4j
@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")
def test_browser_opens_with_the_guide_and_runs_its_queries(neo4j_store, live_api):
    from playwright.sync_api import expect, sync_playwright
    neo4j_store.load(FIXTURE)
    conf = conf_of_running_server()
    # The conf names the API where `creditgraph serve` listens; this test's API listens on a free
    # port, so what Browser asks there is answered by it.
    api_origin = "{0.scheme}://{0.netloc}".format(urlsplit(re.findall(r"http\S+", conf["browser.post_connect_cmd"])[0]))
    refused = []

    def offline(route):  # the network is off: only loopback answers
        url = route.request.url
        if url.startswith(api_origin + "/"):
            return route.fulfill(response=route.fetch(url=live_api + url[len(api_origin):]))
        if urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            return route.continue_()
        refused.append(url)
        return route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", offline)
            page.goto(server.status()["browser_url"])
            connect(page)
            sidebar = page.get_by_test_id("guidesDrawer")
            expect(sidebar.get_by_role("heading", name="creditgraph: investigator's queries").first).to_be_visible(
                timeout=60_000)
            next_slide = page.get_by_test_id("guideNextSlide")
            next_slide.click()
            expect(sidebar.get_by_role("heading", name="Set the values")).to_be_visible()
            sidebar.locator("pre.runnable i").click()  # the play icon: runs :params at once
            expect(page.get_by_test_id("frame").filter(has_text='"entity_id": "E-0001"').first).to_be_visible()
            next_slide.click()
            next_slide.click()
            expect(sidebar.get_by_role("heading", name="The entity, its list records")).to_be_visible()
            sidebar.locator("pre.runnable i").click()
            result = page.get_by_test_id("frame").filter(has_text="ListRecord").first
            expect(result.locator("svg text", has_text=AT_CAPTION).first).to_be_visible(timeout=30_000)
            expect(result.locator(f"circle[fill='{ENTERPRISE_BLUE}']").first).to_be_visible()
            page.screenshot(path=str(SCREENSHOT))
            expect(page.get_by_text(BANNER)).to_have_count(0)
        finally:
            browser.close()
    assert refused == []


def connect(page) -> None:
    """The connect form Browser shows first: no authentication under scripts/test."""
    auth = neo4j_auth()
    button = page.get_by_test_id("connect")
    button.wait_for(timeout=60_000)
    if auth:
        page.get_by_test_id("username").fill(auth[0])
        page.get_by_test_id("password").fill(auth[1])
    else:
        page.get_by_test_id("authenticationMethod").select_option(label="No authentication")
    button.click()
