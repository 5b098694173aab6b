"""One retry/backoff helper: growing sleeps, bounded by a deadline (every wait in the toolkit uses it)."""
from __future__ import annotations

import time
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")


def delays(first: float = 0.5, factor: float = 1.5, cap: float = 4.0) -> Iterator[float]:
    """first, first*factor, ... capped at cap: the sleeps between tries."""
    d = first
    while True:
        yield d
        d = min(d * factor, cap)


def poll(check: Callable[[], T], timeout: float, first: float = 0.5, factor: float = 1.5,
         cap: float = 4.0, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> T | None:
    """Call check until it returns a truthy value (returned) or timeout seconds pass (None).

    check runs at least once; the sleeps grow from first by factor up to cap and never pass the deadline.
    """
    deadline = clock() + timeout
    for d in delays(first, factor, cap):
        value = check()
        if value:
            return value
        left = deadline - clock()
        if left <= 0:
            return None
        sleep(min(d, left))
    return None  # pragma: no cover (delays() is endless)


def attempts(tries: int, first: float = 0.25, factor: float = 2.0, cap: float = 3.0,
             sleep: Callable[[float], None] = time.sleep) -> Iterator[int]:
    """for i in attempts(8): ... `continue` to retry, `break`/`return` when done; sleeps between tries."""
    gen = delays(first, factor, cap)
    for i in range(tries):
        if i:
            sleep(next(gen))
        yield i
