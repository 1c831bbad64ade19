"""Pictures drawn on the server as SVG: the collaboration network and the timeline of agreements.

Pure Python, no JavaScript: each picture is an inline `<svg role="img">` with a `<title>` and
a `<desc>` that say what it shows, and the page puts the same facts in a table beside it
(WCAG 2.2, 1.1.1 non-text content). Nodes are not links inside the picture (an image's
children are presentational), so the tables carry the links.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Colours with at least 3:1 contrast against white (WCAG 2.2, 1.4.11 non-text contrast).
PALETTE = (
    "#1d70b8",
    "#d4351c",
    "#00703c",
    "#4c2c92",
    "#b58840",
    "#912b88",
    "#28a197",
    "#f47738",
    "#5694ca",
    "#85994b",
    "#6f72af",
    "#505a5f",
)
TEXT = "#0b0c0c"
MUTED = "#505a5f"
FONT = 'font-family="Arial, Helvetica, sans-serif"'


@dataclass(frozen=True)
class Node:
    """A force in the network: its IRI, label, group (region) and size (agreements)."""

    key: str
    label: str
    group: str = ""
    size: int = 1


def _open(width: int, height: int, ident: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="picture" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _stroke(weight: int, heaviest: int) -> float:
    return round(1.0 + 7.0 * weight / max(heaviest, 1), 2)


def network(
    nodes: Sequence[Node],
    edges: Sequence[tuple[str, str, int]],
    *,
    ident: str,
    title: str,
    desc: str,
    centre: str | None = None,
) -> Markup:
    """Forces round a circle (or round `centre`), linked by lines as thick as shared agreements."""
    width, height = 880, 600
    cx, cy, radius = width / 2, height / 2 - 10, 215.0
    groups = sorted({n.group for n in nodes if n.group})
    colour = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    ring = [n for n in nodes if n.key != centre]
    position: dict[str, tuple[float, float, float]] = {}
    for i, node in enumerate(ring):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
        position[node.key] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle), angle)
    if centre is not None:
        position[centre] = (cx, cy, 0.0)
    heaviest = max((w for _, _, w in edges), default=1)
    biggest = max((n.size for n in nodes), default=1)
    out = _open(width, height, ident, title, desc)
    out.append('<g class="links" stroke="#1d70b8" stroke-linecap="round" fill="none">')
    for a, b, weight in sorted(edges, key=lambda e: e[2]):
        if a in position and b in position:
            (x1, y1, _), (x2, y2, _) = position[a], position[b]
            opacity = round(0.35 + 0.5 * weight / heaviest, 2)
            out.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke-width="{_stroke(weight, heaviest)}" stroke-opacity="{opacity}"/>'
            )
    out.append("</g>")
    # Labels get a white halo so that lines passing under them do not hide them.
    out.append(
        f'<g class="nodes" {FONT} font-size="14" fill="{TEXT}" stroke="#ffffff" '
        'stroke-width="4" paint-order="stroke" stroke-linejoin="round">'
    )
    for node in nodes:
        x, y, angle = position[node.key]
        r = 6 + 10 * math.sqrt(node.size / max(biggest, 1))
        fill = colour.get(node.group, MUTED)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" '
            f'stroke="#ffffff" stroke-width="2"/>'
        )
        if node.key == centre:
            out.append(
                f'<text x="{x:.1f}" y="{y + r + 18:.1f}" text-anchor="middle" '
                f'font-weight="bold">{escape(node.label)}</text>'
            )
            continue
        lx, ly = x + (r + 8) * math.cos(angle), y + (r + 8) * math.sin(angle) + 5
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        if anchor == "middle":
            ly += 10 if math.sin(angle) > 0 else -6
        out.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{escape(node.label)}</text>'
        )
    out.append("</g>")
    out += _legend(groups, colour, bottom=height - 12, width=width)
    out.append("</svg>")
    return Markup("\n".join(out))


def _legend(
    groups: Sequence[str], colour: dict[str, str], *, bottom: float, width: int
) -> list[str]:
    """A key of coloured dots naming the groups (regions), wrapped onto rows that fit."""
    rows: list[list[tuple[float, str]]] = [[]]
    x = 10.0
    for group in groups:
        step = 30 + 7.5 * len(group)
        if x + step > width - 10 and rows[-1]:
            rows.append([])
            x = 10.0
        rows[-1].append((x, group))
        x += step
    out = [f'<g class="legend" {FONT} font-size="13" fill="{TEXT}">']
    for i, row in enumerate(rows):
        y = bottom - 20 * (len(rows) - 1 - i)
        for x, group in row:
            out.append(f'<circle cx="{x + 6:.1f}" cy="{y - 4:.1f}" r="6" fill="{colour[group]}"/>')
            out.append(f'<text x="{x + 16:.1f}" y="{y:.1f}">{escape(group)}</text>')
    out.append("</g>")
    return out


def timeline(dates: Sequence[str], *, ident: str, title: str, desc: str) -> Markup:
    """Agreements per year as bars along a time axis, each bar labelled with its count."""
    years = Counter(int(d[:4]) for d in dates if d[:4].isdigit())
    width, height = 880, 260
    left, right, top, bottom = 40, 20, 30, 50
    out = _open(width, height, ident, title, desc)
    if not years:
        out.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" {FONT} '
            f'font-size="16" fill="{TEXT}">No dated agreements</text></svg>'
        )
        return Markup("\n".join(out))
    first, last = min(years), max(years)
    span = last - first + 1
    slot = (width - left - right) / span
    tallest = max(years.values())
    scale = (height - top - bottom) / tallest
    baseline = height - bottom
    out.append(f'<g {FONT} font-size="13" fill="{TEXT}">')
    out.append(
        f'<line x1="{left}" y1="{baseline}" x2="{width - right}" y2="{baseline}" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    )
    every = 1 if span <= 20 else 2 if span <= 40 else 5
    for i, year in enumerate(range(first, last + 1)):
        x = left + i * slot
        count = years.get(year, 0)
        if count:
            bar = count * scale
            out.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{baseline - bar:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{bar:.1f}" fill="#1d70b8"/>'
            )
            out.append(
                f'<text x="{x + slot / 2:.1f}" y="{baseline - bar - 6:.1f}" '
                f'text-anchor="middle" font-weight="bold">{count}</text>'
            )
        if (year - first) % every == 0 or year == last:
            out.append(
                f'<text x="{x + slot / 2:.1f}" y="{baseline + 20}" '
                f'text-anchor="middle">{year}</text>'
            )
    out.append(
        f'<text x="{left}" y="{height - 8}" fill="{MUTED}">Agreements by the year a '
        "register dates them</text>"
    )
    out.append("</g></svg>")
    return Markup("\n".join(out))
