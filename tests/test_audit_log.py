"""The audit log: its commands (whole strings), the merge of every manager's copy, what status and history show,
what the decorator records (no secret, the result of the task, never a changed outcome)."""
import base64
import json

import pytest
from invoke.exceptions import Exit

from ops.builders import audit as B
from ops.cluster import audit as A
from ops.core.errors import OpsError
from ops.core.output import MASKER
from ops.facts import audit as F
from ops.tasks import audited as D


def test_append_sends_base64_lines_to_this_hosts_file():
    cmd = B.audit_append("lab-pretix", ['{"id": "a"}', '{"id": "b"}'])
    payload = base64.b64encode(b'{"id": "a"}\n{"id": "b"}\n').decode()
    assert cmd == (f"mkdir -p /var/lib/pretix-cluster/lab-pretix && echo {payload} | base64 -d >> "
                   '"/var/lib/pretix-cluster/lab-pretix/audit-$(hostname).jsonl"')


def test_read_and_maintenance_commands():
    assert B.audit_read("lab-pretix", 10) == \
        'tail -n 10 "/var/lib/pretix-cluster/lab-pretix/audit-$(hostname).jsonl" 2>/dev/null; true'
    d = "/var/lib/pretix-cluster/lab-pretix/maintenance"
    assert B.maintenance_on("lab-pretix", "me@host it's time") == \
        f"mkdir -p {d} && printf '%s\\n' 'me@host it'\"'\"'s time' > {d}/.on.tmp && mv -f {d}/.on.tmp {d}/on"
    assert B.maintenance_off("lab-pretix") == f"rm -f {d}/on"
    assert B.maintenance_state("lab-pretix") == \
        f'if [ -f {d}/on ]; then echo "on $(head -n1 {d}/on)"; else echo off; fi'
    assert B.maintenance_prepare("lab-pretix") == f"mkdir -p {d}"


def e(i, ts, task="deploy", result="ok", **kw):
    return {"id": i, "ts": ts, "time": f"T{ts}", "who": "ops@laptop", "task": task, "result": result, **kw}


def test_merge_deduplicates_and_sorts_newest_first_skipping_torn_lines():
    n1 = "\n".join(json.dumps(x) for x in (e("a", 1), e("b", 2))) + '\n{"id": "c", "ta'
    n2 = "\n".join(json.dumps(x) for x in (e("b", 2), e("c", 3, "scale")))
    assert [x["id"] for x in F.merge(n1, n2, "")] == ["c", "b", "a"]
    assert F.parse_log("not json\n[1, 2]\n{}\n") == []


def test_last_deploy_line_names_tags_and_a_newer_failure():
    entries = [e("c", 3, "deploy", "error: images missing"), e("b", 2, "scale"),
               e("a", 1, "upgrade", tags={"pretix": "c1-pretix2026.8.0", "nginx": "c2"})]
    assert F.last_deploy_line(entries) == (
        "last deploy: upgrade T1 by ops@laptop: nginx:c2, pretix:c1-pretix2026.8.0; newer failed deploy T3 by "
        "ops@laptop: error: images missing")
    assert F.last_deploy_line([e("b", 2, "scale")]) == "last deploy: none in the audit log"


def test_lock_line():
    assert F.lock_line({"n1": "", "n2": ""}, "/var/tmp/x") == "deploy lock: free"
    assert F.lock_line({"n1": "ops@laptop 2026-11-29T10:00:00Z", "n2": ""}, "/var/tmp/x") == (
        "deploy lock: HELD on n1 by ops@laptop 2026-11-29T10:00:00Z (/var/tmp/x; a deploy runs, or `inv unlock` "
        "if it was interrupted)")


def test_history_lines_show_args_notes_and_images_of_deploys():
    entries = [e("b", 2, "failover.db", args={"to": "n2"}, seconds=12.4, notes={"empty": None}),
               e("a", 1, "upgrade", args={"pretix": "2026.8.0", "no_backup": True}, tags={"pretix": "t"},
                 notes={"window_s": 41.5, "migrations": 3})]
    assert F.history_lines(entries) == [
        f"T2  ops@laptop               {'failover.db --to n2':40} ok (12 s)",
        f"T1  ops@laptop               {'upgrade --pretix 2026.8.0 --no-backup':40} ok",
        "    migrations: 3, window_s: 41.5",
        "    images: pretix:t",
    ]


def test_entry_never_holds_a_secret():
    MASKER.add("s3cr3t-value")
    entry = A.entry("deploy", {"rotate": "django_secret", "password": "x", "note": "has s3cr3t-value inside",
                               "web": 3, "follow": False, "tag": None}, {"pretix": "t"}, "error: bad s3cr3t-value",
                    started=100.0, notes={"tags": {"x": 1}, "window_s": 3}, now=112.5)
    assert entry["args"] == {"rotate": "django_secret", "password": "******", "note": "has ****** inside", "web": 3}
    assert entry["result"] == "error: bad ******"
    assert entry["seconds"] == 12.5 and entry["time"] == "1970-01-01T00:01:52Z"
    assert entry["notes"] == {"window_s": 3} and entry["tags"] == {"pretix": "t"}
    assert len(entry["id"]) == 16 and "@" in entry["who"]


@pytest.mark.parametrize("exc, text", [
    (None, "ok"),
    (Exit("error: deploy lock is held by x", 1), "error: deploy lock is held by x"),
    (OpsError("two\nlines"), "error: two"),
    (KeyboardInterrupt(), "error: interrupted"),
    (ValueError("boom"), "error: ValueError: boom"),
])
def test_outcome(exc, text):
    assert D.outcome(exc) == text


def fake_task(c, pretix, no_backup=False, timeout=900, cluster=None):
    D.note(tags={"pretix": "new"}, window_s=1.5)
    if pretix == "bad":
        raise Exit("error: no such release", 1)
    return "done"


def test_decorator_records_once_with_given_args_notes_and_result(monkeypatch):
    calls = []
    monkeypatch.setattr(D, "record", lambda c, name, fn, call, notes, started, exc: calls.append(
        (name, D.given_args(fn, c, *call), dict(notes), D.outcome(exc))))
    task = D.audited("upgrade")(fake_task)
    assert task("ctx", "2026.8.0", timeout=900, cluster="lab") == "done"
    with pytest.raises(Exit):
        task("ctx", pretix="bad", no_backup=True)
    assert calls == [
        ("upgrade", ({"pretix": "2026.8.0"}, "lab"), {"tags": {"pretix": "new"}, "window_s": 1.5}, "ok"),
        ("upgrade", ({"pretix": "bad", "no_backup": True}, None), {"tags": {"pretix": "new"}, "window_s": 1.5},
         "error: no such release"),
    ]
    assert D.audited(fake_task).__name__ == "fake_task"
    D.note(ignored=True)   # outside a task: nothing to add to, no error
