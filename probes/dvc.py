"""DVC: pipelines (``dvc.yaml``), lock files, data pointers, remotes, params, GTO artifacts, and
the ``dvc`` commands CI runs (RUBRIC §3.1 DM-c, DM-d, DM-e, DM-j, DM-k, DM-l; §5.3 DVC + GTO).

Everything is read from committed files: DVC is never run. ``.dvc/config`` is read with
``configparser`` (DVC writes it with configobj, which configparser reads when told not to
interpolate and not to be strict); ``.dvc/config.local`` holds per-machine settings and secrets,
is normally git-ignored, and is deliberately not read.

Strength logic, in short:

- ``dvc.pipeline``, ``dvc.pointer``, ``dvc.params``, ``dvc.gto_artifact``: configured.
- ``dvc.lock``: executed when its outputs carry hashes and its stages are exactly the stages of
  the ``dvc.yaml`` beside it (the pipeline ran as defined); configured with the reason otherwise.
- ``dvc.remote``: configured for shared storage; a local-path remote is a laptop folder, so it
  is a mention with a downgrade.
- ``dvc.ci_command``: configured; a non-blocking or disabled CI job downgrades it to mention.
"""

from __future__ import annotations

import configparser
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Optional

from scanner.facts.ci import ci_blocking_reasons, step_triggers
from scanner.facts.yamldoc import YMap, as_list
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

if TYPE_CHECKING:
    from scanner.facts.ci import Job, Pipeline, Step

try:  # Python >= 3.11
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    tomllib = None  # type: ignore[assignment]


# -- attribute models ------------------------------------------------------------------


class DvcPipeline(Attributes):
    stages: int
    stage_names: list[str]
    chained: bool
    metrics: int
    plots: int
    params_used: bool
    foreach: bool


class DvcLock(Attributes):
    stages: int
    hashed_outs: int
    matches_pipeline: bool
    unlocked_stages: list[str]  # in dvc.yaml, missing from dvc.lock (never run or stale lock)
    orphaned_stages: list[str]  # in dvc.lock, gone from dvc.yaml


class DvcPointer(Attributes):
    outs: int
    hashed: bool
    imported: bool  # `dvc import` / `dvc import-url`: the data comes from another repo or URL


class DvcRemote(Attributes):
    name: str
    scheme: str
    default: bool
    shared: bool


class DvcParams(Attributes):
    keys: int
    top_level: list[str]
    referenced: bool  # a stage declares params from this file


class DvcGtoArtifact(Attributes):
    name: str
    type: Optional[str]
    path: Optional[str]


class DvcCiCommand(Attributes):
    command: str
    job: str
    system: str
    triggers: list[str]
    scheduled: bool
    blocking: bool


# -- dvc.yaml model ------------------------------------------------------------------------

# keys of a stage whose entries are outputs (strings or single-key mappings)
_OUT_KEYS = ("outs", "metrics", "plots")
_HASH_KEYS = ("md5", "etag", "checksum", "sha256")
DEFAULT_PARAMS_FILE = "params.yaml"


@dataclass
class Stage:
    """One stage of a dvc.yaml as written (a foreach/matrix stage stays one stage)."""

    name: str
    wdir: str  # repo-relative working directory of its paths and command
    commands: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)
    metrics: int = 0
    plots: int = 0
    params_files: set[str] = field(default_factory=set)  # repo paths of the params files it reads
    templated: bool = False  # foreach / matrix


