"""Garbage-collector settings for the length of a scan.

A scan builds a few million long-lived objects (the Python index, parsed YAML, citations,
evidence) and almost no reference cycles. With CPython's default thresholds the collector walks
that whole heap again and again: on the 20,000-file benchmark that was 0.3 s of a 2.3 s scan, in
the parent and in every worker. Collecting young objects less often, and freezing what is built
before the workers fork, removes most of it without changing what is kept: cycles are still
collected, only later. Both are undone afterwards, so a program that calls the library keeps its
own settings.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# Young-generation threshold 20,000 allocations (default 700); older generations scanned less
# often too. Peak memory on the benchmark did not move (108 MiB either way).
SCAN_THRESHOLDS = (20_000, 50, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collection thresholds (never lower them) until the block ends."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(SCAN_THRESHOLDS, old)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


@contextmanager
def frozen_for_fork() -> Iterator[None]:
    """Move everything alive now out of the collector's sight while forked workers run.

    The workers inherit the shared indexes; a collection in a worker would walk them (and copy
    every page it touches), and the parent's collections would walk them again. Python's docs
    recommend exactly this before forking. Left alone when the caller froze objects itself."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collections at all for a short burst of many small objects that die young or live on
    without cycles (AST nodes while indexing): passes over them cost more than the work itself."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
