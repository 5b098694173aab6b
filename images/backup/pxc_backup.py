#!/usr/bin/python3
"""pxc-backup: the backup sets of pretix-cluster, run by the `backup` service (scheduler) and by `inv backup`.

A backup set (id = UTC time, e.g. 20261130T101500Z) is, in the object store's bucket pxc-backup:
  * a pgBackRest backup (full/incr, repository /pretix, annotated pxc-set=<id>) of whichever member is primary,
    reached through the members' pgBackRest TLS servers; WAL is archived continuously by the members;
  * a named restore point pxc-<id>, created in the same snapshot in which the manifest is read (order count, a
    hash of the order codes, rows and a checksum of key tables): restoring the set replays WAL to exactly there;
  * a copy of pretix's media bucket: content-addressed blobs (pxc/media/<etag>-<size>, copied server-side
    once) and the set's key -> blob map;
  * the references of the stack's secrets (Docker secret names, content-addressed: never values);
  * its manifest pxc/sets/<id>.json. Expired pgBackRest backups take their sets and unreferenced blobs along.

Commands (JSON on stdout, progress on stderr): schedule | run [full|incr|diff] | list | show ID | check |
flush | manifest | media-restore ID | pause | resume.
"""
import datetime
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time

STANZA = os.environ.get("BACKUP_STANZA", "pretix")
BUCKET = os.environ.get("BACKUP_S3_BUCKET", "pxc-backup")
REPO_BASE = os.environ.get("BACKUP_REPO_PATH", "/pretix")      # one history per database system id below it
MEDIA_BUCKET = os.environ.get("S3_MEDIA_BUCKET", "pretix-media")
ENDPOINT = f"https://{os.environ.get('BACKUP_S3_ENDPOINT', 's3')}:{os.environ.get('BACKUP_S3_PORT', '8443')}"
MEMBERS = os.environ.get("BACKUP_MEMBERS", "pg1 pg2 pg3").split()
KEY_TABLES = ("pretixbase_organizer", "pretixbase_event", "pretixbase_item", "pretixbase_quota",
              "pretixbase_order", "pretixbase_orderposition", "pretixbase_orderpayment", "pretixbase_invoice")
LOCK, PAUSED = "/tmp/pxc-backup.lock", "/tmp/pxc-backup.paused"
SETS, BLOBS = "pxc/sets/", "pxc/media/"
# fixed output formats: a row's text (and so its checksum) must not depend on the session
SESSION = ("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; "
           "SET extra_float_digits = 1; SET bytea_output = 'hex'")


class Fail(Exception):
    """An expected failure: its message names the fix."""


