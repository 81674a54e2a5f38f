"""Turn a kind's mentions into records for the engine: normalised values, keys, hard ids.

Mentions that share a valid hard identifier (an organisation code, which a USCC and an old tax
number carry; an old registration number; an 18-digit identity number) are one record from the
start: the identifier decides, exactly; unless their primary identifiers (USCC, identity number)
differ, and then the shared one is a conflict for review. Every other mention is a record of its
own, to be scored.
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from creditgraph.base.frames import sorted_unique
from creditgraph.linkage.cluster import UnionFind
from creditgraph.linkage.engine import Records, Training
from creditgraph.linkage.identifiers import BUILTIN_TYPES, Identifier, classify, ric_birth_date, upgrade_ric15
from creditgraph.linkage.names import clean_text, normalize_person_name, parse_enterprise_name

MAX_VALUES = 8  # variants kept per field per record: enough evidence, bounded compare cost
# Fields whose mention values are tuples of values; set-compared, so every value counts (no cap).
MULTI_VALUED = {"identifier", "id", "context", "row_person"}


def _ids(raw: str, kind: str) -> list[Identifier]:
    return [i for i in (classify(v, kind) for v in raw.split("|")) if i] if raw else []


def _digits(phone) -> str:
    return "".join(c for c in str(phone or "") if c.isdigit())


# -- enterprises ------------------------------------------------------------------------------

def enterprise_features(m: pd.DataFrame, legal_rep: pd.Series, row_persons: pd.Series) -> pd.DataFrame:
    """One row per enterprise mention: parsed name parts, identifier classes, contacts, and what
    its own row says of the firm's people (the legal representative's name; the identity numbers
    of every person the row names: `row_person_numbers`).

    Names and identifier strings repeat across mentions, so each distinct value is parsed once
    and mapped back (a hash lookup per mention instead of a parse)."""
    by_name = _per_value(m["name"], _enterprise_name_parts,
                         ["name_parts", "clean", "division", "form", "branch"])
    by_id = _per_value(m["identifiers"], _enterprise_id_parts, ["hard", "uscc", "org_part"])
    f = pd.concat([by_name, by_id], axis=1)
    f["phone"] = _mapped(m["phone"], _digits)
    f["address"] = _mapped(m["address"], lambda a: clean_text(a) if isinstance(a, str) else "")
    f["legal_rep"] = _mapped(legal_rep, lambda r: normalize_person_name(r).clean if isinstance(r, str) else "")
    f["row_person"] = row_persons.to_numpy()
    return f


def _enterprise_name_parts(name: str) -> tuple:
    p = parse_enterprise_name(name)
    branch = "-" if p.branch is None else p.branch or "?"
    return (p.core, p.trade_pinyin, p.industry), p.clean, p.division or "", p.form, branch


def _enterprise_id_parts(raw: str) -> tuple:
    ids = _ids(raw, "enterprise")
    hard = {f"org:{i.org_code}" for i in ids if i.valid and i.org_code}
    hard |= {f"reg:{i.value}" for i in ids if i.valid and i.type == "reg_no"} | _declared(ids)
    uscc = next((i.value for i in ids if i.valid and i.type == "uscc"), "")
    return hard, uscc, _org_parts(ids)


def _per_value(series: pd.Series, fn, columns: list[str]) -> pd.DataFrame:
    """fn applied once per distinct value, its tuple spread over `columns`, one row per mention."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    table = [fn(u if isinstance(u, str) else "") for u in uniques]
    return pd.DataFrame({c: pd.Series([t[j] for t in table], dtype=object).to_numpy()[codes]
                         for j, c in enumerate(columns)}, index=series.index)


def _mapped(series: pd.Series, fn) -> pd.Series:
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return pd.Series(np.array([fn(u) for u in uniques], dtype=object)[codes], index=series.index)


