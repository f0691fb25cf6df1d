"""Probe runs kept on disk between scans, keyed by blob ids, so a second scan costs only what changed.

A probe is a pure function of what it reads (DESIGN.md: "results are keyed by blob id"). The
runner records every file and shared index a probe touched; this store keeps that record with the
evidence. A later scan — the same tree again, the next commit, a pull request's base — looks the
probe up by the blobs of its matched files, then checks the recorded inputs against the new
snapshot: when they hash the same, the probe would read the same bytes and emit the same
evidence, so the stored evidence is re-cited instead of computed. Otherwise the probe runs.

What never comes from here: service probes (a registry or API answer changes with time, not with
blobs) and failed runs. Everything is keyed by a fingerprint of the scanner's and the probes' own
code, so an upgrade or an edited probe starts afresh.

Layout under the cache root (``$MLSCAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/mlscan``, else
``~/.cache/mlscan``)::

    runs-<code>/matches/<paths digest>.json     each probe's matched paths for one path list
    runs-<code>/<probe id>/<key>.json           up to MAX_CANDIDATES recorded runs

Files are JSON (never pickle), written atomically; an unreadable or malformed entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from .models import Evidence
    from .probe import Probe

MAX_CANDIDATES = 4  # recorded runs kept per probe and matched-file set (newest first)
KEEP_GENERATIONS = 3  # code fingerprints kept; older ones are removed when a new one starts
_FORMAT = "1"


def default_cache_dir() -> Path:
    """Where scans keep results unless told otherwise."""
    explicit = os.environ.get("MLSCAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mlscan"


def code_fingerprint(probes: Iterable["Probe"]) -> str:
    """The scanner's and the probes' code and declarations: any change makes every entry stale.

    Hashes the source of the ``scanner`` and ``probes`` packages and of each probe's own module
    (a plugin's), so an edited probe in a development checkout never sees results of its old self.
    """
    import sys

    from . import __version__

    digest = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{_parsers()}\n".encode())
    files: set[Path] = set()
    for package in ("scanner", "probes"):
        module = sys.modules.get(package)
        if module is not None and getattr(module, "__file__", None):
            files.update(Path(module.__file__).parent.rglob("*.py"))
    for probe in sorted(probes, key=lambda p: p.id):
        digest.update(json.dumps([probe.id, list(probe.patterns), list(probe.python_tokens),
                                  [k.name for k in probe.kinds], list(probe.services)]).encode())
        module_name = getattr(probe.collect, "__module__", "") or ""
        source = getattr(sys.modules.get(module_name), "__file__", None)
        if source:
            files.add(Path(source))
        top = sys.modules.get(module_name.split(".")[0])  # a plugin's helpers live in its package
        if top is not None and getattr(top, "__path__", None) and getattr(top, "__file__", None):
            files.update(Path(top.__file__).parent.rglob("*.py"))
    for path in sorted(files):
        digest.update(path.as_posix().encode() + b"\0" + _source_digest(path).encode())
    return digest.hexdigest()[:20]


def _parsers() -> str:
    """What parses the scanned files besides our code: Python's ``ast`` (its grammar changes with
    the minor version), the YAML loader (C or not) and pydantic, which validates the evidence."""
    import sys

    import pydantic
    import yaml

    return (f"py{sys.version_info[0]}.{sys.version_info[1]} yaml{yaml.__version__}"
            f"{'+libyaml' if getattr(yaml, '__with_libyaml__', False) else ''} pydantic{pydantic.VERSION}")


_SOURCES: dict[tuple[str, int, int], str] = {}


def _source_digest(path: Path) -> str:
    """A source file's hash, read once per process while its size and mtime stay the same (a
    batch of scans does not re-read the scanner's ~80 modules for every repository)."""
    try:
        stat = path.stat()
    except OSError:
        return "?"
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _SOURCES:
        try:
            _SOURCES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return "?"
    return _SOURCES[key]


@dataclass(frozen=True)
class CacheSummary:
    """What a cache directory holds (``mlscan cache info``)."""

    root: Path
    generations: int  # code fingerprints with entries (the current one included, if any)
    current: bool  # whether this scanner's generation is among them
    files: int
    bytes: int


def summarise(root: Path, probes: Iterable["Probe"]) -> CacheSummary:
    root = Path(root)
    generations = [p for p in root.glob("runs-*") if p.is_dir()] if root.is_dir() else []
    sizes = [f.stat().st_size for g in generations for f in g.rglob("*.json") if f.is_file()]
    current = root / f"runs-{code_fingerprint(probes)}"
    return CacheSummary(root, len(generations), current in generations, len(sizes), sum(sizes))


def clear(root: Path) -> int:
    """Remove every generation of results under ``root``; returns how many were removed. Only
    directories this store writes are touched, so a mistyped path cannot lose other files."""
    root = Path(root)
    removed = 0
    for generation in (p for p in root.glob("runs-*") if p.is_dir()) if root.is_dir() else ():
        shutil.rmtree(generation, ignore_errors=True)
        removed += 1
    return removed


@dataclass(frozen=True)
class Pruned:
    """What ``prune`` removed and what is left (``mlscan cache prune``)."""

    files: int
    bytes: int
    left: int  # bytes still held


