"""The probe API: what a probe declares, and the context it collects evidence through.

A probe is declared data plus one pure function::

    PROBE = Probe(
        id="dvc",
        title="DVC pipelines, pointers and remotes",
        patterns=("**/dvc.yaml", "**/*.dvc"),
        kinds=(Kind("dvc.pipeline", DvcPipeline, "A dvc.yaml with its stages"),),
        collect=collect,
    )

``collect(ctx)`` yields :class:`~scanner.models.Evidence` built with ``ctx.evidence(...)``.
It reads only through ``ctx.facts`` (parsed once, shared) and only the paths in
``ctx.paths`` (the files its patterns matched). It never imports or runs scanned code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from pydantic import BaseModel, ConfigDict, Field

from .models import Citation, Evidence, Outcome, Strength, fingerprint
from .redact import redact

if TYPE_CHECKING:
    from .facts import Facts
    from .services import Response, ServiceSession
    from .snapshot import Snapshot

MAX_EXCERPT_LINES = 8
MAX_EXCERPT_CHARS = 600


class Attributes(BaseModel):
    """Base for a kind's attribute model: strict, so a typo in a probe fails its tests.

    Validators are built on first use (``defer_build``): a scan imports some hundred kinds and
    emits a few dozen, and building every schema up front cost more than half a second."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def measurement(**kwargs: Any) -> Any:
    """A field that measures rather than identifies (a count over history, a head commit).

    It is reported and rules can test it, but it stays out of the evidence fingerprint, so the
    same fact measured on the next commit keeps its id instead of reading as lost and gained.
    """
    return Field(json_schema_extra={"measurement": True}, **kwargs)


def identity_attributes(model: type[BaseModel], attrs: dict[str, Any]) -> dict[str, Any]:
    fields = getattr(model, "model_fields", {})
    return {
        key: value for key, value in attrs.items()
        if not ((fields.get(key) and isinstance(fields[key].json_schema_extra, dict)
                 and fields[key].json_schema_extra.get("measurement")))
    }


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[BaseModel]
    description: str


@dataclass(frozen=True)
class Probe:
    id: str
    title: str
    patterns: tuple[str, ...]
    kinds: tuple[Kind, ...]
    collect: Callable[["ProbeContext"], Iterable[Evidence]]
    services: tuple[str, ...] = ()
    # Needles (words or line-local regexes) whose match makes a .py/.ipynb file worth parsing for
    # this probe (the prefilter, see scanner.facts.needles). Keep them selective:
    # `imports_of("mlflow")` rather than a bare word.
    python_tokens: tuple[str, ...] = ()
    needs_history: bool = False
    # A scheduling hint, not a score: on worker processes heavier probes start first, so the one
    # that reads every manifest does not start last and run alone while the other cores idle.
    weight: int = 1

    def __post_init__(self) -> None:
        from .facts.needles import line_local_problem

        for token in self.python_tokens:
            problem = line_local_problem(token)
            if problem:
                raise ValueError(f"probe {self.id!r}: python token {token!r} is not line-local: {problem}")

    def kind(self, name: str) -> Kind:
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise KeyError(f"probe {self.id!r} does not declare kind {name!r}")


class SnapshotView:
    """The snapshot as a probe sees it: looking at the path list, a path or its size is logged
    as an input of the probe, like reading a file through the facts."""

    def __init__(self, snapshot: "Snapshot", facts: "Facts"):
        self._snapshot = snapshot
        self._facts = facts

    def paths(self) -> list[str]:
        from .facts import PATH_LIST

        self._facts.note(PATH_LIST)
        return self._snapshot.paths()

    def __contains__(self, path: str) -> bool:
        self._facts.note(path)
        return path in self._snapshot

    def size(self, path: str) -> Optional[int]:
        self._facts.note(path)
        return self._snapshot.size(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._snapshot, name)


