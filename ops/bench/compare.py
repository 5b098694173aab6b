"""A tuning change's before/after table (pure): the mean of several bench summaries on each side, per figure."""
from __future__ import annotations

from statistics import mean

# the figures a tuning change is judged by, each (label, path into a side of summary.json)
FIGURES = (
    ("purchases/min (whole run)", ("whole", "per_min")),
    ("p50 of a purchase, s", ("whole", "p50_s")),
    ("p95 of a purchase, s", ("whole", "p95_s")),
    ("failed purchases", ("whole", "failed")),
    ("CPU s per purchase, net of idle", ("cpu", "net_per_purchase_total")),
    ("CPU s per purchase, gross", ("cpu", "per_purchase_total")),
)


def _get(side: dict, path: tuple):
    for key in path:
        side = side.get(key) if isinstance(side, dict) else None
    return side


def _services(sides: list[dict], top: int) -> list[str]:
    """The services with the most net CPU per purchase, over every run given."""
    total: dict[str, float] = {}
    for side in sides:
        for name, v in (_get(side, ("cpu", "net_per_purchase")) or {}).items():
            total[name] = total.get(name, 0.0) + v
    return sorted(total, key=lambda n: -total[n])[:top]


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(mean(values), 3) if values else None


def _row(label: str, before: list, after: list) -> str:
    b, a = _mean(before), _mean(after)
    change = f"{100 * (a - b) / b:+.0f} %" if b and a is not None else "-"
    runs = lambda vs: ", ".join("-" if v is None else f"{v:g}" for v in vs)  # noqa: E731
    return f"| {label} | {'-' if b is None else f'{b:g}'} ({runs(before)}) | {'-' if a is None else f'{a:g}'} " \
           f"({runs(after)}) | {change} |"


def table(before: list[dict], after: list[dict], side: str = "ha", top: int = 6) -> str:
    """Markdown: each figure's mean before and after (every run's value in brackets) and the change."""
    b_sides = [s[side] for s in before if s.get(side)]
    a_sides = [s[side] for s in after if s.get(side)]
    lines = [f"| figure ({side}) | before: mean (runs) | after: mean (runs) | change |", "| --- | ---: | ---: | ---: |"]
    for label, path in FIGURES:
        lines.append(_row(label, [_get(s, path) for s in b_sides], [_get(s, path) for s in a_sides]))
    for name in _services(b_sides + a_sides, top):
        path = ("cpu", "net_per_purchase", name)
        lines.append(_row(f"{name}: net CPU s per purchase", [_get(s, path) for s in b_sides],
                          [_get(s, path) for s in a_sides]))
    return "\n".join(lines) + "\n"
