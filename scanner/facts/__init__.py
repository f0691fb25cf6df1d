"""Parse-once views of a snapshot, shared by every probe.

Each file is read at most once and parsed at most once per scan, whichever probes ask. A file
that cannot be read or parsed is recorded once in :attr:`Facts.problems` (the scan goes on) and
the accessor returns ``None``; the probe then records ``unknown`` for what it could not see.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

from ..models import ScanProblem
from ..snapshot import FileSkipped, Snapshot
from .yamldoc import YamlError, load_all

if TYPE_CHECKING:
    from .ci import CIModel
    from .history import History
    from .python import PythonIndex

_MISSING = object()


class Facts:
    def __init__(self, snapshot: Snapshot, *, python_tokens: Iterable[str] = ()):
        self.snapshot = snapshot
        self.problems: dict[str, str] = {}
        self._python_tokens = tuple(sorted(set(python_tokens)))
        self._text: dict[str, Optional[str]] = {}
        self._lines: dict[str, Optional[list[str]]] = {}
        self._yaml: dict[str, Optional[list[Any]]] = {}
        self._json: dict[str, Any] = {}
        self._scanned: set[str] = set()  # read by a prefilter that did not match: not kept
        self.files_read = 0

    # -- raw text --------------------------------------------------------------------

    def text(self, path: str) -> Optional[str]:
        """The file as UTF-8 text, or None (recorded) if unreadable, binary or too large."""
        if path in self._text:
            return self._text[path]
        try:
            data = self.snapshot.read_bytes(path)
        except FileSkipped as exc:
            self._problem(path, str(exc))
            self._text[path] = None
            return None
        if path not in self._scanned:
            self.files_read += 1
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
        return text

    def scan(self, paths: list[str], search: "Callable[[bytes], bool]") -> Iterator[tuple[str, str]]:
        """(path, text) of the files whose bytes ``search`` accepts: a prefilter over many files.

        Files stream from the snapshot (one ``cat-file --batch`` for a commit); only the ones that
        match are decoded and kept, the rest are counted as read and dropped.
        """
        for path, data, why_not in self.snapshot.iter_bytes([p for p in paths if p not in self._text]):
            if data is None:
                self._problem(path, why_not)
                self._text[path] = None
                continue
            self.files_read += 1
            if search(data):
                self._decode(path, data)
            else:
                self._scanned.add(path)
        for path in paths:
            text = self._text.get(path)
            if text is not None:
                yield path, text

    def lines(self, path: str) -> Optional[list[str]]:
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
        if path not in self._yaml:
            docs = None
            text = self.text(path)
            if text is not None:
                try:
                    docs = load_all(text)
                except YamlError as exc:
                    where = f" (line {exc.line})" if exc.line else ""
                    self._problem(path, f"malformed YAML{where}: {exc}")
            self._yaml[path] = docs
        return self._yaml[path]

    def yaml_doc(self, path: str) -> Any:
        """The first document of a YAML file, or None."""
        docs = self.yaml(path)
        return docs[0] if docs else None

    def json(self, path: str) -> Any:
        """A parsed JSON file, or None when it cannot be read or parsed."""
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

    @cached_property
    def python(self) -> "PythonIndex":
        from .python import PythonIndex

        return PythonIndex.build(self, self._python_tokens)

    @cached_property
    def ci(self) -> "CIModel":
        from .ci import build_ci_model

        return build_ci_model(self)

    @cached_property
    def history(self) -> "History":
        from .history import History

        return History.read(self.snapshot)

    # -- bookkeeping -----------------------------------------------------------------

    def paths_read(self) -> list[str]:
        """Every path some probe asked to read (benchmarks measure the I/O floor on these)."""
        return sorted(set(self._text) | self._scanned)

    def _problem(self, path: str, message: str) -> None:
        self.problems.setdefault(path, message)

    def problem_records(self) -> list[ScanProblem]:
        return [ScanProblem(scope="file", subject=p, message=m) for p, m in sorted(self.problems.items())]