class ProbeContext:
    """What one probe sees of one snapshot: its matched paths, the shared facts, and builders."""

    def __init__(self, probe: Probe, snapshot: "Snapshot", facts: "Facts", paths: list[str],
                 services: Optional["ServiceSession"] = None):
        self.probe = probe
        self.services = services
        self.snapshot = SnapshotView(snapshot, facts)
        self.facts = facts
        self.paths = paths
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value derived once per scan for this probe (e.g. an index over ``facts``)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- evidence builders -------------------------------------------------------------

    def evidence(
        self,
        kind: str,
        attributes: BaseModel | dict[str, Any],
        *,
        path: Optional[str] = None,
        lines: Optional[tuple[int, int]] = None,
        subject: str = "",
        strength: Strength = Strength.configured,
        downgrades: Iterable[str] = (),
    ) -> Evidence:
        """Evidence of ``kind`` cited at ``path`` lines ``lines`` (1-based, inclusive)."""
        declared = self.probe.kind(kind)
        if isinstance(attributes, BaseModel):
            model = attributes
            if not isinstance(model, declared.model):
                raise TypeError(f"{kind}: attributes must be {declared.model.__name__}")
        else:
            model = declared.model(**attributes)
        attrs = model.model_dump(mode="json")
        reasons = sorted(set(downgrades))
        memo, key = self._evidence_memo(kind, path, lines, subject, strength, reasons)
        for same_attrs, built in memo.get(key, ()) if key is not None else ():
            if same_attrs == attrs:  # the same fact from the same blob, in the other scan
                self.facts.note(path)  # the probe still depended on the file
                return recite(built, self.snapshot)
        citation = self.cite(path, lines) if path else None
        item = Evidence(
            id=fingerprint(kind, subject, path, identity_attributes(declared.model, attrs)),
            kind=kind,
            probe=self.probe.id,
            subject=subject,
            attributes=attrs,
            strength=strength,
            downgrades=reasons,
            citation=citation,
        )
        if key is not None:
            memo.setdefault(key, []).append((attrs, item))
        return item

    def _evidence_memo(self, kind: str, path: Optional[str], lines: Optional[tuple[int, int]], subject: str,
                       strength: Strength, reasons: list[str]) -> tuple[dict[tuple[Any, ...], Any], Optional[tuple[Any, ...]]]:
        """Where a diff keeps evidence per blob id, and this item's key there (None: not kept).
        Items under one key are told apart by their attributes, compared as dicts (no encoding)."""
        cache = self.facts.cache
        blob = self.snapshot.blob_id(path) if cache is not None and path else None
        if cache is None or blob is None:
            return {}, None
        return cache.evidence, (self.probe.id, kind, subject, path, blob, lines, strength, tuple(reasons))

    def unknown(self, kind: str, reason: str, *, path: Optional[str] = None, subject: str = "",
                service: Optional[str] = None, endpoint: Optional[str] = None) -> Evidence:
        """Record that the probe could not look: never a silent zero."""
        self.probe.kind(kind)
        citation = None
        if path:
            citation = Citation(path=path, commit=self.snapshot.commit)
        elif service:
            citation = Citation(source=service, endpoint=endpoint,
                                observed_at=self.services.observed_at if self.services else None)
        return Evidence(
            id=fingerprint(kind, subject, path, {"unknown": reason}),
            kind=kind,
            probe=self.probe.id,
            subject=subject,
            outcome=Outcome.unknown,
            reason=reason,
            strength=Strength.mention,
            citation=citation,
        )

    def service_evidence(
        self,
        kind: str,
        attributes: BaseModel | dict[str, Any],
        *,
        service: str,
        response: "Response",
        subject: str = "",
        strength: Strength = Strength.executed,
        downgrades: Iterable[str] = (),
    ) -> Evidence:
        """Evidence seen in a linked service, cited by endpoint, time and response digest."""
        item = self.evidence(kind, attributes, subject=subject, strength=strength, downgrades=downgrades)
        return item.model_copy(update={"citation": Citation(
            source=service, endpoint=response.endpoint, observed_at=response.observed_at,
            response_digest=response.digest,
        )})

    def cite(self, path: str, lines: Optional[tuple[int, int]] = None) -> Citation:
        snap = self.snapshot
        start, end = lines if lines else (None, None)
        excerpt = None
        if start is not None:
            text_lines = self.facts.lines(path)
            if text_lines is not None:
                end = min(max(end or start, start), len(text_lines))
                start = min(start, end)
                excerpt = excerpt_of(text_lines, start, end)
        return Citation(
            path=path,
            start_line=start,
            end_line=end,
            commit=snap.commit,
            blob=snap.blob_id(path),
            url=snap.permalink(path, start, end),
            excerpt=excerpt,
        )


def recite(item: Evidence, snapshot: Any) -> Evidence:
    """The same evidence, cited at this snapshot's commit (its blob, and so its lines, are equal)."""
    cit = item.citation
    if cit is None or cit.source != "repo" or cit.path is None:
        return item
    moved = cit.model_copy(update={"commit": snapshot.commit,
                                   "url": snapshot.permalink(cit.path, cit.start_line, cit.end_line)})
    return item.model_copy(update={"citation": moved})


def excerpt_of(text_lines: list[str], start: int, end: int) -> str:
    """The cited lines, short and with secrets redacted; long blocks keep their head."""
    chosen = text_lines[start - 1 : min(end, start - 1 + MAX_EXCERPT_LINES)]
    text = "\n".join(line.rstrip() for line in chosen)
    if len(text) > MAX_EXCERPT_CHARS:
        text = text[:MAX_EXCERPT_CHARS]
    return redact(text)
