"""PNG plots of a bench run (matplotlib, Agg: no display): throughput and latency over time with the stages
marked, and CPU per service (per purchase and idle) for each side."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend is chosen first)

from ..load.records import Record  # noqa: E402
from .stats import buckets  # noqa: E402

BUCKET_S = 10.0
COLORS = {"ha": "tab:blue", "baseline": "tab:orange"}


def _mark_stages(ax, stages: list[dict], origin: float, label: bool) -> None:
    for s in stages:
        ax.axvline(s["start"] - origin, color="grey", linestyle=":", linewidth=1)
        if label:
            ax.text(s["start"] - origin, 1.0, f" {s['name']}", transform=ax.get_xaxis_transform(), fontsize=8,
                    va="bottom", ha="left", color="dimgrey")


def timeline_plot(sides: dict[str, tuple[list[Record], list[dict]]], path: Path, title: str) -> Path:
    """Completed purchases/min and p50/p95 of a whole purchase per 10 s, failures, stage starts; one row per side.
    sides: name -> (records, stage windows with start/end epoch)."""
    fig, axes = plt.subplots(2 * len(sides), 1, figsize=(11, 4.2 * len(sides)), sharex=True, squeeze=False)
    for i, (name, (records, stages)) in enumerate(sides.items()):
        origin = stages[0]["start"] if stages else min((r.t0 for r in records), default=0.0)
        rows = buckets(records, origin, BUCKET_S)
        t = [b["t"] for b in rows]
        top, bottom = axes[2 * i][0], axes[2 * i + 1][0]
        top.plot(t, [b["per_min"] for b in rows], color=COLORS.get(name, "tab:green"), label="completed/min")
        top.bar(t, [b["failed"] * 60 / BUCKET_S for b in rows], width=BUCKET_S * 0.8, color="tab:red", alpha=0.6,
                label="failed/min")
        offered = [(s["start"] - origin, s["end"] - origin, s.get("rate_per_min")) for s in stages]
        for a, b, r in offered:
            if r:
                top.hlines(r, a, b, colors="black", linestyles="--", linewidth=1)
        top.set_ylabel(f"{name}: purchases/min")
        top.legend(loc="upper left", fontsize=8)
        bottom.plot(t, [b["p50_s"] for b in rows], label="p50", color="tab:green")
        bottom.plot(t, [b["p95_s"] for b in rows], label="p95", color="tab:purple")
        bottom.axhline(5.0, color="tab:red", linestyle="--", linewidth=1, label="5 s limit")
        bottom.set_ylabel(f"{name}: purchase s")
        bottom.legend(loc="upper left", fontsize=8)
        _mark_stages(top, stages, origin, True)
        _mark_stages(bottom, stages, origin, False)
    axes[-1][0].set_xlabel("seconds since the first stage (dashed: offered rate; dotted: stage start)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cpu_plot(sides: dict[str, dict], path: Path) -> Path:
    """Per service: CPU seconds per completed purchase (net of idle) and idle cores, each side's bars side by side.
    sides: name -> the side summary's "cpu" section."""
    services = sorted({s for cpu in sides.values() for s in (*cpu["net_per_purchase"], *cpu["idle"]["cores"])})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, max(3.0, 0.32 * len(services) + 1.5)), sharey=True)
    height = 0.8 / max(1, len(sides))
    for i, (name, cpu) in enumerate(sides.items()):
        y = [k + i * height for k in range(len(services))]
        color = COLORS.get(name, "tab:green")
        left.barh(y, [cpu["net_per_purchase"].get(s, 0.0) for s in services], height=height, color=color,
                  label=f"{name} ({cpu['net_per_purchase_total'] or 0:.2f} s in all)")
        right.barh(y, [cpu["idle"]["cores"].get(s, 0.0) for s in services], height=height, color=color,
                   label=f"{name} ({cpu['idle']['total_cores']:.2f} cores in all)")
    left.set_yticks([k + height * (len(sides) - 1) / 2 for k in range(len(services))], services)
    left.invert_yaxis()
    left.set_xlabel("CPU seconds per completed purchase (net of idle)")
    right.set_xlabel("idle cores (before the load)")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.suptitle("CPU per service, measured on the nodes (cgroup counters)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
