"""pretix-cluster ops: the library under the Invoke tasks, in layers (see ARCHITECTURE.md)."""
