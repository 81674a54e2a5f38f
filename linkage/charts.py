"""Small inline SVG charts for the evaluation report: drawn here, so the page needs no script,
no library and no network. Marks carry classes (`point`, `bar`, `threshold`) and a <title>
each, for a reader's tooltip and for the browser test to count."""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 680, 330
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 48, 62  # margins: axis labels left and below, legend right,
MARKER_ROW = 14                              # threshold labels above


@dataclass
class Series:
    label: str
    xs: list[float]
    ys: list[float]
    css: str                 # a class the page's style colours
    tips: list[str] | None = None


@dataclass
class Marker:
    x: float
    label: str


def probability_text(p: float) -> str:
    """A probability with the digits that tell it from 0 or 1: 0.99, 0.999, 0.03."""
    if p >= 1 or p <= 0:
        return f"{p:g}"
    if p < 0.5:
        return f"{p:.2g}"
    return f"{p:.{max(2, round(-math.log10(1 - p)))}f}"


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) * (b - a) / span


def line_chart(series: list[Series], x_range: tuple[float, float], y_range: tuple[float, float],
               x_label: str, y_label: str, x_ticks: list[tuple[float, str]], y_ticks: list[float],
               markers: list[Marker], name: str, step: bool = False) -> str:
    """Lines with a point per value (steps when `step`: the value holds until the next x),
    vertical dashed lines at `markers` (the thresholds in use) and a legend."""
    x = _scale(*x_range, LEFT, WIDTH - RIGHT)
    y = _scale(*y_range, HEIGHT - BOTTOM, TOP)
    parts = [_axes(x, y, x_range, y_range, x_label, y_label, x_ticks, y_ticks)]
    for m in markers:
        parts.append(f'<line class="threshold" x1="{x(m.x):.1f}" x2="{x(m.x):.1f}" y1="{TOP}" '
                     f'y2="{HEIGHT - BOTTOM}"><title>{escape(m.label)}</title></line>'
                     f'<text class="threshold-label" x="{x(m.x):.1f}" y="{MARKER_ROW * (markers.index(m) + 1)}" text-anchor="middle">'
                     f'{escape(m.label)}</text>')
    for i, s in enumerate(series):
        parts.append(_line(s, x, y, step))
        ly = TOP + 8 + 20 * i
        parts.append(f'<g class="legend {s.css}"><line x1="{WIDTH - RIGHT + 12}" x2="{WIDTH - RIGHT + 36}" '
                     f'y1="{ly}" y2="{ly}"/><text x="{WIDTH - RIGHT + 42}" y="{ly + 4}">{escape(s.label)}</text></g>')
    return _svg(name, "".join(parts))


def _line(s: Series, x, y, step: bool) -> str:
    coords = []
    for i, (a, b) in enumerate(zip(s.xs, s.ys)):
        if step and i:
            coords.append(f"{x(a):.1f},{y(s.ys[i - 1]):.1f}")
        coords.append(f"{x(a):.1f},{y(b):.1f}")
    tips = s.tips or [f"{s.label}: {b:g}" for b in s.ys]
    points = "".join(f'<circle class="point" cx="{x(a):.1f}" cy="{y(b):.1f}" r="3"><title>{escape(t)}</title>'
                     f'</circle>' for a, b, t in zip(s.xs, s.ys, tips))
    return f'<g class="series {s.css}"><polyline points="{" ".join(coords)}"/>{points}</g>'


def _axes(x, y, x_range, y_range, x_label, y_label, x_ticks, y_ticks) -> str:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    out = [f'<line class="axis" x1="{LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}"/>',
           f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>']
    for v, text in x_ticks:
        lines = text.split("\n")
        out.append(f'<line class="tick" x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{bottom}" y2="{bottom + 5}"/>')
        out += [f'<text class="tick-label" x="{x(v):.1f}" y="{bottom + 18 + 13 * k}" text-anchor="middle">'
                f'{escape(t)}</text>' for k, t in enumerate(lines)]
    for v in y_ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                   f'<text class="tick-label" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<text class="axis-label" x="{(LEFT + right) / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
               f'{escape(x_label)}</text>')
    out.append(f'<text class="axis-label" transform="translate(14 {(TOP + bottom) / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(y_label)}</text>')
    return "".join(out)


def weight_bars(fields: dict[str, dict[str, float]], name: str, x_label: str) -> str:
    """Horizontal bars, one per comparison level of each field, from a zero line: evidence for a
    match to the right, against it to the left, each labelled with its weight."""
    rows = [(f, level, w) for f, levels in fields.items() for level, w in levels.items()]
    bar, gap, top = 18, 10, 24
    height = top + len(rows) * bar + len(fields) * gap + 44
    lo = min([0.0, *(w for *_, w in rows)])
    hi = max([0.0, *(w for *_, w in rows)])
    lo, hi = math.floor(lo / 5) * 5, math.ceil(hi / 5) * 5
    left, right = 270, WIDTH - 40
    x = _scale(lo, hi, left, right)
    out, yy, last = [], top, None
    for f, level, w in rows:
        if f != last:
            yy += gap if last is not None else 0
            out.append(f'<text class="field-label" x="4" y="{yy + 13}">{escape(f)}</text>')
            last = f
        a, b = sorted((x(0), x(w)))
        side = "for" if w >= 0 else "against"
        out.append(f'<text class="tick-label" x="96" y="{yy + 13}">{escape(level)}</text>'
                   f'<rect class="bar {side}" x="{a:.1f}" y="{yy + 2}" width="{max(b - a, 1):.1f}" height="{bar - 4}">'
                   f'<title>{escape(f)} {escape(level)}: {w:+.2f} bits</title></rect>'
                   f'<text class="value" x="{(b + 4) if w >= 0 else (a - 4):.1f}" y="{yy + 13}" '
                   f'text-anchor="{"start" if w >= 0 else "end"}">{w:+.2f}</text>')
        yy += bar
    axis_y = yy + 6
    out.append(f'<line class="axis" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 4}" y2="{axis_y}"/>'
               f'<line class="axis" x1="{left}" x2="{right}" y1="{axis_y}" y2="{axis_y}"/>')
    for v in range(int(lo), int(hi) + 1, 5):
        out.append(f'<text class="tick-label" x="{x(v):.1f}" y="{axis_y + 16}" text-anchor="middle">{v}</text>')
    out.append(f'<text class="axis-label" x="{(left + right) / 2:.1f}" y="{axis_y + 34}" text-anchor="middle">'
               f'{escape(x_label)}</text>')
    return _svg(name, "".join(out), height)


def _svg(name: str, body: str, height: int = HEIGHT) -> str:
    return (f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" xmlns="http://www.w3.org/2000/svg">{body}</svg>')