def prune(root: Path, max_bytes: int) -> Pruned:
    """Remove the least recently used entries until the cache holds at most ``max_bytes``.

    A scan that takes a run from the store refreshes the entry's modification time, so the
    oldest files are the ones no scan has needed for longest: a platform team's batch of
    repositories keeps the ones it scans again. Only files this store writes are touched."""
    root = Path(root)
    entries: list[tuple[float, str, int]] = []
    for generation in (p for p in root.glob("runs-*") if p.is_dir()) if root.is_dir() else ():
        for path in generation.rglob("*.json"):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime, str(path), stat.st_size))
    total = sum(size for _, _, size in entries)
    files = freed = 0
    for _, path, size in sorted(entries):
        if total - freed <= max_bytes:
            break
        try:
            os.unlink(path)
        except OSError:
            continue
        files, freed = files + 1, freed + size
    return Pruned(files, freed, total - freed)


def _touch(path: Path) -> None:
    """Best effort: a read-only cache still serves hits."""
    try:
        os.utime(path)
    except OSError:
        pass


@dataclass(frozen=True)
class StoredRun:
    """One recorded run: the inputs the probe touched, their digest, and what it emitted."""

    reads: list[str]
    digest: str
    problems: dict[str, str]
    evidence: list[Any]  # Evidence as JSON
    where: list[Optional[str]]  # commit, remote and subpath it was cited at

    @classmethod
    def from_json(cls, data: Any) -> Optional["StoredRun"]:
        try:
            return cls(list(data["reads"]), str(data["digest"]), dict(data["problems"]),
                       list(data["evidence"]), list(data["where"]))
        except (KeyError, TypeError, ValueError):
            return None


@lru_cache(maxsize=1)
def _evidence_list() -> "TypeAdapter[list[Evidence]]":
    """One (de)serialiser for a whole list: one call into pydantic-core, not one per item."""
    from pydantic import TypeAdapter

    from .models import Evidence

    return TypeAdapter(list[Evidence])


class RunStore:
    """Recorded probe runs under one cache root, for one version of the scanner and its probes."""

    def __init__(self, root: Path, probes: Iterable["Probe"]):
        self.root = Path(root)
        self.code = code_fingerprint(probes)
        self.dir = self.root / f"runs-{self.code}"
        self.problem: Optional[str] = None  # why nothing could be stored, when that happened
        self._read: dict[Path, list[StoredRun]] = {}  # run files this process read or wrote

    # -- matched paths --------------------------------------------------------------

    def matches(self, paths_digest: str) -> Optional[dict[str, list[str]]]:
        path = self.dir / "matches" / f"{paths_digest}.json"
        data = self._load(path)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            return None
        _touch(path)
        return data

    def save_matches(self, paths_digest: str, matched: dict[str, list[str]]) -> None:
        self._write(self.dir / "matches" / f"{paths_digest}.json", matched)

    def has_matches(self, paths_digest: str) -> bool:
        return (self.dir / "matches" / f"{paths_digest}.json").is_file()

    def used(self, probe_id: str, key: str) -> None:
        """Mark a run file as just needed, for :func:`prune`."""
        _touch(self._run_file(probe_id, key))

    # -- runs -----------------------------------------------------------------------

    def candidates(self, probe_id: str, key: str) -> list[StoredRun]:
        path = self._run_file(probe_id, key)
        if path not in self._read:
            data = self._load(path)
            runs = [StoredRun.from_json(item) for item in data[:MAX_CANDIDATES]] if isinstance(data, list) else []
            self._read[path] = [run for run in runs if run is not None]
        return self._read[path]

    def save(self, probe_id: str, key: str, run: StoredRun) -> None:
        path = self._run_file(probe_id, key)
        runs = [run, *(c for c in self.candidates(probe_id, key) if c.digest != run.digest)][:MAX_CANDIDATES]
        self._read[path] = runs
        self._write(path, [asdict(c) for c in runs])

    @staticmethod
    def decode(evidence: list[Any]) -> list["Evidence"]:
        return _evidence_list().validate_python(evidence)

    @staticmethod
    def encode(evidence: list["Evidence"]) -> list[Any]:
        return _evidence_list().dump_python(evidence, mode="json", exclude_defaults=True)

    # -- files ----------------------------------------------------------------------

    def _run_file(self, probe_id: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in probe_id)
        return self.dir / safe / f"{key}.json"

    @staticmethod
    def _load(path: Path) -> Any:
        try:
            with open(path, "rb") as handle:
                return json.loads(handle.read())
        except (OSError, ValueError):
            return None

    def _write(self, path: Path, data: Any) -> None:
        """Atomic: a reader sees the old file or the new one, never half of one."""
        if self.problem is not None:
            return
        try:
            fresh = not self.dir.exists()
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if fresh:
                self._drop_old_generations()
            handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(json.dumps(data, separators=(",", ":")))  # dumps: the C encoder
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only or full disk costs speed, never the scan
            self.problem = f"{path.parent}: {exc.strerror or exc}"

    def _drop_old_generations(self) -> None:
        """Keep the newest few code fingerprints: an upgrade must not leave the old ones forever."""
        try:
            generations = sorted((p for p in self.root.glob("runs-*") if p.is_dir() and p != self.dir),
                                 key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return
        for old in generations[KEEP_GENERATIONS - 1:]:
            shutil.rmtree(old, ignore_errors=True)
