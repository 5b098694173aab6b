"""The baseline side: pretix's official small-scale shape (stack/baseline.yml) deployed in place of the HA stack.

Sequence: remove the HA stack (volumes and secrets stay) and wait until its containers are gone (its nginx holds
port 80 on every node); deploy the baseline on one node with the HA stack's images and secrets; yield; then remove
the baseline with its volumes and redeploy the HA stack (the `inv deploy` code path, given as a callback) --
always, also when anything failed midway.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable

import requests

from ..builders import stack as S
from ..cluster import deploy as D
from ..cluster.stackconfig import tag_var
from ..cluster.swarm import swarm_facts
from ..core.errors import OpsError
from ..core.output import say
from ..core.remote import Remote
from ..core.retry import poll

STACK = "baseline"
STACK_FILE = Path(__file__).resolve().parents[2] / "stack" / "baseline.yml"
SECRETS = ("pg_pretix_password", "redis_password", "pretix_cfg")   # the HA stack's, reused as they are
IMAGES = ("postgres", "redis", "pretix", "nginx", "mailsink")
GONE_WAIT_S, ANSWER_WAIT_S = 180, 180


def stack_env(registry: str, tags: dict, secret_names: dict, node_id: str) -> dict:
    """The environment of `docker stack deploy -c stack/baseline.yml baseline` (pure)."""
    missing = [n for n in IMAGES if not tags.get(n)] + [k for k in SECRETS if not secret_names.get(k)]
    if missing:
        raise ValueError(f"baseline: missing image tags or secret names: {', '.join(missing)}")
    return {"REGISTRY": registry.rstrip("/"), "BASELINE_NODE_ID": node_id,
            **{tag_var(n): tags[n] for n in IMAGES}, **{f"SECRET_{k.upper()}": secret_names[k] for k in SECRETS}}


def deployed_tags(state: Path) -> dict:
    """The images the HA stack runs (what `inv deploy` recorded): the baseline uses the same."""
    path = state / "deployed_tags.json"
    if not path.exists():
        raise OpsError(f"no {path}: deploy the HA stack first (`inv deploy`)")
    return json.loads(path.read_text())


def wait_gone(remote: Remote, cl, stack: str, timeout: float = GONE_WAIT_S) -> None:
    """Until no node runs a container of the stack (its host ports are free again)."""
    def gone():
        results = remote.run_all(cl.nodes, S.stack_containers(stack), timeout=30, echo=False)
        return all(r.ok and not r.stdout.strip() for r in results.values())
    if not poll(gone, timeout, first=1, cap=3):
        raise OpsError(f"the containers of stack {stack} are still there after {timeout:.0f} s (`inv status`)")


def wait_answering(url: str, timeout: float = ANSWER_WAIT_S) -> None:
    """Until the shop answers through the cluster's entry (its load balancer may take a few checks)."""
    def answers():
        try:
            return requests.get(url.rstrip("/") + "/healthcheck/", timeout=5).status_code == 200
        except requests.RequestException:
            return False
    if not poll(answers, timeout, first=1, cap=3):
        raise OpsError(f"the baseline does not answer at {url} after {timeout:.0f} s (`docker service ps` on it)")


def start(remote: Remote, mgr, cl, state: Path, timeout: float, show=say) -> None:
    """Remove the HA stack, then deploy the baseline on the first manager and wait until it is healthy."""
    env = stack_env(cl.registry, deployed_tags(state), D.ensure_secrets(remote, mgr, cl, state),
                    swarm_facts(remote)[mgr.name].node_id)
    show(f"bench baseline: removing stack {cl.stack} (volumes and secrets stay)")
    remote.check(mgr, S.stack_rm(cl.stack), echo=False)
    wait_gone(remote, cl, cl.stack)
    show(f"bench baseline: deploying stack {STACK} on {mgr.name} (first start runs every migration)")
    base = replace(cl, stack=STACK)
    D.stack_deploy(remote, mgr, base, STACK_FILE, env)
    try:
        took = D.wait_converged(remote, mgr, STACK, timeout)
    except OpsError as exc:
        raise OpsError(f"{exc}; are the deployed images older than the standalone modes? (`inv build`, "
                       f"`inv deploy`)") from None
    wait_answering(cl.public_url)
    show(f"bench baseline: healthy after {took:.0f} s")


def message(exc: BaseException) -> str:
    """An exception's one-line message (invoke's Exit keeps it in .message)."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text).strip().splitlines()[0]


def restore(remote: Remote, mgr, cl, redeploy_ha: Callable[[], None], first: BaseException | None, show=say):
    """Remove the baseline with its volumes, then deploy the HA stack again, both tried whatever happens; a failure
    here is raised naming the first failure too (else that one would be lost)."""
    def remove():
        D.remove_stack(remote, mgr, replace(cl, stack=STACK), volumes=True)
        wait_gone(remote, cl, STACK)

    problems = []
    for what, step in ((f"remove stack {STACK} and its volumes", remove),
                       (f"deploy the HA stack {cl.stack} again (`inv deploy`)", redeploy_ha)):
        show(f"bench baseline: {what}")
        try:
            step()
        except BaseException as exc:  # noqa: BLE001 -- the next step must still run; all are reported below
            problems.append(f"could not {what}: {message(exc)}")
    if problems:
        before = f"the bench failed first ({message(first)}); then " if first else ""
        raise OpsError(f"{before}{'; '.join(problems)} -- the HA stack may be down: `inv build`, `inv deploy`")


@contextmanager
def baseline_stack(remote: Remote, cl, state: Path, redeploy_ha: Callable[[], None], timeout: float = 1800,
                   show=say):
    """The baseline deployed in place of the HA stack for the duration of the block; afterwards (also after a
    failure) the baseline and its volumes are removed and the HA stack is deployed again."""
    mgr = D.first_manager(remote)
    first = None
    try:
        with D.deploy_lock(remote, mgr, D.lock_scope(replace(cl, stack=STACK))):
            start(remote, mgr, cl, state, timeout, show)
            yield replace(cl, stack=STACK)
    except BaseException as exc:
        first = exc
        raise
    finally:
        restore(remote, mgr, cl, redeploy_ha, first, show)
