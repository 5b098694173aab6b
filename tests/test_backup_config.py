"""The backup path's configuration as data: TLS secrets, pgbackrest.conf of a member and of the backup service,
the archiving parameters and the restore bootstrap Patroni gets (images/postgres/pgbackup.py)."""
import importlib.util
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ops.cluster import stackconfig, tls

IMAGES = Path(__file__).resolve().parent.parent / "images"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pgbackup = load(IMAGES / "postgres" / "pgbackup.py", "pgbackup")
ENV = {"PGDATA": "/var/lib/postgresql/data/pgdata"}


def test_tls_values_are_single_line_tokens_that_decode_to_a_working_chain():
    values = stackconfig.generate_secrets()
    ca = x509.load_pem_x509_certificate(tls.decode(values["backup_tls_ca"]).encode())
    bundle = tls.decode(values["backup_tls"])
    assert bundle.startswith("-----BEGIN PRIVATE KEY-----") and "-----BEGIN CERTIFICATE-----" in bundle
    leaf = x509.load_pem_x509_certificate(bundle[bundle.index("-----BEGIN CERTIFICATE-----"):].encode())
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert set(names) == {"s3", "pg1", "pg2", "pg3", "localhost"}
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == tls.CLIENT_CN
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(usage)
    for key in ("backup_tls_ca", "backup_tls", "s3_backup_secret", "s3_media_secret"):
        assert "\n" not in values[key] and "=" not in values[key]
    assert pgbackup.decode(values["backup_tls_ca"]) == tls.decode(values["backup_tls_ca"])


def test_member_config_whole():
    assert pgbackup.render("pg", ENV, "s3cret", tls_dir="/etc/pxc") == """[global]
repo1-type=s3
repo1-path=/pretix
repo1-s3-bucket=pxc-backup
repo1-s3-endpoint=s3
repo1-storage-port=8443
repo1-s3-region=us-east-1
repo1-s3-uri-style=path
repo1-s3-key=pxc-backup
repo1-s3-key-secret=s3cret
repo1-storage-ca-file=/etc/pxc/ca.pem
repo1-retention-full=2
repo1-retention-full-type=count
compress-type=zst
start-fast=y
process-max=1
log-level-console=info
log-level-file=off
lock-path=/tmp/pgbackrest
archive-async=y
spool-path=/var/lib/postgresql/data/pgbackrest
archive-push-queue-max=2GiB
tls-server-address=*
tls-server-cert-file=/etc/pxc/tls.pem
tls-server-key-file=/etc/pxc/tls.pem
tls-server-ca-file=/etc/pxc/ca.pem
tls-server-auth=pxc-backup=pretix

[pretix]
pg1-path=/var/lib/postgresql/data/pgdata
pg1-socket-path=/var/run/postgresql
pg1-user=postgres
"""


def test_repository_host_config_lists_every_member_as_tls_host():
    text = pgbackup.render("repo", {**ENV, "BACKUP_MEMBERS": "pg1 pg2", "BACKUP_RETENTION_FULL": "3"}, "x")
    tail = text.split("[pretix]\n", 1)[1]
    assert tail == "".join(
        f"pg{i}-host=pg{i}\npg{i}-host-type=tls\npg{i}-host-ca-file=/etc/pxc/ca.pem\npg{i}-host-cert-file=/etc/pxc/tls.pem\n"
        f"pg{i}-host-key-file=/etc/pxc/tls.pem\npg{i}-path=/var/lib/postgresql/data/pgdata\n"
        f"pg{i}-socket-path=/var/run/postgresql\npg{i}-user=postgres\n" for i in (1, 2))
    assert "repo1-retention-full=3\n" in text and "tls-server" not in text and "archive-async" not in text
    with pytest.raises(ValueError):
        pgbackup.render("standby", ENV, "x")


def test_every_member_archives_into_its_own_history():
    assert pgbackup.archive_parameters({}) == {"archive_mode": "on", "archive_command":
                                               "/usr/local/bin/pgbackrest-archive push %p", "archive_timeout": "60s"}


@pytest.mark.parametrize("target,expected", [
    ({"time": "2026-11-30 10:15:00.000000+00"}, {"recovery_target_time": "2026-11-30 10:15:00.000000+00"}),
    ({"name": "pxc-20261130T100000Z"}, {"recovery_target_name": "pxc-20261130T100000Z"}),
    ({}, {"recovery_target": "immediate"}),
])
def test_restore_bootstrap(target, expected):
    req = {"set": "20261130-100000F", "repo_path": "/pretix/7312", "target": target}
    assert pgbackup.restore_bootstrap(req, {}) == {
        "method": "pgbackrest",
        "pgbackrest": {
            "command": "pgbackrest --stanza=pretix --repo1-path=/pretix/7312 --set=20261130-100000F --type=none "
                       "--log-level-console=warn restore",
            "no_params": True,
            "keep_existing_recovery_conf": False,
            "recovery_conf": {"restore_command": '/usr/local/bin/pgbackrest-archive get %f "%p"',
                              "recovery_target_action": "promote", "recovery_target_timeline": "latest", **expected},
        },
        "post_bootstrap": "/bin/true",
    }


def test_restore_request_only_acts_on_an_empty_data_dir(tmp_path):
    request = tmp_path / "pxc-restore.json"
    request.write_text(json.dumps({"set": "L", "repo_path": "/pretix/1", "target": {}}))
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()

    def config():
        return {"postgresql": {"parameters": {"shared_buffers": "1MB"}}, "bootstrap": {"initdb": []}}
    done = pgbackup.patroni_settings(config(), {"PGDATA": str(pgdata)}, str(request))
    assert done["bootstrap"]["method"] == "pgbackrest" and done["postgresql"]["parameters"]["archive_mode"] == "on"
    (pgdata / "PG_VERSION").write_text("15\n")
    assert "method" not in pgbackup.patroni_settings(config(), {"PGDATA": str(pgdata)}, str(request))["bootstrap"]
    request.unlink()
    (pgdata / "PG_VERSION").unlink()
    assert "method" not in pgbackup.patroni_settings(config(), {"PGDATA": str(pgdata)}, str(request))["bootstrap"]
