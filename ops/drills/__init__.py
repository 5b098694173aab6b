"""Layer 5: failure drills, i.e. faults injected while buyers buy, then an audit, a timeline and goals."""
