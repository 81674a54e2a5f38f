"""The vocabularies the generator draws from: linkage/data (industry words and forms, shared with
the name parser) and synth/data (vocab.yaml and the divisions, only the generator's). A noise
profile (profile.py) may name other files in synth/data for each of the three."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from creditgraph import linkage

LINKAGE_DATA = Path(linkage.__file__).parent / "data"
SYNTH_DATA = Path(__file__).parent / "data"


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Vocab:
    raw: dict
    divisions: dict          # code -> {name, short, parent}
    industries: list[str]
    form_variants: dict      # canonical form -> written variants

    def __getattr__(self, key):
        # vocab.yaml keys read as attributes: vocab.surnames, vocab.courts ...
        try:
            return self.raw[key]
        except KeyError:
            raise AttributeError(key) from None

    def division_by_name(self, name: str) -> dict:
        return next(d for d in self.divisions.values() if d["name"] == name or name in d["short"])


@lru_cache
def load_vocab(vocab: str = "vocab.yaml", divisions: str | None = None, industries: str | None = None) -> Vocab:
    """synth/data/`vocab` and `divisions` (default divisions.yaml); `industries` from synth/data if
    named, else linkage's."""
    raw = _load(SYNTH_DATA / vocab)
    raw["trade_chars"] = "".join(dict.fromkeys(raw["trade_chars"]))  # drop repeats
    divs = _load(SYNTH_DATA / (divisions or "divisions.yaml"))
    return Vocab(raw, {d["code"]: d for d in divs},
                 _load(SYNTH_DATA / industries if industries else LINKAGE_DATA / "industries.yaml"),
                 _load(LINKAGE_DATA / "org_forms.yaml"))
