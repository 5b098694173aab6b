"""Layer 1: facts, i.e. a command plus a pure parser of its output, tested on captured output."""
