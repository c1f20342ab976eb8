"""Small server-side SVG plots: vertical bars (per year, per week) and horizontal bars (shares, counts).

No script and no inline style: the SVG carries sizes as attributes and its colours come from classes in
app.css, so plots render under the page's Content-Security-Policy and with JavaScript off.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def bars(points: Sequence[tuple[str, float]], *, label: str, width: int = 560, height: int = 180,
         every: int = 0) -> Markup:
    """Vertical bars, one per (x label, value); every n-th x label shown (all when they fit)."""
    if not points:
        return Markup("")
    top = max(v for _, v in points) or 1
    pad_l, pad_b, pad_t = 36, 22, 10
    w = (width - pad_l - 4) / len(points)
    every = every or max(1, int(len(points) * 38 / width) + 1)
    h_area = height - pad_b - pad_t
    parts = [f'<svg class="plot bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
             f"<title>{escape(label)}</title>",
             f'<line class="axis" x1="{pad_l}" y1="{height - pad_b}" x2="{width}" y2="{height - pad_b}"/>',
             f'<text class="tick" x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end">{_fmt(top)}</text>',
             f'<text class="tick" x="{pad_l - 4}" y="{height - pad_b}" text-anchor="end">0</text>']
    for i, (x, v) in enumerate(points):
        bh = 0 if top == 0 else h_area * v / top
        x0 = pad_l + i * w
        parts.append(f'<rect class="bar" x="{x0 + 1:.1f}" y="{height - pad_b - bh:.1f}" width="{max(w - 2, 1):.1f}"'
                     f' height="{bh:.1f}"><title>{escape(x)}: {_fmt(v)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text class="tick" x="{x0 + w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                         f"{escape(x)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(points: Sequence[tuple[str, float]], *, label: str, width: int = 560, unit: str = "",
          href: Sequence[str] | None = None) -> Markup:
    """Horizontal bars, one row per (name, value), longest first as given; optional link per row."""
    if not points:
        return Markup("")
    top = max(v for _, v in points) or 1
    row, name_w = 22, 190
    height = row * len(points) + 4
    parts = [f'<svg class="plot hbars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
             f"<title>{escape(label)}</title>"]
    for i, (name, v) in enumerate(points):
        y = 2 + i * row
        bw = (width - name_w - 60) * v / top
        text = f'<text class="name" x="{name_w - 6}" y="{y + 15}" text-anchor="end">{escape(_clip(name))}</text>'
        if href and href[i]:
            text = f'<a href="{escape(href[i])}">{text}</a>'
        parts.append(text)
        parts.append(f'<rect class="bar" x="{name_w}" y="{y + 3}" width="{max(bw, 1):.1f}" height="{row - 6}">'
                     f"<title>{escape(name)}: {_fmt(v)}{escape(unit)}</title></rect>")
        parts.append(f'<text class="tick" x="{name_w + bw + 4:.1f}" y="{y + 15}">{_fmt(v)}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_hbars(rows: Sequence[tuple[str, float, float]], *, label: str, now: str, then: str, width: int = 560,
                 href: Sequence[str] | None = None) -> Markup:
    """Two horizontal bars per (name, share now, share then), shares as fractions; the row's text says both."""
    if not rows:
        return Markup("")
    top = max(max(a, b) for _, a, b in rows) or 1
    row, name_w, room = 26, 190, width - 190 - 110
    parts = [f'<svg class="plot hbars paired" viewBox="0 0 {width} {row * len(rows) + 4}" role="img"'
             f' aria-label="{escape(label)}">', f"<title>{escape(label)}</title>"]
    for i, (name, a, b) in enumerate(rows):
        y = 2 + i * row
        text = f'<text class="name" x="{name_w - 6}" y="{y + 16}" text-anchor="end">{escape(_clip(name))}</text>'
        if href and href[i]:
            text = f'<a href="{escape(href[i])}">{text}</a>'
        parts.append(text)
        said = f"{escape(name)}: {a:.0%} of papers {escape(now)}, {b:.0%} {escape(then)}"
        parts.append(f'<rect class="bar" x="{name_w}" y="{y + 3}" width="{max(room * a / top, 1):.1f}" height="10">'
                     f"<title>{said}</title></rect>")
        parts.append(f'<rect class="bar then" x="{name_w}" y="{y + 14}" width="{max(room * b / top, 1):.1f}"'
                     f' height="8"><title>{said}</title></rect>')
        parts.append(f'<text class="tick" x="{name_w + room * max(a, b) / top + 4:.1f}" y="{y + 16}">'
                     f"{b:.0%} → {a:.0%}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(s: str, n: int = 28) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
