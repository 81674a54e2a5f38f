"""Neo4j Browser's files for investigators, served by the API under /static/browser/ (no key:
they hold queries and colours, no data):

    style.grass        cypher/browser/style.grass as it is
    investigator.html  a Browser guide rendered from cypher/browser/investigator.cypher on each
                       request (one source of truth): a slide for its `:params {...}` command,
                       then one per `// --- Title` block, each query a runnable block

Neo4j Browser fetches both when it connects (`browser.post_connect_cmd`, written by
graph/server.py and docker-compose.yml). It runs on another origin (Neo4j's port), so these
answer cross-origin GETs; its guide fetch sends cache headers, hence the preflight too.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse

from creditgraph import cypher

BROWSER_DIR = Path(cypher.__file__).resolve().parent / "browser"
QUERIES = BROWSER_DIR / "investigator.cypher"
TEMPLATE = BROWSER_DIR / "guide.html"
PARAMS = re.compile(r"^:params \{.*?^\}", re.S | re.M)
BLOCK = re.compile(r"^//[ \t]*---(?P<title>[^\n]+)\n(?P<about>(?://[^\n]*\n)*)(?P<query>.+?);[ \t]*$",
                   re.S | re.M)
PARAM = re.compile(r"\$(\w+)")


@dataclass(frozen=True)
class Block:
    title: str
    about: str
    query: str

    @property
    def params(self) -> list[str]:
        return list(dict.fromkeys(PARAM.findall(self.query)))


def read_queries(text: str) -> tuple[str, list[Block]]:
    """investigator.cypher's `:params {...}` command (one command over several lines) and its
    `// --- Title` blocks: the title, the comment lines under it, the query up to its `;`."""
    params = PARAMS.search(text)
    blocks = [Block(m["title"].strip(), " ".join(line.lstrip("/ ") for line in m["about"].splitlines()),
                    m["query"].strip()) for m in BLOCK.finditer(text)]
    return (params.group(0) if params else ""), blocks


def _slide(title: str, about: str, code: str, note: str = "") -> str:
    about_html = f"<p>{html.escape(about)}</p>" if about else ""
    note_html = f'<p class="small">{html.escape(note)}</p>' if note else ""
    return (f'<slide class="row-fluid"><div class="col-sm-12"><h3>{html.escape(title)}</h3>{about_html}'
            f'<pre class="code runnable">{html.escape(code, quote=False)}</pre>{note_html}</div></slide>')


def guide_html() -> str:
    params, blocks = read_queries(QUERIES.read_text(encoding="utf-8"))
    slides = [_slide("Set the values", "Run this first: the queries take their values from these "
                     "parameters. The ids are the test fixture's: on your graph, find an entity by "
                     "name (next slide), put its id here and run this again.", params)]
    slides += [_slide(b.title, b.about, b.query, "Uses " + ", ".join(f"${p}" for p in b.params)
                      if b.params else "") for b in blocks]
    return TEMPLATE.read_text(encoding="utf-8").replace("<!-- slides -->", "\n".join(slides))


def browser_files() -> FastAPI:
    """The sub-application mounted at /static/browser (no OpenAPI: not part of the API)."""
    sub = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    sub.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=["*"])

    @sub.get("/style.grass")
    def style() -> FileResponse:
        return FileResponse(BROWSER_DIR / "style.grass", media_type="text/plain; charset=utf-8")

    @sub.get("/investigator.html")
    def guide() -> HTMLResponse:
        return HTMLResponse(guide_html())

    return sub
