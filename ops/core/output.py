"""Output for humans: progress lines that are masked (no secret ever printed), line-buffered, thread-safe."""
from __future__ import annotations

import threading

MASK = "******"
_print_lock = threading.Lock()


class Masker:
    """Replaces every registered secret value with a mask in text meant for humans."""

    def __init__(self, secrets=()):
        self._secrets = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for s in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(s, MASK)
        return text


MASKER = Masker()


def say(message: str) -> None:
    """Progress output for humans: masked, line-buffered, thread-safe."""
    with _print_lock:
        print(MASKER(message), flush=True)
