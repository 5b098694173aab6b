"""Layer 1: pure builders of the shell commands we run on nodes (commands are data)."""
