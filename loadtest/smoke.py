"""A bounded load run by hand: Locust master + workers, then the audit against the REST API and the timeline."""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.core.errors import OpsError  # noqa: E402
from ops.core.files import read_text  # noqa: E402
from ops.load import scenario  # noqa: E402
from ops.load.audit import audit_inputs, fetch_inputs, snapshot_quota  # noqa: E402
from ops.load.options import LoadOptions  # noqa: E402
from ops.load.runner import plan, plan_table, run_load  # noqa: E402
from ops.load.timeline import purchase_stats, timeline  # noqa: E402
from ops.shop.api import Api  # noqa: E402

TOKEN = Path("~/.local/state/pretix-cluster/lab/shop/api_token").expanduser()


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="http://127.0.0.1:8080", help="the shop, as the generator reaches it")
    p.add_argument("--api-url", help="the shop as this process reaches it, for the audit (default: --host)")
    p.add_argument("--organizer", default="demo")
    p.add_argument("--event", default="conf")
    p.add_argument("--token-file", default=str(TOKEN))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--buyers", type=int, default=4)
    p.add_argument("--lookers", type=int, default=1)
    p.add_argument("--api-buyers", type=int, default=0)
    p.add_argument("--pacing", type=float, default=6.0, help="seconds between one buyer's purchases")
    p.add_argument("--run-time", type=int, default=60, help="seconds (hard bound)")
    p.add_argument("--table", choices=["peaks", "ramp"],
                   help="play a scenario table instead of constant users (its own run time; lookers as in the table)")
    p.add_argument("--fault-at", type=float, help="seconds into the run for the timeline (default: the middle)")
    p.add_argument("--netns", help="run the generator inside this network namespace")
    p.add_argument("--out", default=f"/tmp/pxc-load-{int(time.time())}")
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse(argv)
    users = a.buyers + a.lookers + a.api_buyers
    out = Path(a.out)
    opts = LoadOptions(organizer=a.organizer, event=a.event, token_file=a.token_file, pacing=a.pacing,
                       looker_ratio=a.lookers / users, api_ratio=a.api_buyers / users)
    if a.table:
        doc = (scenario.peaks_table if a.table == "peaks" else scenario.ramp_table)(pacing_s=a.pacing)
        run = plan_table(a.host, out, doc, workers=a.workers, options=opts, netns=a.netns)
    else:
        run = plan(a.host, out, a.run_time, workers=a.workers, options=opts, users=users, spawn_rate=users,
                   netns=a.netns)
    api = Api(a.api_url or a.host, read_text(Path(a.token_file)) or "")
    try:
        before = snapshot_quota(api, a.organizer, a.event)
        result = run_load(run)
        records = result.records
        inputs = fetch_inputs(api, a.organizer, a.event, result.started, before)
        (out / "audit-input.json").write_text(json.dumps(inputs, indent=1))
        report = audit_inputs(records, inputs, run.options.run_id)
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result.lines()))
    stats = purchase_stats(records, "browser")
    print(f"browser purchases: {stats['completed']} of {stats['attempts']} completed, "
          f"{stats['per_min'] or 0:.1f}/min, p50 {stats['p50_s'] or 0:.2f} s, p95 {stats['p95_s'] or 0:.2f} s")
    row = result.stats_row()
    if row:
        print(f"locust 'browser purchase': {row['Request Count']} requests, {row['Failure Count']} failures, "
              f"p50 {row['50%']} ms, p95 {row['95%']} ms")
    fault = result.started + (a.fault_at if a.fault_at is not None else run.run_time_s / 2)
    print("\n".join(timeline(records, fault).lines()))
    print("\n".join(report.lines()))
    return 0 if report.ok else 2


if __name__ == "__main__":
    sys.exit(main())
