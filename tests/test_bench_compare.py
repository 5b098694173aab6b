"""The before/after table of a tuning change, on hand-made summaries (whole strings)."""
from ops.bench.compare import table


def summary(per_min, p95, net, web, worker, failed=0):
    return {"ha": {"whole": {"per_min": per_min, "p50_s": 1.0, "p95_s": p95, "failed": failed},
                   "cpu": {"net_per_purchase_total": net, "per_purchase_total": net + 1,
                           "net_per_purchase": {"web": web, "worker": worker}}}}


def test_table_gives_means_runs_and_change():
    before = [summary(30, 10, 1.4, 0.7, 0.3), summary(34, 8, 1.2, 0.6, 0.3)]
    after = [summary(34, 6, 1.0, 0.5, 0.2, failed=1)]
    assert table(before, after, top=2) == (
        "| figure (ha) | before: mean (runs) | after: mean (runs) | change |\n"
        "| --- | ---: | ---: | ---: |\n"
        "| purchases/min (whole run) | 32 (30, 34) | 34 (34) | +6 % |\n"
        "| p50 of a purchase, s | 1 (1, 1) | 1 (1) | +0 % |\n"
        "| p95 of a purchase, s | 9 (10, 8) | 6 (6) | -33 % |\n"
        "| failed purchases | 0 (0, 0) | 1 (1) | - |\n"
        "| CPU s per purchase, net of idle | 1.3 (1.4, 1.2) | 1 (1) | -23 % |\n"
        "| CPU s per purchase, gross | 2.3 (2.4, 2.2) | 2 (2) | -13 % |\n"
        "| web: net CPU s per purchase | 0.65 (0.7, 0.6) | 0.5 (0.5) | -23 % |\n"
        "| worker: net CPU s per purchase | 0.3 (0.3, 0.3) | 0.2 (0.2) | -33 % |\n")


def test_missing_figures_and_sides_show_a_dash():
    assert "| purchases/min (whole run) | - () | - () | - |" in table([{"baseline": None}], [])