def _org_parts(ids: list[Identifier]) -> tuple[str, ...]:
    """The organisation-code part of each identifier, valid or not (a typo still blocks)."""
    out = []
    for i in ids:
        if i.org_code:
            out.append(i.org_code)
        elif i.type == "uscc":
            out.append(i.value[8:17])
        elif i.type in ("org_code",):
            out.append(i.value)
        elif i.type == "tax_no":
            out.append(i.value[6:15])
    return tuple(out)


def enterprise_fields(f: pd.DataFrame) -> dict[str, pd.Series]:
    return {"name": f["name_parts"], "division": f["division"], "form": f["form"], "branch": f["branch"],
            "identifier": f["org_part"], "phone": f["phone"], "address": f["address"], "legal_rep": f["legal_rep"],
            "row_person": f["row_person"]}


def enterprise_records(m: pd.DataFrame, f: pd.DataFrame, apart=()) -> tuple[Records, np.ndarray]:
    """Records and, per mention, its record index."""
    record_of, conflicts = _group_by_hard_ids(f["hard"].tolist(), f["uscc"].tolist(), apart)
    n = int(record_of.max()) + 1 if len(record_of) else 0
    values = _collect(n, record_of, enterprise_fields(f))
    keys = [[] for _ in range(n)]
    for r, parts, orgs, phone in zip(record_of, f["name_parts"], f["org_part"], f["phone"]):
        k = keys[r]
        k.append(f"tp:{parts[1]}|{parts[2]}")
        k.append(f"co:{parts[0]}")
        for o in orgs:
            k.extend((f"oa:{o[:5]}", f"ob:{o[4:]}"))
        if phone:
            k.append(f"ph:{phone}")
    keys = [sorted(set(k)) for k in keys]
    return Records(values, keys, _hard_per_record(n, record_of, f["hard"]), _reps(n, record_of, m),
                   conflicts=_record_conflicts(conflicts, record_of)), record_of


# -- persons ----------------------------------------------------------------------------------

def person_features(m: pd.DataFrame, contexts: pd.Series) -> pd.DataFrame:
    """One row per person mention; names and numbers parsed once per distinct value."""
    f = pd.concat([_per_value(m["name"], _person_name_parts, ["name_parts", "clean"]),
                   _per_value(m["identifiers"], person_id_parts, ["hard", "id18", "id_values", "id_birth"])],
                  axis=1)
    given = m["birth_date"].where(m["birth_date"].notna() & (m["birth_date"] != ""), None)
    f["birth_date"] = given.fillna(f["id_birth"]).fillna("")
    f["context"] = contexts.to_numpy()
    return f.drop(columns=["id_birth"])


def person_numbers(identifiers: pd.Series) -> pd.Series:
    """Per person mention, its valid 18-digit identity number (a 15-digit one upgraded), or ''."""
    return _mapped(identifiers, lambda raw: person_id_parts(raw if isinstance(raw, str) else "")[1])


def row_person_numbers(firm_ids: pd.Series, relations: pd.DataFrame, number_of: pd.Series) -> pd.Series:
    """Per firm mention (`firm_ids`), the sorted tuple of the identity numbers of the persons its
    own row ties it to (`relations`: from_mention, to_mention; `number_of`: mention id -> number,
    persons only). The engines and the incremental ingest all call this one definition."""
    numbers: dict[str, set] = defaultdict(set)
    for a, b in zip(relations["from_mention"].map(number_of), relations["to_mention"]):
        if isinstance(a, str) and a:
            numbers[b].add(a)
    for a, b in zip(relations["from_mention"], relations["to_mention"].map(number_of)):
        if isinstance(b, str) and b:
            numbers[a].add(b)
    return firm_ids.map(lambda mid: tuple(sorted(numbers.get(mid, ()))))


def _person_name_parts(name: str) -> tuple:
    p = normalize_person_name(name)
    return (p.clean, p.pinyin), p.clean


