"""Flat error classes: every expected failure is one of these, with a one-line message that names the fix."""


class OpsError(Exception):
    """An expected failure; its message is shown to the user as is."""


class InventoryError(OpsError):
    """The cluster inventory file is missing or invalid."""


class RemoteError(OpsError):
    """A command on a node failed, or the node could not be reached."""


class LabError(OpsError):
    """The local lab could not be created, found or removed."""


class SeedError(OpsError):
    """The seed file is missing or invalid; the message names every offending key."""


class ApiError(OpsError):
    """The pretix REST API refused a request or kept answering 409 (lock contention)."""


class JourneyError(OpsError):
    """A purchase through the shop failed; `.step` names where, `.retryable` says whether a retry may help."""

    def __init__(self, step: str, message: str, retryable: bool = False):
        self.step, self.retryable = step, retryable
        super().__init__(f"{step}: {message}")


class QuickstartError(OpsError):
    """A quickstart step failed; `.step` names it, `.artifacts` lists the evidence (screenshot, HTML)."""

    def __init__(self, step: str, message: str, artifacts: list[str] | None = None):
        self.step, self.detail, self.artifacts = step, message, list(artifacts or [])
        super().__init__(f"quickstart step '{step}' failed: {message}")
