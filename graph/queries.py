"""Named Cypher statements read from ``cypher/*.cypher`` (aiosql style).

A file holds statements, each introduced by a header of ``//`` comment lines::

    // name: related_parties
    // when: depth=1
    // defaults: {"types": ["LEGAL_REP_OF", "SHAREHOLDER_OF"]}
    // Free text: the doc comment (what the query answers, its row shape).
    MATCH ... $entity_id ...

* ``name`` (required) names the statement. Several statements may share a name when each has
  a ``when: PARAM=VALUE`` line: the caller's PARAM picks the variant (used where Cypher cannot
  take a parameter, e.g. variable-length bounds).
  ``when: PARAM=*`` is the variant for any value no other variant names (``null`` is JSON null).
* ``defaults`` (JSON) gives the values of optional parameters, once per query (on its first variant).
* ``range: PARAM=LO..HI`` bounds an integer parameter (checked before the driver sees it).
* Every ``$param`` in the text is required unless it has a default; a missing one raises
  :class:`MissingParameter` naming it, an unknown one :class:`UnknownParameter`.
* The text handed to the driver is the file's text as written (a ``LiteralString``): values
  are always passed as parameters, never interpolated.

``schema.cypher`` and ``load.cypher`` hold the loader's statements (``internal``); the other
files hold the public named queries that both stores answer.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, LiteralString, cast

from creditgraph import cypher

# the top-level cypher/ directory, a data-only package so that wheels ship it
CYPHER_DIR = Path(cypher.__file__).resolve().parent
INTERNAL_FILES = {"schema.cypher", "load.cypher", "changes.cypher"}

_HEADER = re.compile(r"^\s*//\s*(name|when|defaults|range)\s*:\s*(.*?)\s*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRING_OR_COMMENT = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*")


class QueryError(ValueError):
    """A named query was called wrongly."""


class UnknownQuery(QueryError):
    pass


class MissingParameter(QueryError):
    pass


class UnknownParameter(QueryError):
    pass


@dataclass(frozen=True)
class Statement:
    name: str
    text: LiteralString
    params: frozenset[str]
    file: str
    doc: str = ""
    when: tuple[str, Any] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class NamedQuery:
    """One public name; one statement, or several variants selected by a parameter."""

    name: str
    statements: list[Statement]
    internal: bool = False

    @property
    def doc(self) -> str:
        return self.statements[0].doc

    @property
    def selector(self) -> str | None:
        return self.statements[0].when[0] if self.statements[0].when else None

    @property
    def defaults(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for st in self.statements:
            out.update(st.defaults)
        return out

    @property
    def params(self) -> frozenset[str]:
        names: set[str] = set()
        for st in self.statements:
            names |= st.params
        if self.selector:
            names.add(self.selector)
        return frozenset(names)

    @property
    def allowed_values(self) -> list[Any]:
        return [st.when[1] for st in self.statements if st.when]

    def bind(self, params: dict[str, Any]) -> tuple[Statement, dict[str, Any]]:
        """Pick the statement, apply defaults, check parameters; return (statement, params)."""
        merged = {**self.defaults, **params}
        unknown = sorted(set(merged) - self.params)
        if unknown:
            raise UnknownParameter(
                f"query {self.name!r}: unknown parameter(s) {', '.join('$' + u for u in unknown)}; "
                f"it takes {', '.join('$' + p for p in sorted(self.params))}")
        st = self.statements[0]
        if self.selector:
            if self.selector not in merged:
                raise MissingParameter(f"query {self.name!r}: missing parameter ${self.selector}")
            value = merged[self.selector]
            matches = ([s for s in self.statements if s.when and s.when[1] == value
                        and type(s.when[1]) is type(value)]
                       or [s for s in self.statements if s.when and s.when[1] == "*"
                           and value is not None])
            if not matches:
                raise QueryError(f"query {self.name!r}: ${self.selector} must be one of "
                                 f"{self.allowed_values}, got {value!r}")
            st = matches[0]
        missing = sorted(p for p in st.params if p not in merged)
        if missing:
            raise MissingParameter(
                f"query {self.name!r}: missing parameter(s) {', '.join('$' + m for m in missing)}")
        for p, (lo, hi) in st.ranges.items():
            v = merged.get(p)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise QueryError(f"query {self.name!r}: ${p} must be an integer in {lo}..{hi}, "
                                 f"got {v!r}")
        return st, {k: v for k, v in merged.items() if k in st.params}

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults applied and checked, for stores that do not run the Cypher."""
        self.bind(params)
        return {**self.defaults, **params}


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse(text: str, file: str = "<string>") -> list[Statement]:
    """Split a .cypher text into statements at each ``// name:`` header."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m and m.group(1) == "name":
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    out = []
    for block in blocks:
        name, when, defaults, doc, body = "", None, {}, [], []
        ranges: dict[str, tuple[int, int]] = {}
        in_header = True
        for line in block:
            m = _HEADER.match(line) if in_header else None
            if m:
                key, value = m.groups()
                if key == "name":
                    name = value
                elif key == "when":
                    p, _, v = value.partition("=")
                    when = (p.strip(), _parse_value(v.strip()))
                elif key == "range":
                    p, _, v = value.partition("=")
                    lo, _, hi = v.partition("..")
                    ranges[p.strip()] = (int(lo), int(hi))
                else:
                    defaults = json.loads(value)
            elif in_header and line.strip().startswith("//"):
                doc.append(line.strip()[2:].strip())
            elif in_header and not line.strip():
                continue
            else:
                in_header = False
                body.append(line)
        cypher = "\n".join(body).strip().rstrip(";").strip()
        if not cypher:
            raise QueryError(f"{file}: statement {name!r} has no body")
        params = frozenset(_PARAM.findall(_STRING_OR_COMMENT.sub("", cypher)))
        out.append(Statement(name=name, text=cast(LiteralString, cypher), params=params, file=file,
                             doc="\n".join(doc).strip(), when=when, defaults=defaults,
                             ranges=ranges))
    return out


class QueryLibrary:
    """All statements of a directory of .cypher files, by name."""

    def __init__(self, directory: Path = CYPHER_DIR):
        self.directory = Path(directory)
        self.queries: dict[str, NamedQuery] = {}
        for path in sorted(self.directory.glob("*.cypher")):
            for st in parse(path.read_text(encoding="utf-8"), path.name):
                nq = self.queries.get(st.name)
                if nq is None:
                    nq = self.queries[st.name] = NamedQuery(st.name, [], path.name in INTERNAL_FILES)
                elif not (st.when and nq.statements[0].when):
                    raise QueryError(f"{path.name}: duplicate statement name {st.name!r}")
                nq.statements.append(st)

    def __getitem__(self, name: str) -> NamedQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise UnknownQuery(f"no named query {name!r}; known: {', '.join(self.public())}") from None

    def public(self) -> list[str]:
        return sorted(n for n, q in self.queries.items() if not q.internal)

    def statements_of(self, file: str) -> list[Statement]:
        return [st for q in self.queries.values() for st in q.statements if st.file == file]


@lru_cache
def library(directory: str | None = None) -> QueryLibrary:
    return QueryLibrary(Path(directory) if directory else CYPHER_DIR)
