"""The backup path's TLS material, generated with the other secrets: a private CA and one certificate for the
object store's S3 endpoint and pgBackRest's TLS servers and client (names s3, pg1..3), as Docker secret values.

Secret values are single-line tokens (base64url of the PEM text, no padding): the containers decode them
(`base64 -d` after `tr _- /+`, or Python). The CA's key is never kept: a new certificate means a new CA.
"""
from __future__ import annotations

import base64
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: DNS names the certificate is valid for: the S3 gateway (service `s3`) and the pgBackRest TLS servers.
TLS_NAMES = ("s3", "pg1", "pg2", "pg3", "localhost")
#: Common name of the client certificate pgBackRest's TLS servers accept (tls-server-auth).
CLIENT_CN = "pxc-backup"


def encode(pem: str) -> str:
    """PEM text as a single-line secret value."""
    return base64.urlsafe_b64encode(pem.encode()).decode().rstrip("=")


def decode(value: str) -> str:
    """The PEM text a secret value holds."""
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pretix-cluster"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(obj) -> str:
    if isinstance(obj, ec.EllipticCurvePrivateKey):
        return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    return obj.public_bytes(serialization.Encoding.PEM).decode()


def backup_tls(names=TLS_NAMES, days: int = 3650) -> tuple[str, str]:
    """(CA certificate PEM, key + certificate PEM): one leaf for server and client use, signed by a fresh CA."""
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=days)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("pretix-cluster backup CA")).issuer_name(
        _name("pretix-cluster backup CA")).public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name(CLIENT_CN)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return _pem(ca), _pem(key) + _pem(leaf)
