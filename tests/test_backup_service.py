"""The backup service's own logic (images/backup/pxc_backup.py): schedule, manifest maths, set bookkeeping."""
import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "backup"
spec = importlib.util.spec_from_file_location("pxc_backup", ROOT / "images" / "backup" / "pxc_backup.py")
pxc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pxc)

H = 3600


def b(label, kind, stop):
    return {"label": label, "type": kind, "stop": stop}


@pytest.mark.parametrize("backups,now,expected", [
    ([], 1000, "full"),
    ([b("F1", "full", 0)], 7 * 24 * H, "full"),
    ([b("F1", "full", 0)], 24 * H, "incr"),
    ([b("F1", "full", 0), b("I1", "incr", 23 * H)], 24 * H, None),
    ([b("F1", "full", 0), b("I1", "incr", 23 * H)], 47 * H, "incr"),
    ([b("F1", "full", 0), b("I1", "incr", 160 * H)], 168 * H, "full"),
])
def test_schedule_due(backups, now, expected):
    assert pxc.due(backups, now, 168 * H, 24 * H) == expected


def test_backups_of_a_captured_info_oldest_first_with_their_set():
    info = json.loads((FIXTURES / "info.json").read_text())
    got = pxc.backups_of(info)
    assert [x["type"] for x in got] == ["full", "incr"]
    assert got[0]["set"] and got[0]["stop"] <= got[1]["stop"]


def test_codes_digest_ignores_order_and_blob_keys_are_content_addressed():
    assert pxc.codes_digest(["B2", "A1"]) == pxc.codes_digest(["A1", "B2"])
    assert pxc.codes_digest(["A1"]) != pxc.codes_digest(["A1", "B2"])
    assert pxc.blob_key('"5d41402abc4b2a76b9719d911017c592"', 5) == "pxc/media/5d41402abc4b2a76b9719d911017c592-5"


def test_secret_refs_are_names_only():
    refs = pxc.secret_refs("django_secret=pxc_django_secret_0123456789 \n pretix_cfg=pxc_pretix_cfg_abcdef0123")
    assert refs == {"django_secret": "pxc_django_secret_0123456789", "pretix_cfg": "pxc_pretix_cfg_abcdef0123"}


class FakeCursor:
    """Answers the manifest's queries in order, records them."""

    def __init__(self):
        self.sql, self.answer = [], None

    def execute(self, sql, args=None):
        self.sql.append(sql)
        if "pg_create_restore_point" in sql:
            self.answer = [("0/3000028",)]
        elif sql == "SELECT now()":
            self.answer = [(dt.datetime(2026, 11, 30, 11, 15, tzinfo=dt.timezone(dt.timedelta(hours=1))),)]
        elif "FROM pretixbase_order ORDER BY code" in sql:
            self.answer = [("AB1CD",), ("ZZ9ZZ",)]
        elif "pretixbase_event e JOIN" in sql:
            self.answer = [("demo/conf",)]
        elif "count(*)" in sql:
            self.answer = [(2, "0123abcd")]

    def fetchone(self):
        return self.answer[0]

    def fetchall(self):
        return self.answer


def test_db_manifest_takes_the_restore_point_first_in_one_snapshot():
    cur = FakeCursor()
    m = pxc.db_manifest(cur, "pxc-20261130T101500Z")
    assert cur.sql[0] == "BEGIN ISOLATION LEVEL REPEATABLE READ" and "pg_create_restore_point" in cur.sql[1]
    assert cur.sql[-1] == "COMMIT"
    assert m["taken"] == "2026-11-30T10:15:00+00:00" and m["lsn"] == "0/3000028"
    assert m["orders"] == {"count": 2, "codes": ["AB1CD", "ZZ9ZZ"], "codes_sha256": pxc.codes_digest(["AB1CD", "ZZ9ZZ"])}
    assert m["events"] == ["demo/conf"] and set(m["tables"]) == set(pxc.KEY_TABLES)
    assert m["tables"]["pretixbase_order"] == {"rows": 2, "md5": "0123abcd"}
    assert "md5(t::text)" in cur.sql[5] and "ORDER BY t.id" in cur.sql[5]


def test_summary_drops_the_bulky_parts():
    s = {"id": "X", "db": {"taken": "t", "orders": {"count": 1, "codes": ["A"], "codes_sha256": "h"}},
         "media": {"count": 1, "objects": {"k": ["e", 1]}}}
    assert pxc.summary(s) == {"id": "X", "db": {"taken": "t", "orders": {"count": 1, "codes_sha256": "h"}},
                              "media": {"count": 1}}


def test_unknown_command_is_one_error_line(capsys):
    assert pxc.main(["pxc-backup", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "ERROR: unknown command 'nope'"