def _entry_path(entry: Any) -> Optional[str]:
    """A deps/outs entry is a path string or a single-key mapping ``{path: {options}}``."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:
        key = next(iter(entry))
        return key if isinstance(key, str) else None
    return None


def _join(base: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    return "" if joined == "." else joined


def parse_stage(name: str, raw: Any, base_dir: str) -> Stage:
    """A stage from its dvc.yaml mapping; foreach stages keep their body under ``do``."""
    body = raw if isinstance(raw, dict) else {}
    templated = "foreach" in body or "matrix" in body
    if "foreach" in body and isinstance(body.get("do"), dict):
        body = body["do"]
    wdir_raw = body.get("wdir")
    wdir = _join(base_dir, wdir_raw) if isinstance(wdir_raw, str) else base_dir
    stage = Stage(name=str(name), wdir=wdir, templated=templated)
    stage.commands = [str(c) for c in as_list(body.get("cmd")) if isinstance(c, (str, int, float))]
    stage.deps = [_join(wdir, p) for p in map(_entry_path, as_list(body.get("deps"))) if p]
    for key in _OUT_KEYS:
        paths = [_join(wdir, p) for p in map(_entry_path, as_list(body.get(key))) if p]
        stage.outs += paths
        if key == "metrics":
            stage.metrics = len(paths)
        elif key == "plots":
            stage.plots = len(paths)
    for entry in as_list(body.get("params")):
        if isinstance(entry, str):
            stage.params_files.add(_join(wdir, DEFAULT_PARAMS_FILE))
        elif isinstance(entry, dict):
            stage.params_files.update(_join(wdir, f) for f in entry if isinstance(f, str))
    return stage


def parse_stages(doc: Any, base_dir: str) -> list[Stage]:
    """Every stage of a parsed dvc.yaml document (empty when it has none)."""
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return []
    return [parse_stage(name, raw, base_dir) for name, raw in stages.items()]


def stage_commands(doc: Any, base_dir: str) -> list[tuple[Stage, str]]:
    """(stage, command) for every command of every stage; other probes use this to tell which
    scripts a DVC pipeline runs."""
    return [(stage, command) for stage in parse_stages(doc, base_dir) for command in stage.commands]


def _overlaps(dep: str, out: str) -> bool:
    """A dep consumes an out when they are the same path or one lies inside the other."""
    if not dep or not out:
        return False
    return dep == out or dep.startswith(out + "/") or out.startswith(dep + "/")


def is_chained(stages: list[Stage]) -> bool:
    """Some stage's outputs are another stage's dependencies (a real multi-stage pipeline)."""
    for producer in stages:
        for consumer in stages:
            if consumer is producer:
                continue
            if any(_overlaps(dep, out) for dep in consumer.deps for out in producer.outs):
                return True
    return False


def _top_level_count(value: Any) -> int:
    """Entries of a top-level ``metrics:``/``plots:`` (a list, or a mapping of plot ids)."""
    if isinstance(value, (list, dict)):
        return len(value)
    return 0


# -- dvc.lock -------------------------------------------------------------------------------


def _hashed(entry: Any) -> bool:
    return isinstance(entry, dict) and any(entry.get(key) for key in _HASH_KEYS)


def lock_stages(doc: Any) -> Optional[dict]:
    """The stages mapping of a lock file: ``stages:`` (schema 2.0) or the top level (DVC 1.x)."""
    if not isinstance(doc, dict):
        return None
    if "schema" in doc or "stages" in doc:
        stages = doc.get("stages")
        return stages if isinstance(stages, dict) else None
    return doc


def lock_base_name(name: str) -> str:
    """``build@us`` / ``train@cnn-a`` (foreach / matrix expansions) belong to stage ``build``."""
    return str(name).split("@", 1)[0]


# -- .dvc/config ----------------------------------------------------------------------------

_REMOTE_SECTION = lazy(r"""^'?\s*remote\s+"(?P<name>[^"]+)"\s*'?$""")
_SECTION_LINE = lazy(r"^\s*\[(?P<name>[^\]]+)\]\s*$")
_URL_SCHEME = lazy(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEMES = {
    "s3": "s3",
    "gs": "gs",
    "gcs": "gs",
    "azure": "azure",
    "gdrive": "gdrive",
    "ssh": "ssh",
    "sftp": "ssh",
    "http": "http",
    "https": "https",
    "hdfs": "hdfs",
    "webhdfs": "hdfs",
    "webdav": "webdav",
    "webdavs": "webdav",
    "oss": "oss",
    "file": "local",
}


def remote_scheme(url: str, urls: dict[str, str], seen: Optional[set[str]] = None) -> str:
    """The storage scheme of a remote URL; ``remote://other/path`` resolves through ``other``.

    Unknown schemes are kept as written (lower-cased) rather than guessed."""
    match = _URL_SCHEME.match(url.strip())
    if not match:
        return "local"
    scheme = match.group("scheme").lower()
    if scheme == "remote":
        seen = seen or set()
        target = url.strip()[len("remote://") :].split("/", 1)[0]
        if target in urls and target not in seen:
            seen.add(target)
            return remote_scheme(urls[target], urls, seen)
        return "remote"
    return _SCHEMES.get(scheme, scheme)


def _section_spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Line span of each INI section: its header to its last non-blank, non-comment line."""
    spans: dict[str, tuple[int, int]] = {}
    current: Optional[str] = None
    start = last = 0
    for number, line in enumerate(lines, start=1):
        header = _SECTION_LINE.match(line)
        if header:
            if current is not None:
                spans.setdefault(current, (start, last))
            current, start, last = header.group("name").strip(), number, number
        elif current is not None and line.strip() and not line.lstrip().startswith(("#", ";")):
            last = number
    if current is not None:
        spans.setdefault(current, (start, last))
    return spans


