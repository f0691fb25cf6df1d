"""Data and model binaries committed straight into git (RUBRIC DM-a, MD-a, ET-a): negative signals.

Sizes come from the tree listing; the files are never read, except a pointer-sized peek (at most
1 kB) that tells a Git LFS pointer committed without a ``.gitattributes`` rule from a real blob.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional

from scanner.patterns import lazy
from scanner.snapshot import FileSkipped

from ._repo_models import CommittedBinary
from ._repo_owners import compile_git_pattern

if TYPE_CHECKING:
    from scanner.facts.history import History
    from scanner.models import Evidence
    from scanner.probe import ProbeContext

SMALL_DATA_BYTES = 100_000
LARGE_ONLY_BYTES = 1_000_000
POINTER_MAX_BYTES = 1024
WINDOW_SECONDS = 180 * 86400

DATA_EXTENSIONS = frozenset({
    "csv", "tsv", "parquet", "pq", "xlsx", "xls", "feather", "arrow", "npy", "npz", "tfrecord", "tfrecords",
    "avro", "orc", "sqlite", "sqlite3", "duckdb",
})
MODEL_EXTENSIONS = frozenset({
    "pkl", "pickle", "joblib", "h5", "hdf5", "keras", "pt", "pth", "onnx", "safetensors", "ckpt", "pb",
    "tflite", "mlmodel", "gguf", "caffemodel", "sav",
})
LARGE_ONLY = {"jsonl": "data", "bin": "model"}  # ambiguous extensions: only big ones count
# model-or-data extensions decided by the folder they sit in
DATA_WHEN_IN_DATA_DIR = frozenset({"h5", "hdf5", "pkl", "pickle"})
DATA_DIRS = frozenset({"data", "dataset", "datasets"})
ALL_EXTENSIONS = tuple(sorted(DATA_EXTENSIONS | MODEL_EXTENSIONS | set(LARGE_ONLY)))

_HAND_NAMED = lazy(
    r"(?:^|[_\-. ])(?:final|copy|backup|bak|old|new|best|latest|v\d+|\d{8})(?:$|[_\-. (])|\(\d+\)$", re.IGNORECASE
)


def case_insensitive_glob(extension: str) -> str:
    return "**/*." + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in extension)


PATTERNS = tuple(case_insensitive_glob(ext) for ext in ALL_EXTENSIONS) + ("**/.gitattributes",)


def classify(path: str, size: int) -> Optional[tuple[str, str]]:
    """(category, extension) when ``path`` of ``size`` bytes is a committed data or model binary."""
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[1].lower()
    in_data_dir = any(part.lower() in DATA_DIRS for part in path.split("/")[:-1])
    if ext in LARGE_ONLY:
        return (LARGE_ONLY[ext], ext) if size > LARGE_ONLY_BYTES else None
    if ext in DATA_WHEN_IN_DATA_DIR and in_data_dir:
        category = "data"
    elif ext in MODEL_EXTENSIONS:
        category = "model"
    elif ext in DATA_EXTENSIONS:
        category = "data"
    else:
        return None
    if category == "data" and size < SMALL_DATA_BYTES:
        return None
    return category, ext


class LfsRules:
    """Which paths ``.gitattributes`` files route through ``filter=lfs`` (last matching line wins)."""

    def __init__(self, ctx: "ProbeContext"):
        self.rules: list[tuple[str, re.Pattern[str], bool]] = []
        files = [p for p in ctx.paths if p == ".gitattributes" or p.endswith("/.gitattributes")]
        for path in sorted(files, key=lambda p: (p.count("/"), p)):
            base = path[: -len(".gitattributes")]
            for line in ctx.facts.lines(path) or []:
                rule = self._parse(line)
                if rule:
                    self.rules.append((base, rule[0], rule[1]))

    @staticmethod
    def _parse(line: str) -> Optional[tuple[re.Pattern[str], bool]]:
        tokens = line.split()
        if not tokens or tokens[0].startswith(("#", "[attr]")):
            return None
        state = None
        for attr in tokens[1:]:
            if attr == "filter=lfs":
                state = True
            elif attr.startswith(("filter=", "-filter", "!filter")):
                state = False
        regex = compile_git_pattern(tokens[0], recursive=False)
        return (regex, state) if regex is not None and state is not None else None

    def tracks(self, path: str) -> bool:
        tracked = False
        for base, regex, state in self.rules:
            if path.startswith(base) and regex.match(path[len(base):]):
                tracked = state
        return tracked


def _is_lfs_pointer(ctx: "ProbeContext", path: str, size: int) -> bool:
    if size > POINTER_MAX_BYTES:
        return False
    try:
        head = ctx.snapshot.read_bytes(path, cap=POINTER_MAX_BYTES)
    except FileSkipped:
        return False
    return head.startswith(b"version https://git-lfs.github.com/spec/")


def last_changes(history: "History", paths: set[str]) -> dict[str, int]:
    """Newest commit time that touched each of ``paths``."""
    found: dict[str, int] = {}
    for commit in history.commits:
        for path in commit.files:
            if path in paths and path not in found:
                found[path] = commit.time
        if len(found) == len(paths):
            break
    return found


def collect_committed_binaries(ctx: "ProbeContext") -> Iterable["Evidence"]:
    candidates: list[tuple[str, str, str, int]] = []
    lfs: Optional[LfsRules] = None
    for path in ctx.paths:
        size = ctx.snapshot.size(path)
        hit = classify(path, size or 0) if size is not None else None
        if hit is None:
            continue
        lfs = lfs or LfsRules(ctx)
        if lfs.tracks(path) or _is_lfs_pointer(ctx, path, size or 0):
            continue
        candidates.append((path, hit[0], hit[1], size or 0))
    if not candidates:
        return
    history = ctx.facts.history
    changed: dict[str, int] = {}
    start: Optional[int] = None
    if history.available and history.commits:
        start = max(c.time for c in history.commits) - WINDOW_SECONDS
        changed = last_changes(history, {c[0] for c in candidates})
    for path, category, ext, size in candidates:
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        recent = None if start is None else changed.get(path, 0) >= start
        attrs = CommittedBinary(
            category=category, extension=ext, size_bytes=size,  # type: ignore[arg-type]
            hand_named=bool(_HAND_NAMED.search(stem)), changed_180d=recent,
        )
        yield ctx.evidence("repo.committed_binary", attrs, path=path, subject=path)
