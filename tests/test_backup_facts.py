"""Facts of the backups, on captured answers: pgBackRest info, the choice of a set, the restore request, the
comparison of a restored database with the set's manifest, the listing."""
import datetime as dt
import json
from pathlib import Path

import pytest

from ops.core.errors import OpsError
from ops.facts import backup as F

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "backup"
UTC = dt.timezone.utc


def info():
    return json.loads((FIXTURES / "info.json").read_text())


def a_set(sid, taken, label="L", codes=("AAA11",), events=("demo/conf",), rows=1, md5="m"):
    return {"id": sid, "label": label, "type": "incr", "system_id": "7312", "repo_path": "/pretix/7312",
            "db": {"taken": taken, "restore_point": f"pxc-{sid}", "events": list(events),
                   "orders": {"count": len(codes), "codes": list(codes), "codes_sha256": "|".join(sorted(codes))},
                   "tables": {"pretixbase_order": {"rows": rows, "md5": md5}}},
            "media": {"count": 2}, "secrets": {"django_secret": "pxc_django_secret_1"}}


def test_backups_and_archive_range_of_captured_info():
    got = F.backups(info())
    assert [(b["type"], b["set"]) for b in got] == [("full", got[0]["set"]), ("incr", got[1]["set"])]
    assert got[0]["size"] > got[0]["repo_size"] > 0 and got[1]["stop"] >= got[0]["stop"]
    first, last = F.archive_range(info())
    assert first < last and len(first) == 24
    assert F.stanza_status(info()) == "pretix: ok"
    assert F.backups([]) == [] and F.archive_range([]) == (None, None) and F.stanza_status([]) == "empty"


def test_parse_answer_takes_the_last_json_line():
    assert F.parse_answer('pxc-backup: progress\n{"a": 1}\n') == {"a": 1}
    with pytest.raises(OpsError, match="no answer"):
        F.parse_answer("  \n")
    with pytest.raises(OpsError, match="not JSON|else than JSON"):
        F.parse_answer("Traceback (most recent call last)")


@pytest.mark.parametrize("text,expected", [
    ("2026-11-30T10:15:00Z", dt.datetime(2026, 11, 30, 10, 15, tzinfo=UTC)),
    ("2026-11-30 11:15:00+01:00", dt.datetime(2026, 11, 30, 10, 15, tzinfo=UTC)),
    ("2026-11-30T10:15:00", dt.datetime(2026, 11, 30, 10, 15, tzinfo=UTC)),
])
def test_parse_time(text, expected):
    assert F.parse_time(text) == expected


def test_parse_time_rejects_nonsense_with_the_fix():
    with pytest.raises(OpsError, match="ISO 8601"):
        F.parse_time("yesterday")


SETS = [a_set("20261130T090000Z", "2026-11-30T09:00:00+00:00", "L1"),
        a_set("20261130T100000Z", "2026-11-30T10:00:00+00:00", "L2")]


def test_choose_newest_by_default_before_a_time_or_by_id_or_label():
    assert F.choose(SETS)["id"] == "20261130T100000Z"
    assert F.choose(SETS, at=dt.datetime(2026, 11, 30, 9, 30, tzinfo=UTC))["id"] == "20261130T090000Z"
    assert F.choose(SETS, "L1")["id"] == "20261130T090000Z"
    assert F.choose(SETS, "20261130T100000Z", dt.datetime(2026, 11, 30, 11, tzinfo=UTC))["label"] == "L2"


@pytest.mark.parametrize("sets,set_id,at,message", [
    ([], None, None, "no backup set: take one with `inv backup`"),
    (SETS, "nope", None, "no backup set 'nope'"),
    (SETS, None, dt.datetime(2026, 11, 30, 8, tzinfo=UTC), "no backup set was taken before"),
    (SETS, "L2", dt.datetime(2026, 11, 30, 9, tzinfo=UTC), "before set 20261130T100000Z was taken"),
    (SETS, None, dt.datetime(2026, 12, 30, 9, tzinfo=UTC), "in the future"),
])
def test_choose_errors_name_the_fix(sets, set_id, at, message):
    with pytest.raises(OpsError, match=message.replace("(", r"\(").replace("`", ".")):
        F.choose(sets, set_id, at, now=dt.datetime(2026, 12, 1, tzinfo=UTC))


def test_restore_request_to_the_restore_point_or_a_time():
    assert F.restore_request(SETS[0], None) == {"set": "L1", "repo_path": "/pretix/7312", "set_id": "20261130T090000Z",
                                                "target": {"name": "pxc-20261130T090000Z"}}
    at = dt.datetime(2026, 11, 30, 9, 30, 5, 120000, tzinfo=UTC)
    assert F.restore_request(SETS[0], at)["target"] == {"time": "2026-11-30 09:30:05.120000+00"}


def test_compare_exact_and_point_in_time():
    rec = a_set("X", "2026-11-30T09:00:00+00:00", codes=("A", "B"), rows=2, md5="m1")["db"]
    same = a_set("X", "t", codes=("A", "B"), rows=2, md5="m1")["db"]
    later = a_set("X", "t", codes=("A", "B", "C"), rows=3, md5="m2")["db"]
    lost = a_set("X", "t", codes=("A",), events=(), rows=1, md5="m3")["db"]
    assert F.compare(rec, same, exact=True) == []
    assert F.compare(rec, later, exact=False) == []
    assert F.compare(rec, later, exact=True) == ["pretixbase_order: 3 rows, checksum m2 (recorded 2 rows, m1)",
                                                 "order codes differ: 3 now, 2 recorded"]
    assert F.compare(rec, lost, exact=False) == ["1 recorded order(s) missing: B", "event(s) missing: demo/conf",
                                                 "pretixbase_order: 1 rows, fewer than the 2 recorded"]


def test_set_lines_show_sets_histories_and_whether_secrets_changed():
    inf = info()
    s = a_set("20261130T101500Z", "2026-11-30T10:15:00+00:00", label=inf[0]["backup"][0]["label"])
    lines = F.set_lines({"histories": {"7312": inf}, "current": "7312", "sets": [s]},
                        {"django_secret": "pxc_django_secret_2"})
    assert lines[1].split()[:4] == ["20261130T101500Z", inf[0]["backup"][0]["label"], "full", "1"][:2] + ["incr", "1"]
    size = F.human_size(inf[0]["backup"][0]["info"]["size"])
    assert lines[1].endswith("changed: django_secret") and f" {size} " in lines[1]
    assert lines[2].startswith("  history 7312 (the running database): 2 backup(s), WAL 0000000100")
    assert F.set_lines({"histories": {}, "sets": [s]}, None)[1].endswith("  -")
    assert F.human_size(512) == "512 B" and F.human_size(3 * 1024 ** 3) == "3.0 GiB"


def test_last_error_is_the_last_error_line_without_its_prefix():
    lines = ["P00   INFO: backup command begin 2.45", "ERROR: [082]: first", "noise", "ERROR: [056]: stanza missing"]
    assert F.last_error(lines) == "[056]: stanza missing"
    assert F.last_error(["P00   INFO: ok"]) is None
