"""Parse-once views of a snapshot, shared by every probe.

Each file is read at most once and parsed at most once per scan, whichever probes ask. A file
that cannot be read or parsed is recorded once in :attr:`Facts.problems` (the scan goes on) and
the accessor returns ``None``; the probe then records ``unknown`` for what it could not see.

Two scans of one repository (``mlscan diff``) share a :class:`BlobCache`: a file whose blob did
not change is neither read nor parsed again. While a probe runs, every file it touches is logged
(:meth:`Facts.begin`/:meth:`Facts.end`), so the runner can tell whether its inputs changed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, TypeVar

from ..models import ScanProblem
from ..snapshot import FileSkipped, Snapshot
from .yamldoc import YamlError, load_all

if TYPE_CHECKING:
    from .ci import CIModel
    from .history import History
    from .needles import Needles
    from .python import PythonIndex

_MISSING = object()
T = TypeVar("T")

# Below this many files, searching them in Python is cheaper than starting `git grep`.
GREP_MIN_FILES = 256

# Markers in an access log for the shared indexes: a probe that used one depends on all its inputs.
PYTHON_INDEX = "<python index>"
CI_MODEL = "<ci model>"
HISTORY = "<git history>"
PATH_LIST = "<path list>"


class BlobCache:
    """Parsed file content keyed by (path, blob id), shared between the scans of one diff."""

    def __init__(self) -> None:
        self.text: dict[tuple[str, str], Optional[str]] = {}
        self.yaml: dict[tuple[str, str], tuple[Optional[list[Any]], Optional[str]]] = {}
        self.python: dict[tuple[str, str], Any] = {}  # PyFile, or None when the prefilter said no
        self.problems: dict[tuple[str, str], str] = {}
        # evidence built from a file, keyed by everything that decides it, blob id included: the
        # other scan of a diff re-cites it instead of building it again
        self.evidence: dict[tuple[Any, ...], Any] = {}
        # whether a file's text holds some needle of a set, keyed by (needles, path, blob)
        self.hits: dict[tuple[Any, ...], bool] = {}
        # values derived from several files (one CI file with its templates): see Facts.derived
        self.derived: dict[Any, tuple[Any, tuple[tuple[str, Optional[str]], ...], dict[str, str], str]] = {}


class Facts:
    def __init__(self, snapshot: Snapshot, *, python_tokens: Iterable[str] = (), cache: Optional[BlobCache] = None):
        self.snapshot = snapshot
        self.cache = cache
        self._log: Optional[set[str]] = None
        self._python: Optional["PythonIndex"] = None
        self._python_pending: Optional[Callable[[], "PythonIndex"]] = None
        self._ci: Optional["CIModel"] = None
        self._ci_inputs: set[str] = set()
        self._history: Optional["History"] = None
        self.problems: dict[str, str] = {}
        self._python_tokens = tuple(sorted(set(python_tokens)))
        self._needles: Optional["Needles"] = None
        self._text: dict[str, Optional[str]] = {}
        self._lines: dict[str, Optional[list[str]]] = {}
        self._yaml: dict[str, Optional[list[Any]]] = {}
        self._json: dict[str, Any] = {}
        self._scanned: set[str] = set()  # read by a prefilter that did not match: not kept
        self._read: set[str] = set()  # every path whose bytes were read, by us or by git grep
        self._read_order: list[str] = []  # the same, in order: a worker reports what is new
        self._asked: set[str] = set()  # every path some accessor was asked for
        self._asked_order: list[str] = []
        self._asked_in_workers: set[str] = set()  # paths_read() of probes run in worker processes
        self._listing: Optional[str] = None

    # -- raw text --------------------------------------------------------------------

    def text(self, path: str) -> Optional[str]:
        """The file as UTF-8 text, or None (recorded) if unreadable, binary or too large."""
        if self._log is not None:
            self._log.add(path)
        if path in self._text:
            return self._text[path]
        key = self._key(path)
        if key is not None and key in self.cache.text:
            self._text[path] = self.cache.text[key]
            self._note_asked(path)
            if key in self.cache.problems:
                self._problem(path, self.cache.problems[key])
            return self._text[path]
        try:
            data = self.snapshot.read_bytes(path)
        except FileSkipped as exc:
            self._problem(path, str(exc))
            self._text[path] = None
            self._note_asked(path)
            return None
        self._note_read(path)
        return self._decode(path, data)

    def _decode(self, path: str, data: bytes) -> Optional[str]:
        text: Optional[str] = None
        if b"\0" in data[:8192]:
            self._problem(path, "binary file skipped")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                self._problem(path, "not valid UTF-8; skipped")
        self._text[path] = text
        self._note_asked(path)
        key = self._key(path)
        if key is not None:
            self.cache.text[key] = text
        return text

    def _key(self, path: str) -> Optional[tuple[str, str]]:
        if self.cache is None:
            return None
        blob = self.snapshot.blob_id(path)
        return (path, blob) if blob else None

    def scan(self, paths: list[str], search: "Callable[[bytes], bool]",
             accepted: frozenset[str] = frozenset(), memo: Optional[tuple[str, ...]] = None) -> Iterator[tuple[str, str]]:
        """(path, text) of the files whose bytes ``search`` accepts: a prefilter over many files.

        Files stream from the snapshot (one ``cat-file --batch`` for a commit); only the ones that
        match are decoded and kept, the rest are counted as read and dropped. A file some probe
        read before is tested on its text; one in ``accepted`` is known to match already. With
        ``memo`` (the needles' key) a diff's other scan keeps the answer per blob.
        """
        if self._log is not None:  # the answer depends on every file searched, matching or not
            self._log.update(paths)
        matched: set[str] = set()
        hits = self.cache.hits if self.cache is not None and memo is not None else None
        for path in paths:
            text = self._text.get(path)
            if text is None:
                continue
            if path in accepted:
                matched.add(path)
                continue
            key = (memo, *self._key(path)) if hits is not None and self._key(path) else None
            hit = hits.get(key) if key is not None and hits is not None else None
            if hit is None:
                hit = search(text.encode("utf-8", "surrogateescape"))
                if key is not None and hits is not None:
                    hits[key] = hit
            if hit:
                matched.add(path)
        unread = []
        for path in paths:
            if path in self._text:
                continue
            key = (memo, *self._key(path)) if hits is not None and self._key(path) else None
            if key is not None and hits is not None and hits.get(key) is False:  # the same blob did not match
                self._note_read(path)
                self._scanned.add(path)
                self._note_asked(path)
            else:
                unread.append(path)
        for path, data, why_not in self.snapshot.iter_bytes(unread):
            if data is None:
                self._problem(path, why_not)
                self._text[path] = None
                self._note_asked(path)
                continue
            self._note_read(path)
            hit = path in accepted or search(data)
            if hits is not None and self._key(path):
                hits[(memo, *self._key(path))] = hit
            if hit:
                self._scanned.discard(path)
                self._decode(path, data)
                matched.add(path)
            else:
                self._scanned.add(path)
                self._note_asked(path)
        for path in paths:
            text = self._text.get(path)
            if text is not None and path in matched:
                yield path, text

    def grep(self, paths: list[str], needles: "Needles") -> Iterator[tuple[str, str]]:
        """(path, text) of the files among ``paths`` in which some needle occurs.

        On a git tree with many files, one ``git grep`` finds them (C, threaded) and only those are
        read here; otherwise each file's bytes are searched (:meth:`scan`). Both give the same
        answer because needles are line-local (:mod:`scanner.facts.needles`). Files git searched
        count as read: the I/O happened, in git.
        """
        if not needles:
            return iter(())
        if self._log is not None:
            self._log.update(paths)
        eligible = self._grep_eligible(paths)
        found = self.snapshot.grep(eligible, needles.pcre()) if len(eligible) >= GREP_MIN_FILES else None
        if found is None:
            return self.scan(paths, needles.search, memo=needles.key)
        for path in eligible:
            if path not in found:
                self._scanned.add(path)
                self._note_asked(path)
                self._note_read(path)
        searched = set(eligible)
        rest = [p for p in paths if p not in searched or p in found]
        return self.scan(rest, needles.search, accepted=frozenset(found), memo=needles.key)

    def _grep_eligible(self, paths: list[str]) -> list[str]:
        return [p for p in paths if p not in self._text and self.snapshot.greppable(p)]

    def grep_ahead(self, paths: list[str], needles: "Needles") -> None:
        """Start the ``git grep`` that :meth:`grep` will need for these arguments, in a thread."""
        eligible = self._grep_eligible(paths)
        if needles and len(eligible) >= GREP_MIN_FILES:
            self.snapshot.grep_ahead(eligible, needles.pcre())

    def prefetch_python(self) -> None:
        """Start the Python index's prefilter now, so git searches while Python matches paths."""
        if self._python is None and self._python_tokens:
            from .python import PythonIndex

            self.grep_ahead(PythonIndex.todo(self), self.python_needles)

    @property
    def python_needles(self) -> "Needles":
        if self._needles is None:
            from .needles import Needles

            self._needles = Needles(self._python_tokens)
        return self._needles

    def lines(self, path: str) -> Optional[list[str]]:
        if self._log is not None:
            self._log.add(path)  # also when another probe split the file before
        if path not in self._lines:
            text = self.text(path)
            self._lines[path] = text.splitlines() if text is not None else None
        return self._lines[path]

    def find_line(self, path: str, needle: str, start: int = 1) -> Optional[int]:
        """First 1-based line at or after ``start`` that contains ``needle``."""
        lines = self.lines(path) or []
        for number in range(max(start, 1), len(lines) + 1):
            if needle in lines[number - 1]:
                return number
        return None

    # -- structured ------------------------------------------------------------------

    def yaml(self, path: str) -> Optional[list[Any]]:
        """All documents of a YAML file (with line spans), or None when it cannot be parsed."""
        if self._log is not None:
            self._log.add(path)
        if path not in self._yaml:
            key = self._key(path)
            if key is not None and key in self.cache.yaml:
                docs, error = self.cache.yaml[key]
                self.text(path)  # records read problems the first scan saw
                if error:
                    self._problem(path, error)
                self._yaml[path] = docs
                return docs
            docs, error = None, None
            text = self.text(path)
            if text is not None:
                try:
                    docs = load_all(text)
                except YamlError as exc:
                    where = f" (line {exc.line})" if exc.line else ""
                    error = f"malformed YAML{where}: {exc}"
                    self._problem(path, error)
            self._yaml[path] = docs
            if key is not None:
                self.cache.yaml[key] = (docs, error)
        return self._yaml[path]

    def yaml_doc(self, path: str) -> Any:
        """The first document of a YAML file, or None."""
        docs = self.yaml(path)
        return docs[0] if docs else None

    def json(self, path: str) -> Any:
        """A parsed JSON file, or None when it cannot be read or parsed."""
        if self._log is not None:
            self._log.add(path)
        cached = self._json.get(path, _MISSING)
        if cached is not _MISSING:
            return cached
        value = None
        text = self.text(path)
        if text is not None:
            try:
                value = json.loads(text)
            except ValueError as exc:
                self._problem(path, f"malformed JSON: {exc}")
        self._json[path] = value
        return value

    # -- shared indexes ---------------------------------------------------------------

    @property
    def python(self) -> "PythonIndex":
        if self._log is not None:
            self._log.add(PYTHON_INDEX)
        if self._python is None:
            self.start_python()
            assert self._python_pending is not None
            pending, self._python_pending = self._python_pending, None
            self._python = pending()
        return self._python

    def start_python(self) -> None:
        """Prefilter and start parsing the Python index in worker processes, without waiting:
        :attr:`python` finishes it. (A runner builds the CI model meanwhile.)"""
        if self._python is not None or self._python_pending is not None:
            return
        from .python import PythonIndex

        outer, self._log = self._log, None  # the index's own reads are summed up by the marker
        try:
            self._python_pending = PythonIndex.start(self, self.python_needles)
        finally:
            self._log = outer

    @property
    def ci(self) -> "CIModel":
        if self._ci is None:
            from .ci import build_ci_model

            outer, self._log = self._log, set()
            try:
                self._ci = build_ci_model(self)
                self._ci_inputs = self._log
            finally:
                self._log = outer
        if self._log is not None:
            self._log.add(CI_MODEL)
            self._log.update(self._ci_inputs)
        return self._ci

    @property
    def history(self) -> "History":
        if self._log is not None:
            self._log.add(HISTORY)
        if self._history is None:
            from .history import History

            self._history = History.read(self.snapshot)
        return self._history

    def derived(self, key: Any, compute: "Callable[[], Any]", *, listing_matters: bool = True) -> Any:
        """``compute()``, or its value from the other scan of a diff when every file it read has
        the same blob here and the path list is the same (it may have looked at it; pass
        ``listing_matters=False`` when it cannot have).

        What the first computation met is replayed, so this scan records the same reads and
        file problems as if it had computed the value itself."""
        cache = self.cache
        if cache is None:
            return compute()
        listing = self._listing_key() if listing_matters else ""
        entry = cache.derived.get(key)
        if entry is not None:
            value, reads, problems, listed = entry
            blob = self.snapshot.blob_id
            if listed == listing and all(blob(path) == was for path, was in reads):
                for path, _ in reads:
                    self.text(path)
                for path, message in problems.items():
                    self._problem(path, message)
                return value
        outer, self._log = self._log, set()
        try:
            value = compute()
            seen = self._log
        finally:
            self._log = outer
        if outer is not None:
            outer.update(seen)
        if not any(read.startswith("<") for read in seen):  # a shared index is not a file: not kept
            cache.derived[key] = (value, tuple((p, self.snapshot.blob_id(p)) for p in sorted(seen)),
                                  {p: self.problems[p] for p in sorted(seen) if p in self.problems}, listing)
        return value

    def per_file(self, name: str, path: str, compute: "Callable[[], T]") -> "T":
        """``compute()``, a value of ``path``'s content alone (its text, YAML or Python index
        entry; no other file, no path list, no state of the caller), named ``name``. The other
        scan of a diff takes it when the file has the same blob there: a probe re-run on a
        head with one changed module then analyses that module only."""
        blob = self.snapshot.blob_id(path) if self.cache is not None else None
        if blob is None:
            return compute()
        return self.derived(("per-file", name, path, blob), compute, listing_matters=False)

    def _listing_key(self) -> str:
        if self._listing is None:
            import hashlib

            self._listing = hashlib.sha256("\0".join(self.snapshot.paths()).encode()).hexdigest()
        return self._listing

    # -- access log (what a probe depended on) ----------------------------------------

    def note(self, read: str) -> None:
        """Record that the running probe depended on ``read`` (a path or a marker)."""
        if self._log is not None:
            self._log.add(read)

    def begin(self) -> None:
        self._log = set()

    def end(self) -> set[str]:
        log, self._log = self._log or set(), None
        return log

    # -- bookkeeping -----------------------------------------------------------------

    @property
    def files_read(self) -> int:
        return len(self._read)

    def paths_read(self) -> list[str]:
        """Every path some probe asked to read (benchmarks measure the I/O floor on these)."""
        return sorted(set(self._text) | self._scanned | self._asked_in_workers)

    def journal(self) -> tuple[int, int, int]:
        """A mark to measure what happens from now on (:meth:`since`): sizes of append-only views."""
        return len(self.problems), len(self._read_order), len(self._asked_order)

    def since(self, mark: tuple[int, int, int]) -> tuple[dict[str, str], set[str], set[str]]:
        """File problems, reads and requests first met after ``mark`` (all three only grow, and
        keep their order)."""
        problems = dict(list(self.problems.items())[mark[0]:])
        return problems, set(self._read_order[mark[1]:]), set(self._asked_order[mark[2]:])

    def _note_read(self, path: str) -> None:
        if path not in self._read:
            self._read.add(path)
            self._read_order.append(path)

    def _note_asked(self, path: str) -> None:
        if path not in self._asked:
            self._asked.add(path)
            self._asked_order.append(path)

    def absorb(self, problems: dict[str, str], read: set[str], asked: set[str]) -> None:
        """Take in what a probe run in a worker process met: file problems, reads, and the paths
        it asked for, so the report is the same as if it had run here."""
        for path, message in problems.items():
            self.problems.setdefault(path, message)
        for path in read:
            self._note_read(path)
        self._asked_in_workers |= asked

    def _problem(self, path: str, message: str) -> None:
        self.problems.setdefault(path, message)
        key = self._key(path) if self.cache is not None else None
        if key is not None:
            self.cache.problems.setdefault(key, message)

    def problem_records(self) -> list[ScanProblem]:
        return [ScanProblem(scope="file", subject=p, message=m) for p, m in sorted(self.problems.items())]

