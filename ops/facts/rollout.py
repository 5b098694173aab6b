"""Whether a rollout reached the services that serve requests: their running tasks on the new image only (Swarm's
update monitor may still be counting), and one-shot services completed on it."""
from __future__ import annotations

from .stack import ONE_SHOT, ServiceRow, TaskRow


def _ref(image: str) -> str:
    return image.split("@")[0]


def not_rolled(services: list[ServiceRow], tasks: list[TaskRow], stack: str, want: dict[str, str]) -> list[str]:
    """What keeps the services in want ({short name: image ref}) from running want's image only; empty when done."""
    pending = []
    desired = {s.short: s.desired for s in services}
    for short, ref in sorted(want.items()):
        mine = [t for t in tasks if t.service == f"{stack}_{short}"]
        if short in ONE_SHOT:
            if not any(t.state == "Complete" and _ref(t.image) == ref for t in mine):
                pending.append(f"{short}: not completed on the new image")
            continue
        running = [t for t in mine if t.desired == "Running" and t.state == "Running"]
        old = [t for t in running if _ref(t.image) != ref]
        new = len(running) - len(old)
        if old or new < desired.get(short, 1):
            pending.append(f"{short}: {new}/{desired.get(short, 1)} on the new image"
                           + (f", {len(old)} old still running" if old else ""))
    return pending
