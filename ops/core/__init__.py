"""Layer 0: errors, output, retries, private files, YAML, the inventory and the SSH executor."""
