#!/usr/bin/python3
"""pgBackRest for the pretix-cluster PostgreSQL image (and the backup image built from it).

`pg-backup-config pg|repo` writes /etc/pxc/pgbackrest.conf (0600: it holds the S3 secret) and the TLS files:
  pg    a database member: its data dir, WAL archiving straight to the S3 repository, and pgBackRest's TLS
        server (port 8432) through which the backup service runs backups of whichever member is primary;
  repo  the backup service: the repository and the three members as TLS hosts (pgBackRest picks the primary).
pg-patroni-config imports this module for the archiving parameters and the restore bootstrap.

Environment: BACKUP_STANZA (pretix), BACKUP_S3_ENDPOINT (s3), BACKUP_S3_PORT (8443), BACKUP_S3_BUCKET
(pxc-backup), BACKUP_REPO_PATH (/pretix: one history below it per database system identifier, see
pgbackrest-archive), BACKUP_RETENTION_FULL (2), BACKUP_MEMBERS (pg1 pg2 pg3),
S3_BACKUP_SECRET_FILE, BACKUP_TLS_CA_FILE, BACKUP_TLS_FILE (secrets; TLS ones base64url PEM), PGDATA.
"""
import base64
import json
import os
import sys

CONF = "/etc/pxc/pgbackrest.conf"
TLS_DIR = "/etc/pxc"
VOLUME = "/var/lib/postgresql/data"
RESTORE_REQUEST = f"{VOLUME}/pxc-restore.json"   # written by `inv restore` while the member is stopped
SPOOL = f"{VOLUME}/pgbackrest"                   # archive-async spool: on the volume, wiped with the data


def env(e, key, default):
    return e.get(key) or default


def decode(value):
    """A base64url secret value (ops/cluster/tls.py) back to its PEM text."""
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def stanza(e=os.environ):
    return env(e, "BACKUP_STANZA", "pretix")


def render(role, e, s3_secret, tls_dir=TLS_DIR):
    """pgbackrest.conf for a member (role pg) or the backup service (role repo), as text."""
    if role not in ("pg", "repo"):
        raise ValueError(f"role must be pg or repo, not {role!r}")
    ca, cert = f"{tls_dir}/ca.pem", f"{tls_dir}/tls.pem"
    pgdata = env(e, "PGDATA", f"{VOLUME}/pgdata")
    lines = [
        "[global]",
        "repo1-type=s3",
        f"repo1-path={env(e, 'BACKUP_REPO_PATH', '/pretix')}",
        f"repo1-s3-bucket={env(e, 'BACKUP_S3_BUCKET', 'pxc-backup')}",
        f"repo1-s3-endpoint={env(e, 'BACKUP_S3_ENDPOINT', 's3')}",
        f"repo1-storage-port={env(e, 'BACKUP_S3_PORT', '8443')}",
        "repo1-s3-region=us-east-1",
        "repo1-s3-uri-style=path",
        "repo1-s3-key=pxc-backup",
        f"repo1-s3-key-secret={s3_secret}",
        f"repo1-storage-ca-file={ca}",
        f"repo1-retention-full={env(e, 'BACKUP_RETENTION_FULL', '2')}",
        "repo1-retention-full-type=count",
        "compress-type=zst",
        "start-fast=y",
        "process-max=1",
        "log-level-console=info",
        "log-level-file=off",
        "lock-path=/tmp/pgbackrest",
    ]
    if role == "pg":
        lines += [
            "archive-async=y",                  # WAL is pushed in the background, postgres never waits on S3
            f"spool-path={SPOOL}",
            "archive-push-queue-max=2GiB",      # S3 gone for long: drop WAL from the queue rather than fill the disk
            "tls-server-address=*",
            f"tls-server-cert-file={cert}",
            f"tls-server-key-file={cert}",
            f"tls-server-ca-file={ca}",
            f"tls-server-auth=pxc-backup={stanza(e)}",
            "",
            f"[{stanza(e)}]",
            f"pg1-path={pgdata}",
            "pg1-socket-path=/var/run/postgresql",
            "pg1-user=postgres",
        ]
    else:
        lines += ["", f"[{stanza(e)}]"]
        for i, member in enumerate(env(e, "BACKUP_MEMBERS", "pg1 pg2 pg3").split(), start=1):
            lines += [f"pg{i}-host={member}", f"pg{i}-host-type=tls", f"pg{i}-host-ca-file={ca}",
                      f"pg{i}-host-cert-file={cert}", f"pg{i}-host-key-file={cert}", f"pg{i}-path={pgdata}",
                      f"pg{i}-socket-path=/var/run/postgresql", f"pg{i}-user=postgres"]
    return "\n".join(lines) + "\n"