def parse_config(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, inline_comment_prefixes=("#", ";"), default_section="\0none"
    )
    parser.read_string(text)
    return parser


# -- params files ----------------------------------------------------------------------------


def _leaf_count(value: Any) -> int:
    """Leaf keys of a nested mapping (a list counts as one value), without recursion."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for child in item.values():
                if isinstance(child, dict) and child:
                    stack.append(child)
                else:
                    count += 1
    return count


# -- probe -------------------------------------------------------------------------------------

DVC_COMMAND = lazy(
    r"(?<![\w./-])dvc\s+(?P<cmd>repro|push|pull|exp\s+run|exp\s+push|metrics\s+diff|plots\s+diff)(?![\w-])"
)


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    yamls = [p for p in ctx.paths if posixpath.basename(p) == "dvc.yaml"]
    pipelines: dict[str, list[Stage]] = {}  # directory -> stages of its dvc.yaml
    params_refs: dict[str, bool] = {}  # params file -> a stage reads it
    unreadable: set[str] = set()  # directories whose dvc.yaml could not be parsed
    for path in yamls:
        yield from _pipeline(ctx, path, pipelines, params_refs, unreadable)
    for path in ctx.paths:
        name = posixpath.basename(path)
        if name == "dvc.lock":
            yield from _lock(ctx, path, pipelines, unreadable)
        elif name.endswith(".dvc") and name != ".dvc":
            yield from _pointer(ctx, path)
        elif path.endswith(".dvc/config") and posixpath.basename(posixpath.dirname(path)) == ".dvc":
            yield from _remotes(ctx, path)
    yield from _params(ctx, pipelines, params_refs)
    yield from _ci_commands(ctx)


def _pipeline(
    ctx: ProbeContext, path: str, pipelines: dict[str, list[Stage]], params_refs: dict[str, bool],
    unreadable: set[str],
) -> Iterator[Evidence]:
    docs = ctx.facts.yaml(path)
    if docs is None:
        reason = ctx.facts.problems.get(path, "dvc.yaml could not be read")
        unreadable.add(posixpath.dirname(path))
        yield ctx.unknown("dvc.pipeline", reason, path=path)
        yield ctx.unknown("dvc.gto_artifact", reason, path=path)
        return
    doc = docs[0] if docs else None
    if doc is None:
        return  # an empty dvc.yaml is valid: no stages
    if not isinstance(doc, YMap):
        yield ctx.unknown("dvc.pipeline", "dvc.yaml is not a mapping", path=path)
        return
    base = posixpath.dirname(path)
    raw_stages = doc.get("stages")
    if raw_stages is not None and not isinstance(raw_stages, dict):
        yield ctx.unknown("dvc.pipeline", "dvc.yaml `stages` is not a mapping", path=path)
    stages = parse_stages(doc, base)
    pipelines[base] = stages
    if stages:
        for stage in stages:
            params_refs.update(dict.fromkeys(stage.params_files, True))
        for entry in as_list(doc.get("params")):  # top-level: files for `dvc params diff`
            if isinstance(entry, str):
                params_refs.setdefault(_join(base, entry), False)
        attrs = DvcPipeline(
            stages=len(stages),
            stage_names=sorted(s.name for s in stages),
            chained=is_chained(stages),
            metrics=sum(s.metrics for s in stages) + _top_level_count(doc.get("metrics")),
            plots=sum(s.plots for s in stages) + _top_level_count(doc.get("plots")),
            params_used=any(s.params_files for s in stages),
            foreach=any(s.templated for s in stages),
        )
        yield ctx.evidence("dvc.pipeline", attrs, path=path, lines=doc.key_span("stages"))
    yield from _artifacts(ctx, path, doc)


def _artifacts(ctx: ProbeContext, path: str, doc: YMap) -> Iterator[Evidence]:
    """GTO model-registry artifacts declared in ``artifacts:`` (DVC >= 3)."""
    artifacts = doc.get("artifacts")
    if not isinstance(artifacts, YMap):
        return
    for name, spec in artifacts.items():
        spec = spec if isinstance(spec, dict) else {}
        art_type = spec.get("type")
        art_path = spec.get("path")
        attrs = DvcGtoArtifact(
            name=str(name),
            type=str(art_type) if art_type is not None else None,
            path=str(art_path) if art_path is not None else None,
        )
        yield ctx.evidence("dvc.gto_artifact", attrs, path=path, lines=artifacts.key_span(name), subject=str(name))


def _lock(ctx: ProbeContext, path: str, pipelines: dict[str, list[Stage]], unreadable: set[str]) -> Iterator[Evidence]:
    docs = ctx.facts.yaml(path)
    if docs is None:
        yield ctx.unknown("dvc.lock", ctx.facts.problems.get(path, "dvc.lock could not be read"), path=path)
        return
    doc = docs[0] if docs else None
    stages = lock_stages(doc)
    if stages is None:
        if doc is not None:
            yield ctx.unknown("dvc.lock", "dvc.lock has no `stages` mapping", path=path)
        return
    hashed = 0
    for entry in stages.values():
        if isinstance(entry, dict):
            hashed += sum(1 for out in as_list(entry.get("outs")) if _hashed(out))
    base = posixpath.dirname(path)
    locked = {lock_base_name(name) for name in stages}
    defined = {s.name for s in pipelines.get(base, [])}
    unlocked, orphaned = sorted(defined - locked), sorted(locked - defined)
    matches = base in pipelines and not unlocked and not orphaned
    reasons = []
    if not hashed:
        reasons.append("dvc.lock records no output hashes")
    if base in unreadable:
        reasons.append("the dvc.yaml beside this dvc.lock could not be parsed")
    elif base not in pipelines:
        reasons.append("no dvc.yaml beside this dvc.lock")
    else:
        if unlocked:
            reasons.append("stages never locked (not run since defined): " + ", ".join(unlocked))
        if orphaned:
            reasons.append("stale lock: stages no longer in dvc.yaml: " + ", ".join(orphaned))
    attrs = DvcLock(
        stages=len(stages),
        hashed_outs=hashed,
        matches_pipeline=matches,
        unlocked_stages=unlocked,
        orphaned_stages=orphaned,
    )
    span = doc.key_span("stages") if isinstance(doc, YMap) and "stages" in doc else _span(doc)
    strength = Strength.executed if hashed and matches else Strength.configured
    yield ctx.evidence("dvc.lock", attrs, path=path, lines=span, strength=strength, downgrades=reasons)


def _span(obj: Any) -> tuple[int, int]:
    return getattr(obj, "span", (1, 1)) or (1, 1)


def _is_import(dep: Any) -> bool:
    """A dependency on another DVC repo (``repo:``) or a URL: made by dvc import / import-url."""
    if not isinstance(dep, dict):
        return False
    source = dep.get("path")
    return "repo" in dep or (isinstance(source, str) and bool(_URL_SCHEME.match(source)))


def _pointer(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    docs = ctx.facts.yaml(path)
    if docs is None:
        yield ctx.unknown("dvc.pointer", ctx.facts.problems.get(path, ".dvc file could not be read"), path=path)
        return
    doc = docs[0] if docs else None
    if not isinstance(doc, YMap):
        yield ctx.unknown("dvc.pointer", ".dvc file is not a mapping", path=path)
        return
    outs = [o for o in as_list(doc.get("outs")) if isinstance(o, dict)]
    hashed = any(_hashed(o) for o in outs)
    imported = any(_is_import(dep) for dep in as_list(doc.get("deps")))
    reasons = []
    if not outs:
        reasons.append("pointer tracks no outputs")
    elif not hashed:
        reasons.append("pointer carries no hash: the data was never added")
    span = doc.key_span("outs") if "outs" in doc else doc.span
    attrs = DvcPointer(outs=len(outs), hashed=hashed, imported=imported)
    strength = Strength.mention if reasons else Strength.configured
    yield ctx.evidence("dvc.pointer", attrs, path=path, lines=span, strength=strength, downgrades=reasons)


def _remotes(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    text = ctx.facts.text(path)
    if text is None:
        yield ctx.unknown("dvc.remote", ctx.facts.problems.get(path, ".dvc/config could not be read"), path=path)
        return
    try:
        parser = parse_config(text)
    except configparser.Error as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        yield ctx.unknown("dvc.remote", f"malformed .dvc/config: {message}", path=path)
        return
    default = parser.get("core", "remote", fallback="").strip() if parser.has_section("core") else ""
    remotes: dict[str, str] = {}
    sections: dict[str, str] = {}
    for section in parser.sections():
        match = _REMOTE_SECTION.match(section.strip())
        if match and parser.has_option(section, "url"):
            remotes[match.group("name")] = parser.get(section, "url").strip()
            sections[match.group("name")] = section.strip()
    spans = _section_spans(ctx.facts.lines(path) or [])
    for name in sorted(remotes):
        scheme = remote_scheme(remotes[name], remotes)
        shared = scheme != "local"
        attrs = DvcRemote(name=name, scheme=scheme, default=name == default, shared=shared)
        reasons = [] if shared else ["local path remote: data stays on one machine"]
        strength = Strength.configured if shared else Strength.mention
        yield ctx.evidence(
            "dvc.remote", attrs, path=path, lines=spans.get(sections[name]), subject=name,
            strength=strength, downgrades=reasons,
        )


def _params(ctx: ProbeContext, pipelines: dict[str, list[Stage]], params_refs: dict[str, bool]) -> Iterator[Evidence]:
    """Params files of DVC projects: the ones stages read, and params.yaml beside a dvc.yaml."""
    candidates = dict(params_refs)
    for base in pipelines:
        candidates.setdefault(_join(base, DEFAULT_PARAMS_FILE), False)
    present = set(ctx.snapshot.paths()) if candidates else set()
    for path in sorted(candidates):
        if path not in present:
            continue
        referenced = candidates[path]
        value, span, problem = _load_params(ctx, path)
        if problem:
            yield ctx.unknown("dvc.params", problem, path=path)
            continue
        top = sorted(str(k) for k in value) if isinstance(value, dict) else []
        attrs = DvcParams(keys=_leaf_count(value), top_level=top, referenced=referenced)
        reasons = [] if referenced else ["no stage declares these params"]
        strength = Strength.configured if referenced else Strength.mention
        yield ctx.evidence("dvc.params", attrs, path=path, lines=span, strength=strength, downgrades=reasons)


def _load_params(ctx: ProbeContext, path: str) -> tuple[Any, Optional[tuple[int, int]], Optional[str]]:
    """(value, citation span, problem) for a YAML, JSON or TOML params file."""
    lines = ctx.facts.lines(path)
    whole = (1, max(len(lines or []), 1))
    if path.endswith((".yaml", ".yml")):
        docs = ctx.facts.yaml(path)
        if docs is None:
            return None, None, ctx.facts.problems.get(path, "params file could not be read")
        doc = docs[0] if docs else {}
        return doc, _span(doc) if isinstance(doc, YMap) else whole, None
    if path.endswith(".json"):
        value = ctx.facts.json(path)
        if value is None:
            return None, None, ctx.facts.problems.get(path, "params file could not be read")
        return value, whole, None
    if path.endswith(".toml"):
        text = ctx.facts.text(path)
        if text is None:
            return None, None, ctx.facts.problems.get(path, "params file could not be read")
        if tomllib is None:
            return None, None, "TOML params need Python >= 3.11"
        try:
            return tomllib.loads(text), whole, None
        except tomllib.TOMLDecodeError as exc:
            return None, None, f"malformed TOML: {exc}"
    return None, None, "params file format not read (only YAML, JSON, TOML)"


# -- CI --------------------------------------------------------------------------------------


def _normalise_command(raw: str) -> str:
    return " ".join(raw.split())


def _command_line(ctx: ProbeContext, path: str, step: "Step", command: str) -> tuple[int, int]:
    """The line of the step that runs ``dvc <command>``, else the whole step."""
    words = command.split()
    pattern = re.compile(r"\bdvc\s+" + r"\s+".join(map(re.escape, words)))
    lines = ctx.facts.lines(path) or []
    for number in range(max(step.start_line, 1), min(step.end_line, len(lines)) + 1):
        text = lines[number - 1]
        if pattern.search(text) and not text.lstrip().startswith("#"):
            return number, number
    return step.start_line, step.end_line


def _ci_commands(ctx: ProbeContext) -> Iterator[Evidence]:
    model = ctx.facts.ci
    for path, reason in sorted(model.unreadable.items()):
        if DVC_COMMAND.search(ctx.facts.text(path) or ""):  # only where a dvc command may hide
            yield ctx.unknown("dvc.ci_command", f"CI file not readable: {reason}", path=path)
    seen: set[tuple[str, str, str]] = set()
    for pipeline, job, step in model.steps():
        for line in step.commands():
            for match in DVC_COMMAND.finditer(line):
                command = _normalise_command(match.group("cmd"))
                key = (pipeline.path, job.id, command)
                if key in seen:
                    continue
                seen.add(key)
                yield _ci_evidence(ctx, pipeline, job, step, line, command)


def _ci_evidence(
    ctx: ProbeContext, pipeline: "Pipeline", job: "Job", step: "Step", line: str, command: str
) -> Evidence:
    reasons = ci_blocking_reasons(job, step, line)
    triggers = step_triggers(job, step)
    path = step.where(job)
    attrs = DvcCiCommand(
        command=command,
        job=job.id,
        system=pipeline.system,
        triggers=triggers,
        scheduled="schedule" in triggers,
        blocking=not reasons,
    )
    return ctx.evidence(
        "dvc.ci_command", attrs, path=path, lines=_command_line(ctx, path, step, command),
        subject=f"{job.id}:{command}", strength=Strength.mention if reasons else Strength.configured,
        downgrades=reasons,
    )


PROBE = Probe(
    id="dvc",
    title="DVC pipelines, lock files, data pointers, remotes and GTO artifacts",
    patterns=("**/dvc.yaml", "**/dvc.lock", "**/*.dvc", "**/.dvc/config", "**/params.yaml"),
    kinds=(
        Kind("dvc.pipeline", DvcPipeline, "A dvc.yaml with its stages and whether they chain"),
        Kind("dvc.lock", DvcLock, "A dvc.lock: hashes recorded when the pipeline ran"),
        Kind("dvc.pointer", DvcPointer, "A .dvc pointer file versioning data outside git"),
        Kind("dvc.remote", DvcRemote, "A DVC remote from .dvc/config (shared storage or a local path)"),
        Kind("dvc.params", DvcParams, "A params file of a DVC pipeline"),
        Kind("dvc.gto_artifact", DvcGtoArtifact, "A GTO registry artifact declared in dvc.yaml `artifacts:`"),
        Kind("dvc.ci_command", DvcCiCommand, "A CI step running dvc repro/push/pull/exp/metrics diff"),
    ),
    collect=collect,
    weight=2,  # every .dvc pointer is parsed
)