@lru_cache(maxsize=1 << 18)  # resolve parses the persons' numbers for the firms' row_person, then for
def person_id_parts(raw: str) -> tuple:  # the persons themselves; emptied after (resolve._drop_name_caches)
    """A person's identifier cell: its hard keys, valid 18-digit number, numbers to compare, birth date."""
    ids = _ids(raw, "person")
    id18 = next((i.value for i in ids if i.valid and i.type == "id18"), "")
    values = tuple(_as_person_number(i) for i in ids if len(i.value) >= 15 and i.type in BUILTIN_TYPES)
    birth = ric_birth_date(id18) if id18 else None
    return ({f"id:{id18}"} if id18 else set()) | _declared(ids), id18, values, (birth.isoformat() if birth else "")


def _declared(ids: list[Identifier]) -> set[str]:
    """Keys of identifiers of a scheme the manifest declared (a customs code): equal values join
    mentions exactly, like a registration number, but are no conflict against other schemes
    (_hard_per_record keeps org: and id: keys only)."""
    return {f"x:{i.type}:{i.value}" for i in ids if i.type not in BUILTIN_TYPES}


def _as_person_number(i: Identifier) -> str:
    """In a person's identifier column, a 15-digit value that failed as a legacy identity number
    (a typo in its date) is still one: given its 18-digit form, a typo stays a one-digit typo."""
    if len(i.value) == 15 and i.value.isdigit() and i.type != "id18":
        return upgrade_ric15(i.value)
    return i.value


def person_fields(f: pd.DataFrame) -> dict[str, pd.Series]:
    return {"id": f["id_values"], "name": f["name_parts"], "birth_date": f["birth_date"], "context": f["context"]}


def person_records(m: pd.DataFrame, f: pd.DataFrame, apart=()) -> tuple[Records, np.ndarray]:
    record_of, conflicts = _group_by_hard_ids(f["hard"].tolist(), f["id18"].tolist(), apart)
    n = int(record_of.max()) + 1 if len(record_of) else 0
    values = _collect(n, record_of, person_fields(f))
    keys = [[] for _ in range(n)]
    for r, parts, ids, birth, ctx in zip(record_of, f["name_parts"], f["id_values"], f["birth_date"], f["context"]):
        k = keys[r]
        for v in ids:
            k.append(f"mk:{v[:6]}{v[-4:]}")     # area + last four: what a masked number keeps
            if "*" not in v:  # three slices of the 17-digit body: one typo leaves two intact
                k.extend((f"i1:{v[:12]}", f"i2:{v[:6]}{v[12:17]}", f"i3:{v[6:17]}"))
        for c in ctx:
            k.append(f"cx:{c.split('|')[0]}|{parts[1]}")
        if birth:
            k.append(f"nb:{parts[1]}|{birth}")
    keys = [sorted(set(k)) for k in keys]
    return Records(values, keys, _hard_per_record(n, record_of, f["hard"]), _reps(n, record_of, m),
                   conflicts=_record_conflicts(conflicts, record_of)), record_of


