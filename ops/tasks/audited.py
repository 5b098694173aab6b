"""`@audited`: the one decorator every mutating task wears. When the task ends (done, failed or interrupted), one
line goes into the audit log on the managers: who, when, the task and its arguments (no secret), the images, the
result. Recording never changes the task's outcome: a log that cannot be written is a warning.

    @task(help={...})
    @audited                      # or @audited("failover.db"): the name shown in `inv history`
    @expected_errors
    def deploy(c, ..., cluster=None): ...
        note(tags=tags)           # optional: what this run deployed, or any other fact worth keeping
"""
from __future__ import annotations

import functools
import inspect
import time
from contextvars import ContextVar

from invoke.exceptions import Exit

from ..cluster import audit, history
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from .context import load, state_dir

_NOTES: ContextVar[dict | None] = ContextVar("audit_notes", default=None)


def note(**fields) -> None:
    """Add facts to the audit entry of the task that runs now (tags=... replaces the recorded images)."""
    current = _NOTES.get()
    if current is not None:
        current.update(fields)


def outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, Exit):
        text = str(exc.message or f"exit {exc.code}")
    elif isinstance(exc, KeyboardInterrupt):
        text = "interrupted"
    elif isinstance(exc, OpsError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    first = (text.strip().splitlines() or ["failed"])[0]
    return first if first.startswith("error") else f"error: {first}"


def given_args(fn, c, args, kwargs) -> tuple[dict, str | None]:
    """The task's arguments that differ from their defaults (context and cluster flag left out); the cluster."""
    sig = inspect.signature(fn)
    bound = sig.bind_partial(c, *args, **kwargs).arguments
    given = {k: v for k, v in list(bound.items())[1:] if k != "cluster" and v != sig.parameters[k].default}
    return given, bound.get("cluster")


def record(c, name: str, fn, call: tuple, notes: dict, started: float, exc) -> None:
    args, cluster = given_args(fn, c, *call)
    try:
        cl = load(c, cluster)
    except OpsError:
        return                       # an unknown cluster: nothing was touched
    state = state_dir(c, cl.name)
    tags = notes.get("tags") or history.deployed(state)
    entry = audit.entry(name, args, tags, outcome(exc), started, notes)
    try:
        with Remote(cl, echo=False) as remote:
            took, errors = audit.append(remote, cl, state, entry)
    except Exception as err:         # the log must never change the task's outcome
        took, errors = [], [f"{type(err).__name__}: {err}"]
    if not took:
        say(f"audit: not recorded on any manager ({'; '.join(errors)[:300]}); kept in {state / audit.UNSENT} "
            f"for the next task")


def audited(name_or_fn=None):
    """Decorate a task (below @task, above @expected_errors); optionally name it: @audited("failover.db")."""
    def decorate(fn):
        name = name_or_fn if isinstance(name_or_fn, str) else fn.__name__

        @functools.wraps(fn)
        def wrapper(c, *args, **kwargs):
            notes, started = {}, time.time()
            token = _NOTES.set(notes)
            try:
                result = fn(c, *args, **kwargs)
            except BaseException as exc:
                record(c, name, fn, (args, kwargs), notes, started, exc)
                raise
            finally:
                _NOTES.reset(token)
            record(c, name, fn, (args, kwargs), notes, started, None)
            return result
        return wrapper
    return decorate(name_or_fn) if callable(name_or_fn) else decorate
