"""Spread CPU-bound parsing (``ast.parse``, YAML building) over the machine's cores.

Only our own parsing functions run in the workers, on text we already read; nothing from the
scanned repository is executed. Results come back in input order, so a scan's output is the same
with or without workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Callable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_ITEMS = 400  # below this, starting workers costs more than it saves
MAX_WORKERS = 8


def parallel_start(fn: Callable[[T], R], items: list[T]) -> Callable[[], list[R]]:
    """Start mapping ``fn`` over ``items`` in worker processes; the returned function waits for the
    results (in input order). Meanwhile this process is free for other work."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(items) < PARALLEL_MIN_ITEMS or workers < 2 or "fork" not in mp.get_all_start_methods():
        done = [fn(item) for item in items]
        return lambda: done
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"))
    results = pool.map(fn, items, chunksize=max(16, len(items) // (workers * 4)))

    def finish() -> list[R]:
        try:
            return list(results)
        finally:
            pool.shutdown()

    return finish


def parallel_map(fn: Callable[[T], R], items: list[T]) -> list[R]:
    return parallel_start(fn, items)()