def archive_parameters(e=os.environ):
    """PostgreSQL parameters of every member (Patroni's local parameters, re-rendered at each start).

    archive_mode=on: the primary archives; a promoted standby goes on archiving into the same history from its
    promotion (its new timeline, the old timeline's last partial segment and the history file). pgBackRest
    refuses `always` (primary and standbys pushing can conflict). What a crashed primary had not pushed yet is
    missing then: archive-async keeps that window to seconds, and a backup after a failover closes it for
    point-in-time restores. archive_timeout bounds the restore point objective of an idle database to 60 s."""
    return {
        "archive_mode": "on",
        "archive_command": "/usr/local/bin/pgbackrest-archive push %p",
        "archive_timeout": env(e, "BACKUP_ARCHIVE_TIMEOUT", "60s"),
    }


def restore_bootstrap(request, e=os.environ):
    """Patroni's custom bootstrap for `inv restore` (request: the JSON it wrote into the member's volume).

    pgBackRest restores the chosen backup into the empty data dir (--type=none: Patroni writes the recovery
    settings); postgres replays the archived WAL up to the target and promotes; Patroni then initialises the
    cluster in etcd from it and the other members clone it. post_bootstrap is a no-op: the roles and the
    pretix database are in the restored data (Patroni itself resets its users' passwords from the secrets)."""
    target = request.get("target") or {}
    recovery = {
        "restore_command": '/usr/local/bin/pgbackrest-archive get %f "%p"',
        "recovery_target_action": "promote",
        "recovery_target_timeline": "latest",
    }
    if "time" in target:
        recovery["recovery_target_time"] = target["time"]
    elif "name" in target:
        recovery["recovery_target_name"] = target["name"]
    else:
        recovery["recovery_target"] = "immediate"
    return {
        "method": "pgbackrest",
        "pgbackrest": {
            "command": f"pgbackrest --stanza={stanza(e)} --repo1-path={request['repo_path']} --set={request['set']}"
                       " --type=none --log-level-console=warn restore",
            "no_params": True,
            "keep_existing_recovery_conf": False,
            "recovery_conf": recovery,
        },
        "post_bootstrap": "/bin/true",
    }


def patroni_settings(config, e=os.environ, request_file=RESTORE_REQUEST):
    """Adds archiving (and, when `inv restore` asked for it and the data dir is empty, the restore bootstrap)
    to Patroni's config dict; returns it."""
    config["postgresql"]["parameters"].update(archive_parameters(e))
    pgdata = env(e, "PGDATA", f"{VOLUME}/pgdata")
    if os.path.exists(request_file) and not os.path.exists(os.path.join(pgdata, "PG_VERSION")):
        with open(request_file) as f:
            config["bootstrap"].update(restore_bootstrap(json.load(f), e))
    return config


def write_private(path, text):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    role = argv[1] if len(argv) > 1 else "pg"
    e = os.environ
    with open(env(e, "S3_BACKUP_SECRET_FILE", "/run/secrets/s3_backup_secret")) as f:
        s3_secret = f.read().strip()
    for src, name in ((env(e, "BACKUP_TLS_CA_FILE", "/run/secrets/backup_tls_ca"), "ca.pem"),
                      (env(e, "BACKUP_TLS_FILE", "/run/secrets/backup_tls"), "tls.pem")):
        with open(src) as f:
            write_private(os.path.join(TLS_DIR, name), decode(f.read()))
    write_private(CONF, render(role, e, s3_secret))
    os.makedirs(SPOOL if role == "pg" else "/tmp/pgbackrest", exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
