"""pretix-cluster ops: inventory, remote execution, lab, build and deploy tasks."""
