"""Generated secrets of a cluster: kept 0600 in its local state dir, created as Docker secrets, always masked."""
from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import OpsError
from ..core.files import write_private
from ..core.inventory import Mail
from ..core.output import MASKER
from . import stackconfig

ROTATABLE = ("django_secret",)   # DB passwords are applied by the primary at start; rotate them by hand


def load_values(state: Path, rotate: tuple[str, ...] = ()) -> tuple[dict, list[str]]:
    """Secret values of the cluster, generating what is missing (and what --rotate names)."""
    for key in rotate:
        if key not in ROTATABLE:
            raise OpsError(f"cannot rotate {key!r}: rotatable secrets are {', '.join(ROTATABLE)}")
    path = state / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    fresh = stackconfig.generate_secrets()
    changed = [k for k in fresh if k not in values or k in rotate]
    for key in changed:
        values[key] = fresh[key]
    if changed:
        write_private(path, json.dumps(values, indent=2) + "\n")
    for v in values.values():
        MASKER.add(v)
    return values, changed


def with_config(values: dict, public_url: str, mail: Mail = Mail(), mail_password: str | None = None) -> dict:
    cfg = stackconfig.render_pretix_cfg(values, public_url, mail=mail, mail_password=mail_password)
    return {**values, "pretix_cfg": cfg}


def names(all_values: dict) -> dict:
    return {key: stackconfig.secret_name(key, all_values[key]) for key in stackconfig.SECRET_KEYS}

