"""Load generator settings: one table of Locust custom arguments (with PXC_LOAD_* environment fallbacks)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields

ENV_PREFIX = "PXC_LOAD_"


@dataclass(frozen=True)
class LoadOptions:
    organizer: str = "demo"
    event: str = "conf"
    token_file: str = ""          # the API token (ApiBuyer); read by the users, never passed as a value
    looker_ratio: float = 0.2     # share of all users that only browse
    api_ratio: float = 0.0        # share of all users that order through the REST API
    pacing: float = 15.0          # seconds between the starts of one user's purchases
    records_dir: str = "load-records"
    run_id: str = ""
    stages: str = ""              # a stages table: JSON text or the path of a JSON file ("" = constant -u/-r)
    deadline: float = 120.0       # bound of one whole purchase, seconds
    timeout: float = 30.0         # bound of one HTTP request, seconds


# field -> (flag, help); the flags are what Locust and the runner's command lines use
FLAGS = {
    "organizer": ("--shop-organizer", "organizer slug"),
    "event": ("--shop-event", "event slug"),
    "token_file": ("--token-file", "file holding the REST API token (API buyers)"),
    "looker_ratio": ("--looker-ratio", "share of users that only browse (0..1)"),
    "api_ratio": ("--api-ratio", "share of users that order through the REST API (0..1)"),
    "pacing": ("--pacing", "seconds between the starts of one user's purchases (rate = users x 60 / pacing)"),
    "records_dir": ("--records-dir", "directory of the purchase records (one JSONL file per process)"),
    "run_id": ("--run-id", "id of this run, in every record and buyer email"),
    "stages": ("--stages", "stages table for the shape: JSON text or a JSON file path"),
    "deadline": ("--purchase-deadline", "seconds one whole purchase may take"),
    "timeout": ("--request-timeout", "seconds one HTTP request may take"),
}


def dest(field: str) -> str:
    return "pxc_" + field


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def add_arguments(parser) -> None:
    """Register the custom arguments on Locust's parser (`@events.init_command_line_parser`)."""
    for f in fields(LoadOptions):
        flag, help_ = FLAGS[f.name]
        kind = float if isinstance(f.default, float) else str
        parser.add_argument(flag, dest=dest(f.name), type=kind, env_var=env_name(f.name),
                            default=f.default, help=help_)


def from_parsed(namespace) -> LoadOptions:
    """The options from Locust's parsed arguments (defaults for any that are missing)."""
    values = {f.name: getattr(namespace, dest(f.name), None) for f in fields(LoadOptions)}
    return check(LoadOptions(**{k: v for k, v in values.items() if v is not None}))


def check(o: LoadOptions) -> LoadOptions:
    if not (0 <= o.looker_ratio <= 1 and 0 <= o.api_ratio <= 1 and o.looker_ratio + o.api_ratio <= 1):
        raise ValueError(f"looker ratio {o.looker_ratio} + API ratio {o.api_ratio} must be shares between 0 and 1")
    if o.pacing <= 0 or o.deadline <= 0 or o.timeout <= 0:
        raise ValueError("pacing, purchase deadline and request timeout must be positive")
    return o


def argv(o: LoadOptions) -> list[str]:
    """The custom arguments as command-line words, only those that differ from the defaults."""
    out, default = [], LoadOptions()
    for f in fields(LoadOptions):
        value = getattr(o, f.name)
        if value != getattr(default, f.name):
            out += [FLAGS[f.name][0], _word(value)]
    return out


def _word(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def weights(o: LoadOptions) -> dict[str, int]:
    """Locust class weights (per mille) for the mix; a class of weight 0 is never spawned."""
    looker, api = round(o.looker_ratio * 1000), round(o.api_ratio * 1000)
    return {"Buyer": 1000 - looker - api, "Looker": looker, "ApiBuyer": api}


def new_run_id(now: float | None = None) -> str:
    """A run id safe inside an email address: UTC time to the second."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))


def email_safe(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", run_id)[:40] or "run"
