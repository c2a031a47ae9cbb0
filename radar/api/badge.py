"""A flat README badge: '<system> | <HEALTH> <success rate>'."""

from xml.sax.saxutils import escape

COLORS = {
    "GREEN": "#4c1",
    "YELLOW": "#dfb317",
    "RED": "#e05d44",
    "SILENT": "#9f9f9f",
    "UNKNOWN": "#9f9f9f",
}
CHAR_WIDTH = 7  # px per character at 11px Verdana, close enough for a badge


def _width(text):
    return len(text) * CHAR_WIDTH + 10


def render(name, health, success_rate):
    health = health if health in COLORS else "UNKNOWN"
    label = (name or "CI")[:40]
    value = health if success_rate is None else "%s %d%%" % (health, round(success_rate * 100))
    lw, vw = _width(label), _width(value)
    total = lw + vw
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        'aria-label="{alabel}: {avalue}">'
        '<title>{alabel}: {avalue}</title>'
        '<rect width="{lw}" height="20" fill="#555"/>'
        '<rect x="{lw}" width="{vw}" height="20" fill="{color}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        'font-size="11">'
        '<text x="{lx}" y="14">{label}</text>'
        '<text x="{vx}" y="14">{value}</text>'
        '</g></svg>'
    ).format(total=total, lw=lw, vw=vw, color=COLORS[health], lx=lw / 2, vx=lw + vw / 2,
             label=escape(label), value=escape(value),
             alabel=escape(label, {'"': "&quot;"}), avalue=escape(value, {'"': "&quot;"}))