def training_pairs(f: pd.DataFrame, record_of: np.ndarray, fields, defining: set[str],
                   limit: int = 20000, seed: int = 0) -> Training:
    """Pairs of mentions grouped by a shared valid identifier: known matches, to learn m from.
    Each sampled mention is paired with another mention of its record."""
    has_hard = f["hard"].map(bool).to_numpy()
    idx = np.flatnonzero(has_hard)
    order = idx[np.argsort(record_of[idx], kind="stable")]
    recs = record_of[order]
    starts = np.flatnonzero(np.r_[True, recs[1:] != recs[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    order = order[np.repeat(sizes >= 2, sizes)]  # mentions of records with two or more
    starts, sizes = np.cumsum(np.r_[0, sizes[sizes >= 2]])[:-1], sizes[sizes >= 2]
    group_start, group_size = np.repeat(starts, sizes), np.repeat(sizes, sizes)
    chosen, partner = training_draw(len(order), lambda c: (group_start[c], group_size[c]), limit, seed)
    mentions = sorted_unique(np.r_[order[chosen], order[partner]])
    return training_of(f.iloc[mentions], mentions, order[chosen], order[partner], fields, defining)


def training_draw(total: int, group_of, limit: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training pairs among `total` mentions ordered by record (records of two
    or more only): `limit` chosen at random, each with a random other mention of its record.
    group_of(positions) gives their record's first position and size (linkage.spark asks a
    distributed data set for the chosen ones only)."""
    rng = np.random.default_rng(seed)
    chosen = np.arange(total)
    if total > limit:
        chosen = np.sort(rng.choice(chosen, limit, replace=False))
    group_start, group_size = group_of(chosen)
    offset = (chosen - group_start + rng.integers(1, np.maximum(group_size, 2))) % group_size
    return chosen, group_start + offset


def training_of(sub: pd.DataFrame, mentions: np.ndarray, left: np.ndarray, right: np.ndarray, fields,
                defining: set[str]) -> Training:
    """The Training of pairs (left, right) of mentions; `sub` holds their features, one row per
    mention of the sorted `mentions`."""
    position = {m: i for i, m in enumerate(mentions.tolist())}
    values = _collect(len(mentions), np.arange(len(mentions)), fields(sub))
    return Training(values, np.array([position[m] for m in left.tolist()], dtype=np.int64),
                    np.array([position[m] for m in right.tolist()], dtype=np.int64), defining)


# -- shared -----------------------------------------------------------------------------------

def _group_by_hard_ids(hard: list[set], primary: list[str], apart=()) -> tuple[np.ndarray, list]:
    """Union mentions that share any hard identifier; number the groups in mention order.

    Two groups whose primary identifiers (USCC; identity number) are both there and differ never
    join: a secondary identifier they share (an old registration number or organisation code
    typed the same for two firms) is a conflict, returned as (mention, mention, shared key).
    `apart` holds mention index pairs a steward said differ: their groups never join, whatever
    identifier they share (each keeps its identifiers for every other comparison).

    Mentions linked through shared identifiers form components (scipy); a component without two
    different primary identifiers or a steward's `different` is one group, as the union of its
    mentions one by one would make it. Only the other components take that union, in mention order."""
    component = _identifier_components(hard)
    troubled = _troubled_components(component, primary, apart)
    roots = _least_member(component)
    if troubled.any():
        inside = np.flatnonzero(troubled[component])
        group_roots, conflicts = _union_in_order(hard, primary, apart, inside)
        roots[inside] = group_roots
    else:
        conflicts = []
    _, record_of = np.unique(roots, return_inverse=True)
    return record_of, conflicts


def _identifier_components(hard: list[set]) -> np.ndarray:
    """Per mention, its connected component in the graph of mentions and the hard keys they carry."""
    n = len(hard)
    mention = np.repeat(np.arange(n), [len(h) for h in hard])
    codes, keys = pd.factorize(pd.Series([k for h in hard for k in h], dtype=object))
    graph = coo_matrix((np.ones(len(codes), dtype=np.int8), (mention, n + codes)), shape=(n + len(keys),) * 2)
    return connected_components(graph, directed=False)[1][:n]


def _troubled_components(component: np.ndarray, primary: list[str], apart) -> np.ndarray:
    """Per component, whether it holds two different primary identifiers or a mention a steward
    kept apart from another."""
    troubled = np.zeros(int(component.max()) + 1 if len(component) else 0, dtype=bool)
    has = np.flatnonzero(np.array([bool(p) for p in primary], dtype=bool))
    if len(has):
        d = pd.DataFrame({"c": component[has], "p": np.asarray(primary, dtype=object)[has]})
        counts = d.groupby("c")["p"].nunique()
        troubled[counts.index[counts.to_numpy() > 1].to_numpy()] = True
    for a, b in apart:
        troubled[component[a]] = troubled[component[b]] = True
    return troubled


def _least_member(component: np.ndarray) -> np.ndarray:
    """Per mention, the least mention index of its component (the root a union would keep)."""
    least = np.full(int(component.max()) + 1 if len(component) else 0, len(component), dtype=np.int64)
    np.minimum.at(least, component, np.arange(len(component)))
    return least[component]


def _union_in_order(hard: list[set], primary: list[str], apart, mentions: np.ndarray) -> tuple[np.ndarray, list]:
    """The union of `mentions` (ascending) one by one, each key in sorted order (not a set's,
    which changes with each process's hash seed), refusing a join of two different primary
    identifiers (a conflict) or of mentions a steward kept apart. Their roots, and the conflicts."""
    uf = UnionFind(len(hard))
    primary_of = {i: primary[i] for i in mentions.tolist() if primary[i]}  # per group root: at most one
    conflicts = []
    banned = defaultdict(set)
    for a, b in apart:
        banned[a].add(b)
        banned[b].add(a)
    named = {i: {i} for i in banned}  # per group root, its mentions that a decision names
    first = {}
    for i in mentions.tolist():
        for key in sorted(hard[i]):
            if key not in first:
                first[key] = i
                continue
            ra, rb = uf.find(first[key]), uf.find(i)
            if ra == rb or any(banned[x] & named.get(rb, set()) for x in named.get(ra, ())):
                continue
            if ra in primary_of and rb in primary_of and primary_of[ra] != primary_of[rb]:
                conflicts.append((first[key], i, key))
                continue
            root = uf.union(ra, rb)
            if ra in named or rb in named:
                named[root] = named.pop(ra, set()) | named.pop(rb, set())
            value = primary_of.pop(ra, None) or primary_of.pop(rb, None)
            primary_of.pop(rb, None)
            if value:
                primary_of[root] = value
    return np.array([uf.find(i) for i in mentions.tolist()], dtype=np.int64), conflicts


def _record_conflicts(conflicts: list, record_of: np.ndarray) -> list[tuple[int, int, str]]:
    """Mention conflicts as record pairs (smaller first), each once with the first key seen."""
    out = {}
    for a, b, key in conflicts:
        ra, rb = int(record_of[a]), int(record_of[b])
        out.setdefault((min(ra, rb), max(ra, rb)), key)
    return [(a, b, key) for (a, b), key in out.items()]


def _collect(n: int, record_of: np.ndarray, columns: dict[str, pd.Series]) -> dict[str, list[tuple]]:
    """Per record and field, the distinct non-empty values of its mentions (most frequent first).

    Most records hold one mention; they take their value as it is, without counting."""
    sizes = np.bincount(record_of, minlength=n)
    single = (sizes == 1)[record_of]
    out = {}
    for field, series in columns.items():
        multi = field in MULTI_VALUED
        values: list = [()] * n
        counts: dict[int, dict] = {}
        for r, v, alone in zip(record_of.tolist(), series.tolist(), single.tolist()):
            items = v if multi else ((v,) if v else ())
            if alone:
                values[r] = tuple(dict.fromkeys(x for x in items if x))
                continue
            c = counts.setdefault(r, {})
            for x in items:
                if x:
                    c[x] = c.get(x, 0) + 1
        cap = None if multi else MAX_VALUES
        for r, c in counts.items():
            values[r] = tuple(sorted(c, key=lambda x: (-c[x], str(x)))[:cap])
        out[field] = values
    return out


def _hard_per_record(n: int, record_of: np.ndarray, hard: pd.Series) -> list[frozenset]:
    sets = [set() for _ in range(n)]
    for r, h in zip(record_of, hard):
        sets[r] |= h
    # Registration numbers are only a bridge to the organisation code: the org code decides.
    return [frozenset(k for k in s if k.startswith(("org:", "id:"))) for s in sets]


def _reps(n: int, record_of: np.ndarray, m: pd.DataFrame) -> list[str]:
    reps = [None] * n
    for r, mid in zip(record_of, m["mention_id"]):
        if reps[r] is None or mid < reps[r]:
            reps[r] = mid
    return reps
