"""Flat error classes: every expected failure is one of these, with a one-line message that names the fix."""


class OpsError(Exception):
    """An expected failure; its message is shown to the user as is."""


class InventoryError(OpsError):
    """The cluster inventory file is missing or invalid."""


class RemoteError(OpsError):
    """A command on a node failed, or the node could not be reached."""


class LabError(OpsError):
    """The local lab could not be created, found or removed."""