def log(msg):
    print(f"pxc-backup: {msg}", file=sys.stderr, flush=True)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def set_id(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


# ---------------------------------------------------------------- pure parts (tested on captures)

def backups_of(info):
    """pgBackRest `info --output=json` -> [{label, type, start, stop, set}] oldest first."""
    out = []
    for st in info or []:
        for b in st.get("backup", []):
            out.append({"label": b["label"], "type": b["type"], "start": b["timestamp"]["start"],
                        "stop": b["timestamp"]["stop"], "set": (b.get("annotation") or {}).get("pxc-set")})
    return sorted(out, key=lambda b: b["stop"])


def due(backups, now, full_every_s, incr_every_s):
    """The backup type the schedule wants now (full, incr) or None."""
    fulls = [b["stop"] for b in backups if b["type"] == "full"]
    if not fulls or now - max(fulls) >= full_every_s:
        return "full"
    if now - max(b["stop"] for b in backups) >= incr_every_s:
        return "incr"
    return None


def codes_digest(codes):
    return hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()


def blob_key(etag, size):
    return f"{BLOBS}{etag.strip(chr(34))}-{size}"


def secret_refs(text):
    """PXC_SECRET_REFS ('key=name ...', names from the stack) -> {key: name}; names hold a content digest."""
    return dict(item.split("=", 1) for item in text.split() if "=" in item)


# ---------------------------------------------------------------- pgBackRest, PostgreSQL, S3

def repo_path(sysid):
    return f"{REPO_BASE}/{sysid}"


def pgbackrest(sysid, *args, capture=True, check=True):
    """pgBackRest on the history (repository path) of database system sysid."""
    r = subprocess.run(["pgbackrest", f"--stanza={STANZA}", f"--repo1-path={repo_path(sysid)}", *args], text=True,
                       stdout=subprocess.PIPE if capture else sys.stderr, stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        why = (r.stderr.strip() or (r.stdout or "").strip()).splitlines()[-1:] or [f"exit {r.returncode}"]
        raise Fail(f"pgbackrest {args[-1]} failed: {why[0]}")
    return r


def info(sysid):
    return json.loads(pgbackrest(sysid, "--output=json", "info").stdout or "[]")


def histories(c):
    """The database system ids the repository holds a history of."""
    prefix = REPO_BASE.strip("/") + "/"
    pages = c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix, Delimiter="/")
    return sorted(p["Prefix"][len(prefix):].strip("/") for page in pages for p in page.get("CommonPrefixes", []))


def all_backups(c):
    return [b for sysid in histories(c) for b in backups_of(info(sysid))]


def connect():
    import psycopg2

    with open(os.environ.get("PG_SUPERUSER_PASSWORD_FILE", "/run/secrets/pg_superuser_password")) as f:
        password = f.read().strip()
    try:
        return psycopg2.connect(host=",".join(MEMBERS), port=5432, dbname="pretix", user="postgres",
                                password=password, target_session_attrs="read-write", connect_timeout=3)
    except psycopg2.Error as e:
        raise Fail(f"no PostgreSQL primary answers ({str(e).strip().splitlines()[-1]}): check `inv status`")


def db_manifest(cur, restore_point=None):
    """Read in one snapshot: the restore point (first, so every commit the snapshot sees precedes it), the order
    codes, the events and rows + checksum of the key tables."""
    cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    lsn = None
    if restore_point:
        cur.execute("SELECT pg_create_restore_point(%s)::text", (restore_point,))
        lsn = cur.fetchone()[0]
    cur.execute("SELECT now()")
    taken = cur.fetchone()[0].astimezone(datetime.timezone.utc).isoformat()
    cur.execute("SELECT code FROM pretixbase_order ORDER BY code")
    codes = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT o.slug || '/' || e.slug FROM pretixbase_event e JOIN pretixbase_organizer o "
                "ON o.id = e.organizer_id ORDER BY 1")
    events = [r[0] for r in cur.fetchall()]
    tables = {}
    for t in KEY_TABLES:
        cur.execute(f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.id)), '') FROM {t} t")
        rows, md5 = cur.fetchone()
        tables[t] = {"rows": rows, "md5": md5}
    cur.execute("COMMIT")
    return {"taken": taken, "restore_point": restore_point, "lsn": lsn, "events": events, "tables": tables,
            "orders": {"count": len(codes), "codes_sha256": codes_digest(codes), "codes": codes}}


def query(fn):
    conn = connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(SESSION)
            return fn(cur)
    finally:
        conn.close()


def manifest_now(restore_point=None):
    return query(lambda cur: db_manifest(cur, restore_point))


def system_id():
    """The running primary's database system identifier (its history in the repository)."""
    def read(cur):
        cur.execute("SELECT system_identifier::text FROM pg_control_system()")
        return cur.fetchone()[0]
    return query(read)


def s3():
    import boto3
    import botocore.config

    with open(os.environ.get("S3_BACKUP_SECRET_FILE", "/run/secrets/s3_backup_secret")) as f:
        secret = f.read().strip()
    return boto3.client("s3", endpoint_url=ENDPOINT, aws_access_key_id="pxc-backup", aws_secret_access_key=secret,
                        region_name="us-east-1", verify="/etc/pxc/ca.pem",
                        config=botocore.config.Config(s3={"addressing_style": "path"}, connect_timeout=5,
                                                      read_timeout=60, retries={"max_attempts": 5}))


def ensure_buckets(c):
    have = {b["Name"] for b in c.list_buckets().get("Buckets", [])}
    for b in (BUCKET, MEDIA_BUCKET):
        if b not in have:
            c.create_bucket(Bucket=b)
            log(f"created bucket {b}")


def objects(c, bucket, prefix=""):
    """{key: (etag, size)} of a bucket (all pages)."""
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["ETag"].strip('"'), o["Size"])
    return out


