"""Noise profiles of the synthetic city: the vocabularies, rates, column names and encodings of
its exports. A profile is data, synth/data/profiles/NAME.yaml; the generator is the same for all.

`yingkou` (营口市, the default) is the city every threshold, rule and blocking key was chosen on.
`held_out` (绵阳市, Sichuan) and `held_out_2` (洛阳市, Henan, added once held_out had revealed a
defect) are held out: nothing may be chosen on them, their scores are reported as they come (their
files say so too).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

import yaml

from creditgraph.synth.exports import Export
from creditgraph.synth.rates import Noise, Shape
from creditgraph.synth.vocab import SYNTH_DATA, Vocab, load_vocab

DEFAULT_PROFILE = "yingkou"
PROFILE_DIR = SYNTH_DATA / "profiles"
# Manifest keys whose values are data, not column names: never renamed.
_NOT_COLUMNS = {"literal", "equals", "map"}


@dataclass(frozen=True)
class Profile:
    name: str
    held_out: bool
    vocab: Vocab
    noise: Noise
    shape: Shape
    columns: dict      # source -> {column of the default exports: column written instead}
    encodings: dict    # source -> encoding written instead of the default's

    def export(self, exp: Export) -> Export:
        """`exp` with this profile's column names and encoding."""
        names = self.columns.get(exp.source, {})
        if not names and exp.source not in self.encodings:
            return exp
        rename = lambda c: names.get(c, c)  # noqa: E731
        return replace(exp, columns=tuple(map(rename, exp.columns)), name_col=rename(exp.name_col),
                       date_col=rename(exp.date_col), encoding=self.encodings.get(exp.source, exp.encoding))

    def write_manifest(self, out: Path) -> None:
        """The synthetic city's manifest, its columns and encodings as this profile writes them."""
        if not self.columns and not self.encodings:
            shutil.copyfile(SYNTH_DATA / "manifest.yaml", out)   # the default, byte for byte
            return
        doc = yaml.safe_load((SYNTH_DATA / "manifest.yaml").read_text(encoding="utf-8"))
        for source in doc["sources"]:
            if source["encoding"] != "auto" and source["name"] in self.encodings:
                source["encoding"] = self.encodings[source["name"]]
            names = self.columns.get(source["name"], {})
            source.update({k: _renamed(v, names) for k, v in source.items() if k != "name"})
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
        out.write_text(f"# Manifest of the synthetic city, profile {self.name} (format: docs/architecture.md).\n"
                       + text, encoding="utf-8")


def _renamed(node, names: dict):
    if isinstance(node, str):
        return names.get(node, node)
    if isinstance(node, list):
        return [_renamed(v, names) for v in node]
    if isinstance(node, dict):
        return {k: v if k in _NOT_COLUMNS else _renamed(v, names) for k, v in node.items()}
    return node


def profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


@lru_cache
def load_profile(name: str = DEFAULT_PROFILE) -> Profile:
    if name not in profiles():
        raise ValueError(f"unknown noise profile {name!r}; profiles: {', '.join(profiles())}")
    doc = yaml.safe_load((PROFILE_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    vocab = load_vocab(doc.get("vocab", "vocab.yaml"), doc.get("divisions"), doc.get("industries"))
    exports = doc.get("exports") or {}
    return Profile(name, bool(doc.get("held_out")), vocab, _rates(Noise, doc.get("noise"), name),
                   _rates(Shape, doc.get("shape"), name), exports.get("columns") or {},
                   exports.get("encodings") or {})


def _rates(cls, overrides: dict | None, profile: str):
    known = {f.name: f for f in fields(cls)}
    unknown = set(overrides or ()) - set(known)
    if unknown:
        raise ValueError(f"profile {profile}: unknown {cls.__name__} rates {sorted(unknown)}")
    # YAML lists stand for the tuples of Shape (holders_k, tax_grades ...).
    return cls(**{k: _tuple(v) for k, v in (overrides or {}).items()})


def _tuple(value):
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value
