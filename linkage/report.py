"""The evaluation report (`creditgraph evaluate` writes DIR/evaluation.html): per kind, precision
and recall against the match threshold, the review queue against the review threshold and each
field's weights, as inline SVG (linkage.charts) in the template linkage/templates/evaluation.html.

Aggregates only (counts, shares, weights): no party's name or number. Written 0600 all the same,
beside the other outputs of the run.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd

from creditgraph.base.files import write_private
from creditgraph.linkage import sweep
from creditgraph.linkage.charts import Marker, Series, line_chart, probability_text, weight_bars
from creditgraph.linkage.evaluate import KEY
from creditgraph.linkage.model import probability_of

TEMPLATE = Path(__file__).parent / "templates" / "evaluation.html"
KINDS = ("enterprise", "person")
FILE = "evaluation.html"


def truth_by_mention(mentions: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """The true entity of each mention id the truth knows."""
    joined = mentions.astype({"record_id": str}).merge(truth.astype({"record_id": str}), on=KEY,
                                                       suffixes=("", "_true"))
    return joined.set_index("mention_id")["entity_id_true"]


def build(result: dict, resolved: Path, truth: pd.Series, truth_name: str) -> str:
    """The page: `result` is evaluate's, `truth` truth_by_mention's."""
    scored = sweep.load(resolved)
    models = _models(resolved)
    sections = [_section(kind, result[kind], scored.get(kind), models.get(kind), truth)
                for kind in KINDS if kind in result]
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        resolved=escape(Path(resolved).name), truth=escape(truth_name),
        written=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), sections="\n".join(sections))


def write(path: Path, html: str) -> None:
    with write_private(path, encoding="utf-8") as f:
        f.write(html)


def _models(resolved: Path) -> dict:
    """Per kind the fitted model (prior, weights) from the run report, {} without one."""
    path = Path(resolved) / "run_report.json"
    if not path.is_file():
        return {}
    linkage = json.loads(path.read_text(encoding="utf-8")).get("linkage", {})
    return {kind: v["model"] for kind, v in linkage.items() if isinstance(v, dict) and "model" in v}


def _section(kind: str, quality: dict, scored: sweep.ScoredKind | None, model: dict | None,
             truth: pd.Series) -> str:
    parts = [f'<section class="kind" data-kind="{kind}"><h2>{kind.capitalize()}s</h2>', _summary(quality, scored)]
    if scored is None:
        parts.append('<p class="note">This resolve output has no scored pairs (scored_pairs.npz, written by '
                     '<code>creditgraph resolve</code> since the report exists): run resolve again for the '
                     'threshold charts.</p>')
    else:
        parts += [_precision_recall(scored, truth), _queue(scored)]
    parts.append(_weights(model) if model else '<p class="note">No fitted weights: run_report.json is missing.</p>')
    return "".join(parts) + "</section>"


def _summary(q: dict, scored: sweep.ScoredKind | None) -> str:
    at = f" at the match threshold in use, {_threshold_text(scored.match_threshold)}" if scored else ""
    cells = "".join(f"<td>{q[k]:.4f}</td>" for k in ("precision", "recall", "f1", "bcubed_precision",
                                                       "bcubed_recall", "bcubed_f1"))
    return (f'<p class="caption">The entities resolve wrote{at}:</p><table class="summary"><tr><th></th>'
            "<th>precision</th><th>recall</th><th>F1</th><th>B³ precision</th><th>B³ recall</th><th>B³ F1</th>"
            f"<th>pairs put together</th><th>of them right</th><th>pairs in the truth</th></tr><tr><td>as resolved"
            f"</td>{cells}<td>{q['predicted_pairs']:,}</td><td>{q['correct_pairs']:,}</td>"
            f"<td>{q['true_pairs']:,}</td></tr></table>")


def _threshold_text(p: float) -> str:
    return f"{probability_text(p)} ({sweep.weight_of(p):.1f} bits)"


def _x_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    return [(float(w), f"{w:g}\n{probability_text(float(probability_of(float(w))))}")
            for w in range(int(np.ceil(lo / 5) * 5), int(hi) + 1, 5)]


def _precision_recall(s: sweep.ScoredKind, truth: pd.Series) -> str:
    df = sweep.match_sweep(s, truth, sweep.thresholds(s.match_threshold))
    lows = df[["precision", "recall", "bcubed_precision", "bcubed_recall"]].to_numpy().min()
    y_lo = min(0.9, float(np.floor(lows * 10) / 10))
    xs = df["weight"].tolist()
    series = [Series(label, xs, df[col].tolist(), css, [f"{label} {v:.4f} at {_threshold_text(t)}"
                                                         for v, t in zip(df[col], df["threshold"])])
              for label, col, css in (("precision", "precision", "pw-p"), ("recall", "recall", "pw-r"),
                                      ("B³ precision", "bcubed_precision", "b3-p"),
                                      ("B³ recall", "bcubed_recall", "b3-r"))]
    chart = line_chart(series, (xs[0], xs[-1]), (y_lo, 1.0), "match threshold: match weight in bits (probability below)",
                       "share of pairs / mentions", _x_ticks(xs[0], xs[-1]),
                       [round(v, 2) for v in np.arange(y_lo, 1.0001, 0.1 if y_lo < 0.8 else 0.05)],
                       [Marker(sweep.weight_of(s.match_threshold), f"in use: {_threshold_text(s.match_threshold)}")],
                       "precision-recall")
    return ("<h3>Precision and recall against the match threshold</h3>"
            f'<p class="caption">The same scored pairs clustered again at each threshold (steward decisions and '
            f'identifier conflicts hold as in the run); the dashed line is the threshold in use. The vertical axis '
            f'starts at {y_lo:g}.</p>' + chart + _table(df, ["precision", "recall", "bcubed_precision", "bcubed_recall"]))


def _queue(s: sweep.ScoredKind) -> str:
    df = sweep.queue_sweep(s, sweep.thresholds(s.review_threshold, s.match_threshold))
    xs, ys = df["weight"].tolist(), df["items"].tolist()
    top = max(1, int(np.ceil(max(ys) * 1.1)))
    step = max(1, int(np.ceil(top / 5)))
    chart = line_chart([Series("items waiting", xs, ys, "queue",
                               [f"{n:,} items at {_threshold_text(t)}" for n, t in zip(ys, df["threshold"])])],
                       (sweep.WEIGHTS[0], xs[-1]), (0, step * 5), "review threshold: match weight in bits "
                       "(probability below)", "queue items for stewards", _x_ticks(sweep.WEIGHTS[0], xs[-1]),
                       list(range(0, step * 5 + 1, step)),
                       [Marker(sweep.weight_of(s.review_threshold), f"in use: {_threshold_text(s.review_threshold)}"),
                        Marker(xs[-1], "match threshold")], "review-queue")
    return ("<h3>The review queue against the review threshold</h3>"
            '<p class="caption">Queue items that would wait for a steward with the review threshold lowered or '
            "raised (entities as resolved at the match threshold in use; ambiguous and conflicting pairs wait at "
            "any threshold; pairs a steward settled never). An item is two entities (their best pair), or a "
            "mention with its candidate entities; a bare name that fits several firms is left unlinked, not "
            "queued.</p>" + chart + _table(df, ["items"]))


def _weights(model: dict) -> str:
    prior = float(model["prior"])
    chart = weight_bars(model["weights"], "weights", "weight in bits: log2(m/u)")
    return ("<h3>Each field's weights</h3>"
            f'<p class="caption">Per comparison level, log<sub>2</sub>(m/u) as fitted in this run: the evidence the '
            f"level adds for a match (right) or against it (left); a missing value adds 0. The prior, "
            f"{prior:.3g} ({sweep.weight_of(prior):+.2f} bits), is where every pair's score starts.</p>" + chart)


def _table(df: pd.DataFrame, columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    rows = "".join(f"<tr><td>{w:.2f}</td><td>{probability_text(t)}</td>"
                   + "".join(f"<td>{v:.4f}</td>" if isinstance(v, float) else f"<td>{v:,}</td>" for v in r)
                   + "</tr>" for w, t, r in zip(df["weight"], df["threshold"], df[columns].itertuples(index=False)))
    return f"<details><summary>the numbers</summary><table><tr><th>bits</th><th>probability</th>{head}</tr>{rows}</table></details>"