def get_json(c, key):
    return json.loads(c.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def put_json(c, key, data):
    c.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(data, indent=1).encode(), ContentType="application/json")


def media_snapshot(c):
    """Copy every media object not yet kept (server-side), return the set's map {key: [etag, size]}."""
    blobs = set(objects(c, BUCKET, BLOBS))
    media, copied = objects(c, MEDIA_BUCKET), 0
    for key, (etag, size) in media.items():
        blob = blob_key(etag, size)
        if blob not in blobs:
            c.copy_object(Bucket=BUCKET, Key=blob, CopySource={"Bucket": MEDIA_BUCKET, "Key": key})
            blobs.add(blob)
            copied += 1
    return {"objects": {k: list(v) for k, v in media.items()}, "count": len(media),
            "bytes": sum(s for _, s in media.values()), "copied": copied}


def gc(c, backups):
    """Drop the sets whose pgBackRest backup expired, then the blobs no set references."""
    labels = {b["label"] for b in backups}
    keep = set()
    for key in objects(c, BUCKET, SETS):
        s = get_json(c, key)
        if s.get("label") not in labels:
            c.delete_object(Bucket=BUCKET, Key=key)
            log(f"set {s.get('id')} expired with backup {s.get('label')}: removed")
        else:
            keep |= {blob_key(e, z) for e, z in s.get("media", {}).get("objects", {}).values()}
    for blob in set(objects(c, BUCKET, BLOBS)) - keep:
        c.delete_object(Bucket=BUCKET, Key=blob)


# ---------------------------------------------------------------- commands

def ensure_config():
    if not os.path.exists("/etc/pxc/pgbackrest.conf"):
        subprocess.run(["/usr/local/bin/pg-backup-config", "repo"], check=True)


class Lock:
    """One backup at a time in this container (the scheduler's and `inv backup`'s), waiting up to `wait` s."""

    def __init__(self, wait=900):
        self.wait = wait

    def __enter__(self):
        self.f = open(LOCK, "w")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Fail("another backup still runs after waiting: try again later")
                time.sleep(2)

    def __exit__(self, *exc):
        self.f.close()


def run(kind="incr"):
    """One backup set; returns its manifest without the order codes."""
    if kind not in ("full", "incr", "diff"):
        raise Fail(f"unknown backup type {kind!r}: use full, incr or diff")
    ensure_config()
    c = s3()
    ensure_buckets(c)
    with Lock():
        t0 = time.monotonic()
        sid, sysid = set_id(now_utc()), system_id()
        pgbackrest(sysid, "stanza-create")       # idempotent: the first backup of a history creates it
        log(f"set {sid}: pgBackRest {kind} backup of the primary (database {sysid})")
        pgbackrest(sysid, f"--type={kind}", f"--annotation=pxc-set={sid}", "backup", capture=False)
        t_db = time.monotonic()
        db = manifest_now(restore_point=f"pxc-{sid}")
        log(f"set {sid}: restore point pxc-{sid}, {db['orders']['count']} orders; archiving the WAL up to it")
        pgbackrest(sysid, "check")
        done = [b for b in backups_of(info(sysid)) if b["set"] == sid]
        if not done:
            raise Fail(f"backup of set {sid} is not in the repository after it ran: see `inv backup.check`")
        log(f"set {sid}: media snapshot of bucket {MEDIA_BUCKET}")
        media = media_snapshot(c)
        t_media = time.monotonic()
        s = {"id": sid, "label": done[-1]["label"], "type": done[-1]["type"], "created": now_utc().isoformat(),
             "system_id": sysid, "repo_path": repo_path(sysid),
             "db": db, "media": media, "secrets": secret_refs(os.environ.get("PXC_SECRET_REFS", "")),
             "seconds": {"db": round(t_db - t0, 1), "media": round(t_media - t_db, 1),
                         "total": round(time.monotonic() - t0, 1)}}
        put_json(c, f"{SETS}{sid}.json", s)
        gc(c, all_backups(c))
        return summary(s)


def summary(s):
    out = {k: v for k, v in s.items() if k not in ("db", "media")}
    out["db"] = {**{k: v for k, v in s["db"].items() if k != "orders"},
                 "orders": {k: v for k, v in s["db"]["orders"].items() if k != "codes"}}
    out["media"] = {k: v for k, v in s["media"].items() if k != "objects"}
    return out


