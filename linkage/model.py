"""Fellegi-Sunter match model: per-field comparison levels, m/u probabilities fitted by EM.

The model only describes (Splink's idea): fields, their levels, starting m and u, the prior and
the two thresholds, all read from a YAML file under linkage/models/. Each field's weight at each
level is log2(m/u), never rising from a stronger level to a weaker one (levels are ordered
strongest first: a weaker level whose m/u came out higher is capped at the stronger level's
weight; a field marked `corroborates_only` never weighs below 0), so every score decomposes into
per-field evidence a steward can read.

A run fits a copy (`copy`, as `engine.link` does): the model as loaded stays as its file says.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import copy

import numpy as np
import yaml

MODELS_DIR = Path(__file__).parent / "models"
MISSING = -1  # a comparison level meaning "no value on one side": weight 0


class ModelRefused(ValueError):
    """A fitted model that makes no sense on this data: the run stops rather than use it."""


@dataclass
class FieldModel:
    name: str
    compare: str               # comparator name in linkage.compare.COMPARATORS
    levels: list[str]          # level names, index = level value
    m: np.ndarray
    u: np.ndarray
    options: dict = field(default_factory=dict)
    max_m_different: float | None = None  # an identifier: EM may not make its disagreement likelier
    corroborates_only: bool = False  # agreement is evidence, disagreement none (weights >= 0)

    def weights(self) -> np.ndarray:
        """log2(m/u) per level, never rising from a stronger level to a weaker one: levels are
        ordered strongest first, and a homophone must not weigh more than the exact name. A
        field that only corroborates never weighs below 0 (a firm's rows name many people: two
        records naming different ones is no sign of two firms)."""
        w = np.minimum.accumulate(np.log2(self.m / self.u))
        return np.maximum(w, 0.0) if self.corroborates_only else w


def probability_of(log_odds: np.ndarray) -> np.ndarray:
    """Match probability from posterior log2 odds (0 where a hard rule forbids the match)."""
    return np.where(np.isneginf(log_odds), 0.0, 1 / (1 + np.exp2(-np.clip(log_odds, -60, 60))))


@dataclass
class MatchModel:
    name: str
    fields: list[FieldModel]
    prior: float
    match_threshold: float     # posterior at or above: automatic match
    review_threshold: float    # between the two: review queue; below: no match
    em_iterations: int = 25
    require_any: dict = field(default_factory=dict)  # {field: [levels]}: else never a match
    prior_from: str = "fixed"  # "fixed": `prior` is the share of matches among candidate pairs;
                               # "em": the global prior, fitted (see fit_prior);
                               # "rules": from deterministic rules (see rules_prior)
    deterministic_rules: list = field(default_factory=list)  # [[field, ...]]: all exact, a match
    rules_recall: float = 1.0  # the share of true matches the rules find
    max_match_share: float = 0.5  # EM calling more candidate pairs matches than this: nonsense

    def copy(self) -> "MatchModel":
        """An independent copy, to fit without changing this one."""
        return copy.deepcopy(self)

    @staticmethod
    def path_of(name_or_path: str | Path) -> Path:
        """A model by name (linkage/models/NAME.yaml) or by path."""
        path = Path(name_or_path)
        return MODELS_DIR / f"{name_or_path}.yaml" if not path.suffix else path

    @classmethod
    def load(cls, name_or_path: str | Path) -> "MatchModel":
        path = cls.path_of(name_or_path)
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        fields = [FieldModel(f["name"], f["compare"], f["levels"], np.array(f["m"], float),
                             np.array(f["u"], float), f.get("options", {}), f.get("max_m_different"),
                             f.get("corroborates_only", False))
                  for f in spec["fields"]]
        for f in fields:
            if not (len(f.levels) == len(f.m) == len(f.u)):
                raise ValueError(f"{path}: field {f.name}: levels, m and u must have the same length")
        return cls(spec["name"], fields, spec["prior"], spec["thresholds"]["match"],
                   spec["thresholds"]["review"], spec.get("em_iterations", 25), spec.get("require_any", {}),
                   spec.get("prior_from", "fixed"), spec.get("deterministic_rules", []),
                   spec.get("rules_recall", 1.0), spec.get("max_match_share", 0.5))

    # -- scoring ---------------------------------------------------------------------------
    def log2_bayes(self, levels: np.ndarray) -> np.ndarray:
        """Sum of per-field weights for an (n_pairs, n_fields) matrix of levels."""
        total = np.zeros(len(levels))
        for j, f in enumerate(self.fields):
            col = levels[:, j]
            present = col != MISSING
            total[present] += f.weights()[col[present]]
        return total

    def log_odds(self, levels: np.ndarray) -> np.ndarray:
        """Posterior log2 odds of a match; -inf where the hard rule forbids one."""
        score = self.log2_bayes(levels) + np.log2(self.prior / (1 - self.prior))
        return np.where(self._allowed(levels), score, -np.inf)

    def probability(self, levels: np.ndarray) -> np.ndarray:
        return probability_of(self.log_odds(levels))

    def _allowed(self, levels: np.ndarray) -> np.ndarray:
        """Hard rule: some evidence must come from these fields (persons: never a name alone)."""
        if not self.require_any:
            return np.ones(len(levels), bool)
        ok = np.zeros(len(levels), bool)
        index = {f.name: j for j, f in enumerate(self.fields)}
        for name, allowed in self.require_any.items():
            f = self.fields[index[name]]
            codes = [f.levels.index(level) for level in allowed]
            ok |= np.isin(levels[:, index[name]], codes)
        return ok

    # -- estimation ------------------------------------------------------------------------
    def estimate_u(self, levels: np.ndarray) -> None:
        """u from random record pairs, which are almost all non-matches (Splink's approach)."""
        for j, f in enumerate(self.fields):
            col = levels[:, j]
            present = col[col != MISSING]
            if len(present) >= 100:
                f.u = _posterior(np.bincount(present, minlength=len(f.levels)), f.u)

    def estimate_m(self, levels: np.ndarray, skip: set[str] = frozenset()) -> None:
        """m from pairs known to match (mentions sharing a valid identifier). Fields that made
        those pairs (`skip`) keep their starting m: on such pairs they agree by construction."""
        for j, f in enumerate(self.fields):
            col = levels[:, j]
            present = col[col != MISSING]
            if f.name not in skip and len(present) >= 100:
                f.m = _posterior(np.bincount(present, minlength=len(f.levels)), f.m)

    def fit_prior(self, levels: np.ndarray, total_pairs: float, iterations: int = 30) -> dict:
        """The prior as Splink has it: the chance that two random records match.

        EM on the prior alone (m and u fixed) gives the share of matches among candidate pairs;
        times the number of candidates over all possible pairs, that is the global prior, which
        goes with u from random pairs (both are about all pairs, blocking only filters)."""
        share = 0.5
        for _ in range(iterations):
            self.prior = share
            share = float(np.clip(self.probability(levels).mean(), 1e-9, 0.999)) if len(levels) else 0.0
        matches = share * len(levels)
        self.prior = float(np.clip(matches / max(total_pairs, 1.0), 1e-12, 0.5))
        return {"matches_estimated": round(matches, 1), "match_share": round(share, 4), "prior": self.prior}

    def rules_prior(self, levels: np.ndarray, total_pairs: float) -> dict:
        """The prior as Splink estimates it from deterministic rules: candidate pairs agreeing
        exactly on every field of some rule are matches, and the rules find `rules_recall` of
        all matches. The share among candidate pairs is EM's fixed prior; the count over all
        possible pairs is the global prior that goes with u from random pairs (`global_prior`)."""
        index = {f.name: j for j, f in enumerate(self.fields)}
        hit = np.zeros(len(levels), bool)
        for rule in self.deterministic_rules:
            hit |= np.all(levels[:, [index[name] for name in rule]] == 0, axis=1)
        matches = hit.sum() / self.rules_recall
        self.prior = float(np.clip(matches / max(len(levels), 1), 1e-6, 0.999))
        return {"rule_pairs": int(hit.sum()), "matches_estimated": round(float(matches), 1),
                "global_prior": float(np.clip(matches / max(total_pairs, 1.0), 1e-12, 0.5))}

    def check_fit(self, share: float) -> None:
        """Refuse a model that takes most candidate pairs for matches: EM has collapsed onto
        whatever the blocking rules share, and would score disagreement on identifiers as
        hardly any evidence against a match."""
        if share > self.max_match_share:
            raise ModelRefused(f"model {self.name}: EM converged to nonsense: it takes {share:.1%} of the candidate "
                             f"pairs for matches (at most {self.max_match_share:.0%} is plausible). Estimate the "
                             "prior from deterministic rules (prior_from: rules), bound the m of identifier "
                             "disagreement (max_m_different) or tighten the blocking.")

    def fit_em(self, levels: np.ndarray, fix_u: bool = False) -> dict:
        """Expectation-maximisation of m (and u unless fix_u) on the candidate pairs; of the prior
        too when the model fits it (prior_from: em), else the file's prior stays."""
        if len(levels) < 50:
            return {"iterations": 0, "converged": False, "note": "too few pairs to fit; priors kept"}
        share, converged = self.prior, False
        for it in range(self.em_iterations):
            p = self.probability(levels)
            for j, f in enumerate(self.fields):
                col = levels[:, j]
                present = col != MISSING
                counts_m = np.bincount(col[present], weights=p[present], minlength=len(f.levels))
                counts_u = np.bincount(col[present], weights=1 - p[present], minlength=len(f.levels))
                f.m = _bounded(_smooth(counts_m), f.max_m_different)
                if not fix_u:
                    f.u = _smooth(counts_u)
            new_share = float(np.clip(p.mean(), 1e-6, 0.999))
            if abs(new_share - share) < 1e-6:
                converged = True
                break
            share = new_share
            if self.prior_from == "em":
                self.prior = share
        return {"iterations": it + 1, "converged": converged, "match_share": round(new_share, 4),
                "prior": self.prior}

    def evidence(self, level_row: np.ndarray) -> dict:
        return {f.name: {"level": f.levels[l] if l != MISSING else "missing",
                         "weight": round(float(f.weights()[l]), 2) if l != MISSING else 0.0}
                for f, l in zip(self.fields, level_row)}

    def describe(self) -> dict:
        return {"name": self.name, "prior": round(self.prior, 6),
                "weights": {f.name: dict(zip(f.levels, np.round(f.weights(), 2).tolist())) for f in self.fields}}


def _posterior(counts: np.ndarray, start: np.ndarray, pseudo: float = 50.0) -> np.ndarray:
    """Counts shrunk towards the starting probabilities by `pseudo` pairs: a level rare in the
    sample keeps a finite weight instead of the extreme one a bare frequency would give it."""
    return (counts + pseudo * start) / (counts.sum() + pseudo)


def _bounded(m: np.ndarray, most: float | None) -> np.ndarray:
    """m with its last level (disagreement) at most `most`, the other levels scaled to fill."""
    if most is None or m[-1] <= most:
        return m
    return np.r_[m[:-1] * (1 - most) / m[:-1].sum(), most]


def _smooth(counts: np.ndarray) -> np.ndarray:
    """Normalise counts to probabilities, never exactly 0 (a level unseen in the data)."""
    counts = counts + 1e-3
    return counts / counts.sum()