def list_sets():
    ensure_config()
    c = s3()
    sets = [summary(get_json(c, k)) for k in sorted(objects(c, BUCKET, SETS))]
    try:
        current = system_id()
    except Fail:
        current = None
    return {"histories": {h: info(h) for h in histories(c)}, "current": current, "sets": sets}


def show(sid):
    ensure_config()
    try:
        return get_json(s3(), f"{SETS}{sid}.json")
    except Exception:  # noqa: BLE001 - any failure: not there
        raise Fail(f"no backup set {sid}: `inv backup.list` shows the sets")


def check():
    ensure_config()
    sysid = system_id()
    out = {"system_id": sysid}
    with Lock():       # the scheduler's stanza-create or a backup at the same time: "another pgBackRest process"
        for cmd in ("check", "verify"):
            r = pgbackrest(sysid, cmd, check=False)
            text = (r.stdout + r.stderr).strip().splitlines()
            out[cmd] = {"ok": r.returncode == 0, "exit": r.returncode, "tail": text[-8:]}
    return out


def flush():
    """Archive the running database's current WAL (before a point-in-time restore of its own history)."""
    ensure_config()
    try:
        sysid = system_id()
    except Fail as e:
        return {"flushed": False, "why": str(e)}
    if sysid not in histories(s3()):
        return {"flushed": False, "system_id": sysid, "why": "no backup of the running database yet"}
    r = pgbackrest(sysid, "check", check=False)
    return {"flushed": r.returncode == 0, "system_id": sysid}


def media_restore(sid):
    s, c = show(sid), s3()
    current, copied = objects(c, MEDIA_BUCKET), 0
    for key, (etag, size) in s["media"]["objects"].items():
        if current.get(key) != (etag, size):
            c.copy_object(Bucket=MEDIA_BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": blob_key(etag, size)})
            copied += 1
    return {"set": sid, "objects": len(s["media"]["objects"]), "copied": copied}


def schedule():
    """The service's loop: a full backup every BACKUP_FULL_EVERY_H hours, an incremental one every
    BACKUP_INCR_EVERY_H hours; state is the repository itself (a restarted or moved scheduler goes on)."""
    full_s = float(os.environ.get("BACKUP_FULL_EVERY_H", "168")) * 3600
    incr_s = float(os.environ.get("BACKUP_INCR_EVERY_H", "24")) * 3600
    every = float(os.environ.get("BACKUP_CHECK_EVERY_S", "300"))
    first = time.monotonic() + float(os.environ.get("BACKUP_FIRST_DELAY_S", "900"))  # not during migrations
    ensure_config()
    log(f"schedule: full every {full_s / 3600:g} h, incremental every {incr_s / 3600:g} h")
    while True:
        time.sleep(60 if time.monotonic() < first else every)
        if os.path.exists(PAUSED):
            continue
        try:
            ensure_buckets(s3())
            with Lock():   # never beside `inv backup` or `backup.check`: pgBackRest refuses a second process
                sysid = system_id()
                pgbackrest(sysid, "stanza-create")    # WAL archiving of a new history starts before its first backup
                kind = due(backups_of(info(sysid)), time.time(), full_s, incr_s)
            if kind and time.monotonic() >= first:
                log(f"scheduled {kind} backup: {json.dumps(run(kind))}")
        except Exception as e:  # noqa: BLE001 - log and try again next round
            log(f"schedule: {e}")


def main(argv):
    cmd, args = (argv[1] if len(argv) > 1 else "schedule"), argv[2:]
    commands = {"run": lambda: run(*args[:1]), "list": list_sets, "show": lambda: show(args[0]), "check": check,
                "flush": flush, "manifest": manifest_now, "media-restore": lambda: media_restore(args[0])}
    try:
        if cmd == "schedule":
            return schedule()
        if cmd in ("pause", "resume"):
            if cmd == "pause":
                open(PAUSED, "w").close()
                with Lock():   # a running backup finishes first
                    pass
            elif os.path.exists(PAUSED):
                os.unlink(PAUSED)
            print(json.dumps({cmd: True}))
            return 0
        if cmd not in commands:
            raise Fail(f"unknown command {cmd!r}")
        print(json.dumps(commands[cmd]()))
        return 0
    except Fail as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
