"""Data versioning beyond DVC, lineage and privacy controls (RUBRIC §3.1 DM-c, DM-l, DM-p; §5.4).

DVC pointers and pipelines are probes/dvc.py; this probe covers the other ways to pin data:

- ``data.versioning``: Git LFS on data-like paths (``.gitattributes`` ``filter=lfs``; the repo probe
  uses the same rules only to *exclude* binaries, here they are positive evidence), lakeFS
  (``lakefs://`` URIs in code or config, ``lakectl`` in CI), Delta Lake time travel
  (``versionAsOf``/``timestampAsOf``, ``DeltaTable(..., version=)``), Iceberg snapshot reads
  (``snapshot-id``/``as-of-timestamp``, ``scan(snapshot_id=)``) and Hugging Face
  ``load_dataset(..., revision=...)`` pinned to a commit or tag (a branch is downgraded).
  Also data read from an external versioned source at a pinned version (RUBRIC DM 1.2): W&B
  artifacts used at ``name:v3`` or a digest (``:latest``, a custom alias or no alias is not a pin
  and yields nothing), ``dvc.api.open/read/get_url(..., rev=...)`` (``dvc import`` and pointers
  are probes/dvc.py), boto3 S3 reads with a ``VersionId``, ClearML ``Dataset.get`` by id or
  ``dataset_version`` (by project and name alone is the newest, not a pin), and SQL
  ``FOR SYSTEM_TIME AS OF`` a literal timestamp in ``.sql`` files (BigQuery, SQL Server).
- ``data.lineage``: OpenLineage (imported in code, ``OPENLINEAGE_URL`` in CI env, an
  ``openlineage.yml`` transport), DataHub and OpenMetadata ingestion recipes (``source:``/``sink:``),
  and MLflow dataset inputs (``mlflow.log_input``, ``mlflow.data.from_*``), which probes/mlflow.py
  counts as tracking calls but does not emit as lineage.
- ``data.privacy``: Presidio analyzers/anonymizers in code, Google Cloud DLP and Amazon Macie in
  Terraform/CloudFormation (and the DLP client in code).

Notebook-only use and test-only use are downgraded to ``mention``; requirement files and prose are
never read.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Iterator, Literal, NamedTuple, Optional

from scanner.facts.needles import Needles
from scanner.facts.python import imports_of
from scanner.facts.yamldoc import YMap
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from .dvc import ci_blocking_reasons

if TYPE_CHECKING:
    from scanner.facts.python import Call, PyFile


class DataVersioning(Attributes):
    tool: Literal["git_lfs", "lakefs", "delta", "iceberg", "hf_datasets", "wandb_artifacts", "dvc_api",
                  "s3_versions", "clearml_datasets", "sql_system_time"]
    detail: str


class DataLineage(Attributes):
    tool: Literal["openlineage", "datahub", "openmetadata", "mlflow_inputs"]
    detail: str


class DataPrivacy(Attributes):
    tool: Literal["presidio", "dlp", "macie"]
    where: Literal["code", "iac"]


NOTEBOOK = "notebook only"
TESTS_ONLY = "only in tests"
_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")


def _code_reasons(pyfile: "PyFile") -> list[str]:
    if pyfile.notebook:
        return [NOTEBOOK]
    if _TEST_PATH.search(pyfile.path):
        return [TESTS_ONLY]
    return []


def _strength(reasons: list[str]) -> Strength:
    return Strength.mention if reasons else Strength.configured


def _span(calls: list["Call"]) -> tuple[int, int]:
    return min(c.line for c in calls), max(c.end_line for c in calls)


# -- Git LFS -------------------------------------------------------------------------------------

DATA_EXTENSIONS = frozenset({
    "csv", "tsv", "parquet", "pq", "feather", "arrow", "avro", "orc", "jsonl", "ndjson", "json", "xlsx", "xls",
    "h5", "hdf5", "hdf", "npy", "npz", "zarr", "tfrecord", "tfrecords", "db", "sqlite", "sav", "dta", "xml",
    "wav", "flac", "mp3", "jpg", "jpeg", "png", "tif", "tiff", "nc", "las", "laz", "shp", "geojson", "gz", "zip",
})
# Images and archives are data only under a data directory (else they are docs assets, releases).
_ONLY_UNDER_DATA_DIRS = frozenset({"png", "jpg", "jpeg", "gz", "zip"})
_DATA_DIRS = lazy(r"(?:^|/)(?:data|datasets?|raw|processed|interim|corpus|corpora)(?:/|$)", re.IGNORECASE)


def data_like(pattern: str) -> bool:
    """A .gitattributes pattern that tracks data (``*.parquet``, ``data/**``), not models or assets."""
    if _DATA_DIRS.search(pattern.lstrip("/")):
        return True
    name = pattern.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return ext in DATA_EXTENSIONS and ext not in _ONLY_UNDER_DATA_DIRS


def _gitattributes(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    lines = ctx.facts.lines(path)
    if lines is None:
        yield ctx.unknown("data.versioning", ctx.facts.problems.get(path, "could not be read"), path=path)
        return
    hits: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, 1):
        parts = raw.split()
        if not parts or parts[0].startswith("#") or "filter=lfs" not in parts[1:]:
            continue
        if data_like(parts[0]):
            hits.append((number, parts[0]))
    if hits:
        detail = "filter=lfs on " + ", ".join(p for _, p in hits)
        yield ctx.evidence("data.versioning", DataVersioning(tool="git_lfs", detail=detail[:200]), path=path,
                           lines=(hits[0][0], hits[-1][0]), subject=path)


# -- code: lakeFS, Delta, Iceberg, HF datasets -------------------------------------------------------

_PINNED_SHA = lazy(r"^[0-9a-f]{7,40}$")
_BRANCHES = frozenset({"main", "master", "dev", "develop", "HEAD", "latest"})
_DELTA_OPTIONS = frozenset({"versionAsOf", "timestampAsOf"})
_ICEBERG_OPTIONS = frozenset({"snapshot-id", "as-of-timestamp"})


def _code_versioning(ctx: ProbeContext, path: str, pyfile: "PyFile") -> Iterator[Evidence]:
    base = _code_reasons(pyfile)
    lakefs = [(v, line) for v, line in pyfile.strings if v.startswith("lakefs://")]
    if lakefs:
        lines = (lakefs[0][1], lakefs[-1][1])
        detail = ", ".join(sorted({v for v, _ in lakefs}))
        yield ctx.evidence("data.versioning", DataVersioning(tool="lakefs", detail=detail[:200]), path=path,
                           lines=lines, subject=f"lakefs:{path}", strength=_strength(base), downgrades=base)
    by_tool: dict[str, list["Call"]] = {"delta": [], "iceberg": []}
    for call in pyfile.calls:
        first = call.literal_args[0] if call.literal_args else None
        if call.attr == "option" and first in _DELTA_OPTIONS:
            by_tool["delta"].append(call)
        elif call.attr == "option" and first in _ICEBERG_OPTIONS:
            by_tool["iceberg"].append(call)
        elif call.attr == "DeltaTable" and call.name.startswith("deltalake") and "version" in call.keywords:
            by_tool["delta"].append(call)
        elif call.attr == "scan" and "snapshot_id" in call.keywords and pyfile.imports_module("pyiceberg"):
            by_tool["iceberg"].append(call)
    for tool, calls in by_tool.items():
        if calls:
            detail = ", ".join(sorted({_call_detail(c) for c in calls}))
            yield ctx.evidence("data.versioning", DataVersioning(tool=tool, detail=detail[:200]),  # type: ignore[arg-type]
                               path=path, lines=_span(calls), subject=f"{tool}:{path}",
                               strength=_strength(base), downgrades=base)
    for call in pyfile.calls:
        if call.name == "datasets.load_dataset" and "revision" in call.keywords:
            yield _hf(ctx, path, call, base)


def _call_detail(call: "Call") -> str:
    first = call.literal_args[0] if call.literal_args else None
    if call.attr == "option" and isinstance(first, str):
        return f'option("{first}")'
    return f"{call.attr}({', '.join(k + '=' for k in call.keywords if k in ('version', 'snapshot_id'))})"


def _hf(ctx: ProbeContext, path: str, call: "Call", base: list[str]) -> Evidence:
    revision = call.kwarg("revision")
    name = call.literal_args[0] if call.literal_args and isinstance(call.literal_args[0], str) else "?"
    reasons = list(base)
    if not isinstance(revision, str):
        reasons.append("revision is not a literal: cannot tell whether it is pinned")
    elif revision in _BRANCHES or revision.startswith("refs/heads/"):
        reasons.append(f"revision {revision!r} is a branch: the data can change under it")
    detail = f"load_dataset({name}, revision={revision if isinstance(revision, str) else '?'})"
    return ctx.evidence("data.versioning", DataVersioning(tool="hf_datasets", detail=detail[:200]), path=path,
                        lines=(call.line, call.end_line), subject=f"hf:{path}:{name}",
                        strength=_strength(reasons), downgrades=reasons)


# -- code: reads from an external source at a pinned version (W&B, dvc.api, S3, ClearML) --------------

_NOT_LITERAL = "not a literal: cannot tell whether it is pinned"
_WANDB_PIN = lazy(r":(?:v\d+|[0-9a-f]{32})$")  # a version number or a content digest; aliases move
_DVC_API = frozenset({"dvc.api.open", "dvc.api.read", "dvc.api.get_url", "dvc.api.DVCFileSystem",
                      "dvc.fs.DVCFileSystem"})
_AWS_SDKS = ("boto3", "aioboto3", "botocore", "aiobotocore")
_EXTRA_VERSION = lazy(r"""\\?["']VersionId\\?["'][ \t]*:[ \t]*(?:\\?["'](?P<value>[^"'\\\n]+)\\?["'])?""")


class _Pin(NamedTuple):
    tool: str
    detail: str
    reasons: list[str]


def _literal_pin(value: object, what: str) -> list[str]:
    """Downgrade reasons for a version argument: none for a literal, one when it is computed."""
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
        return []
    return [f"{what} {_NOT_LITERAL}"]


def _wandb_pin(pyfile: "PyFile", call: "Call") -> Optional[_Pin]:
    """``run.use_artifact("name:v3")`` / ``wandb.Api().artifact("e/p/name:v12")``: only a version
    number or digest pins; ``:latest``, ``:production`` or no alias follow whatever is logged next."""
    if call.attr not in ("use_artifact", "artifact") or not pyfile.imports_module("wandb"):
        return None
    ref = call.literal_args[0] if call.literal_args else call.kwarg("artifact_or_name", call.kwarg("name"))
    if not isinstance(ref, str) or not _WANDB_PIN.search(ref):
        return None
    return _Pin("wandb_artifacts", f"{call.attr}({ref})", [])


def _dvc_api_pin(call: "Call") -> Optional[_Pin]:
    """``dvc.api.read(path, repo=..., rev="v1.2")``: the data as of a git revision of a DVC repo."""
    if call.name not in _DVC_API or "rev" not in call.keywords:
        return None
    rev = call.kwarg("rev")
    reasons = _literal_pin(rev, "rev")
    if isinstance(rev, str) and (rev in _BRANCHES or rev.startswith("refs/heads/")):
        reasons.append(f"rev {rev!r} is a branch: the data can change under it")
    first = call.literal_args[0] if call.literal_args and isinstance(call.literal_args[0], str) else "?"
    return _Pin("dvc_api", f"{call.name}({first}, rev={rev if isinstance(rev, str) else '?'})", reasons)


def _s3_pin(ctx: ProbeContext, path: str, pyfile: "PyFile", call: "Call") -> Optional[_Pin]:
    """boto3 ``get_object(..., VersionId=...)`` (``Object(...).get(VersionId=...)``) or
    ``download_file(..., ExtraArgs={"VersionId": ...})``: one object version of a versioned bucket."""
    if call.attr in ("get_object", "get") and "VersionId" in call.keywords:
        version = call.kwarg("VersionId")
    elif call.attr in ("download_file", "download_fileobj") and "ExtraArgs" in call.keywords:
        lines = ctx.facts.lines(path) or []
        match = _EXTRA_VERSION.search("\n".join(lines[call.line - 1:call.end_line]))
        if not match:
            return None
        version = match.group("value")
    else:
        return None
    if not any(pyfile.imports_module(sdk) for sdk in _AWS_SDKS):
        return None
    key = call.kwarg("Key") or next((a for a in call.literal_args if isinstance(a, str) and "/" in a), None)
    shown = version if isinstance(version, str) else "?"
    return _Pin("s3_versions", f"{call.attr}(Key={key or '?'}, VersionId={shown})", _literal_pin(version, "VersionId"))


def _clearml_pin(call: "Call") -> Optional[_Pin]:
    """``Dataset.get(dataset_id=...)`` or ``Dataset.get(..., dataset_version="1.2.0")``; by project
    and name alone ClearML returns the newest completed version, which is not a pin."""
    if not (call.name.startswith("clearml.") and call.name.endswith(".Dataset.get")):
        return None
    if call.literal_args or "dataset_id" in call.keywords:
        dataset_id = call.literal_args[0] if call.literal_args else call.kwarg("dataset_id")
        shown = dataset_id if isinstance(dataset_id, str) else "?"
        return _Pin("clearml_datasets", f"Dataset.get(dataset_id={shown})", _literal_pin(dataset_id, "dataset_id"))
    if "dataset_version" in call.keywords:
        version, name = call.kwarg("dataset_version"), call.kwarg("dataset_name")
        shown = version if isinstance(version, str) else "?"
        detail = f"Dataset.get({name if isinstance(name, str) else '?'}, dataset_version={shown})"
        return _Pin("clearml_datasets", detail, _literal_pin(version, "dataset_version"))
    return None


def _pinned_reads(ctx: ProbeContext, path: str, pyfile: "PyFile") -> Iterator[Evidence]:
    base = _code_reasons(pyfile)
    seen: set[tuple[str, str]] = set()
    for call in pyfile.calls:
        pin = _wandb_pin(pyfile, call) or _dvc_api_pin(call) or _s3_pin(ctx, path, pyfile, call) or _clearml_pin(call)
        if pin is None or (pin.tool, pin.detail) in seen:
            continue
        seen.add((pin.tool, pin.detail))
        reasons = base + pin.reasons
        yield ctx.evidence("data.versioning", DataVersioning(tool=pin.tool, detail=pin.detail[:200]),  # type: ignore[arg-type]
                           path=path, lines=(call.line, call.end_line), subject=f"{pin.tool}:{path}:{pin.detail[:120]}",
                           strength=_strength(reasons), downgrades=reasons)


# -- SQL: FOR SYSTEM_TIME AS OF (BigQuery time travel, SQL Server temporal tables) -------------------

_SQL_NEEDLES = Needles(["SYSTEM_TIME", "system_time"])
_SQL_LINE_COMMENT = lazy(r"--[^\n]*|^[ \t]*#[^\n]*", re.MULTILINE)
_SYSTEM_TIME = lazy(
    r"(?:(?P<table>`[^`\n]+`|[\w.$-]+)\s+)?\bFOR\s+SYSTEM_TIME\s+AS\s+OF\s+(?P<expr>[^;\n]*)", re.IGNORECASE)
_FIXED_TIME = lazy(r"""^(?:(?:TIMESTAMP|DATETIME)\s*)?(?:'[^'\n]+'|"[^"\n]+")""", re.IGNORECASE)


def _sql_time_travel(ctx: ProbeContext) -> Iterator[Evidence]:
    """Reads of a table as of a fixed past time; a relative time (``CURRENT_TIMESTAMP() - ...``) or a
    parameter is a mention. Comments are blanked first, keeping line numbers."""
    paths = [p for p in ctx.paths if p.endswith(".sql")]
    for path, text in ctx.facts.grep(paths, _SQL_NEEDLES):
        code = _BLOCK_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        code = _SQL_LINE_COMMENT.sub("", code)
        seen: set[str] = set()
        for match in _SYSTEM_TIME.finditer(code):
            expr = match.group("expr").strip()
            fixed = _FIXED_TIME.match(expr)
            table = (match.group("table") or "?").strip("`")
            detail = f"{table} FOR SYSTEM_TIME AS OF {fixed.group(0) if fixed else expr[:80]}"
            if detail in seen:
                continue
            seen.add(detail)
            reasons = [] if fixed else ["AS OF a relative or parameterised time: not a fixed version"]
            first = code.count("\n", 0, match.start()) + 1
            last = code.count("\n", 0, match.start("expr")) + 1
            yield ctx.evidence("data.versioning", DataVersioning(tool="sql_system_time", detail=detail[:200]),
                               path=path, lines=(first, last), subject=f"sql_system_time:{path}:{detail[:120]}",
                               strength=_strength(reasons), downgrades=reasons)


# -- code: lineage and privacy -----------------------------------------------------------------------

_MLFLOW_DATASET = lazy(r"^mlflow\.(?:log_input|data\.\w+)$")
_PRESIDIO = frozenset({"AnalyzerEngine", "AnonymizerEngine", "BatchAnalyzerEngine", "BatchAnonymizerEngine",
                       "DeanonymizeEngine"})


def _code_lineage(ctx: ProbeContext, path: str, pyfile: "PyFile") -> Iterator[Evidence]:
    base = _code_reasons(pyfile)
    ol = [i for i in pyfile.imports if i.module == "openlineage" or i.module.startswith("openlineage.")]
    if ol:
        detail = "imports " + ", ".join(sorted({i.module for i in ol}))
        yield ctx.evidence("data.lineage", DataLineage(tool="openlineage", detail=detail[:200]), path=path,
                           lines=(ol[0].line, ol[-1].line), subject=f"openlineage:{path}",
                           strength=_strength(base), downgrades=base)
    inputs = [c for c in pyfile.calls if _MLFLOW_DATASET.match(c.name)
              or (c.attr == "log_inputs" and pyfile.imports_module("mlflow"))]
    if inputs:
        detail = ", ".join(sorted({c.name for c in inputs}))
        yield ctx.evidence("data.lineage", DataLineage(tool="mlflow_inputs", detail=detail[:200]), path=path,
                           lines=_span(inputs), subject=f"mlflow_inputs:{path}",
                           strength=_strength(base), downgrades=base)
    presidio = [c for c in pyfile.calls if c.attr in _PRESIDIO and c.name.startswith("presidio_")]
    if presidio:
        yield ctx.evidence("data.privacy", DataPrivacy(tool="presidio", where="code"), path=path,
                           lines=_span(presidio), subject=f"presidio:{path}", strength=_strength(base), downgrades=base)
    dlp = [c for c in pyfile.calls if c.attr == "DlpServiceClient" and c.name.startswith("google.cloud.dlp")]
    if dlp:
        yield ctx.evidence("data.privacy", DataPrivacy(tool="dlp", where="code"), path=path,
                           lines=_span(dlp), subject=f"dlp:{path}", strength=_strength(base), downgrades=base)


# -- IaC: DLP / Macie --------------------------------------------------------------------------------

_TF_PRIVACY = lazy(
    r'^\s*resource\s+"(?P<type>google_data_loss_prevention_\w+|aws_macie2_\w+)"\s+"(?P<name>[^"]+)"', re.MULTILINE)
_CFN_MACIE = lazy(r"^[ \t]*Type:\s*[\"']?AWS::Macie::(?:Session|ClassificationJob|CustomDataIdentifier|FindingsFilter|AllowList)\b", re.MULTILINE)
_BLOCK_COMMENT = lazy(r"/\*.*?\*/", re.DOTALL)


def _iac_privacy(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    text = ctx.facts.text(path)
    if not text:
        return
    if path.endswith(".tf"):
        text = _BLOCK_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        for match in _TF_PRIVACY.finditer(text):
            line = text.count("\n", 0, match.start("type")) + 1
            tool = "dlp" if match.group("type").startswith("google_") else "macie"
            yield ctx.evidence("data.privacy", DataPrivacy(tool=tool, where="iac"), path=path, lines=(line, line),  # type: ignore[arg-type]
                               subject=f"{match.group('type')}.{match.group('name')}")
    else:
        for match in _CFN_MACIE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield ctx.evidence("data.privacy", DataPrivacy(tool="macie", where="iac"), path=path,
                               lines=(line, line), subject=f"macie:{path}:{line}")


# -- YAML: recipes, openlineage.yml, lakefs:// in config ----------------------------------------------


def _recipe(ctx: ProbeContext, path: str, doc: YMap) -> Optional[Evidence]:
    source, sink = doc.get("source"), doc.get("sink")
    if not (isinstance(source, dict) and isinstance(source.get("type"), str)):
        return None
    sink_type = sink.get("type") if isinstance(sink, dict) else None
    if "workflowConfig" in doc or sink_type == "metadata-rest":
        tool = "openmetadata"
    elif isinstance(sink_type, str) and sink_type.startswith("datahub"):
        tool = "datahub"
    else:
        return None
    detail = f"source {source['type']} -> sink {sink_type or '?'}"
    return ctx.evidence("data.lineage", DataLineage(tool=tool, detail=detail[:200]), path=path,  # type: ignore[arg-type]
                        lines=doc.key_span("source"), subject=f"{tool}:{path}")


_YAML_NEEDLES = Needles(["sink:", "lakefs://", "transport:", "AWS::Macie::"])


def _yaml_files(ctx: ProbeContext) -> Iterator[Evidence]:
    ci_files = {p.path for p in ctx.facts.ci.pipelines} | set(ctx.facts.ci.unreadable)  # read as CI in _ci
    paths = [p for p in ctx.paths if p.endswith((".yml", ".yaml")) and p not in ci_files]
    for path, text in ctx.facts.grep(paths, _YAML_NEEDLES):
        if "AWS::Macie::" in text:
            yield from _iac_privacy(ctx, path)
        docs = ctx.facts.yaml(path)
        if docs is None:
            if re.search(r"^sink:", text, re.MULTILINE):
                yield ctx.unknown("data.lineage", ctx.facts.problems.get(path, "could not be parsed"), path=path)
            continue
        for doc in docs:
            if isinstance(doc, YMap) and "sink" in doc:
                found = _recipe(ctx, path, doc)
                if found:
                    yield found
        if posixpath.basename(path) in ("openlineage.yml", "openlineage.yaml"):
            doc = docs[0] if docs else None
            transport = doc.get("transport") if isinstance(doc, YMap) else None
            if isinstance(transport, dict) and transport.get("type"):
                yield ctx.evidence("data.lineage", DataLineage(tool="openlineage", detail=f"transport {transport['type']}"),
                                   path=path, lines=doc.key_span("transport"), subject=f"openlineage:{path}")
        uris = [(n, line) for n, line in enumerate(text.splitlines(), 1)
                if "lakefs://" in line and not line.lstrip().startswith("#")]
        if uris:
            found_uris = sorted({m for _, line in uris for m in re.findall(r"lakefs://[^\s\"',]+", line)})
            yield ctx.evidence("data.versioning", DataVersioning(tool="lakefs", detail=", ".join(found_uris)[:200]),
                               path=path, lines=(uris[0][0], uris[-1][0]), subject=f"lakefs:{path}")


# -- CI: lakectl, OPENLINEAGE_URL --------------------------------------------------------------------

_LAKECTL = lazy(r"(?<![\w./-])lakectl\s+(?P<sub>[\w-]+)")


def _ci(ctx: ProbeContext) -> Iterator[Evidence]:
    seen: set[tuple[str, str]] = set()
    for pipeline, job, step in ctx.facts.ci.steps():
        for line in step.commands():
            match = _LAKECTL.search(line)
            if not match or (job.id, line) in seen:
                continue
            seen.add((job.id, line))
            reasons = [r for r in ci_blocking_reasons(job, step, line) if r.startswith("disabled")]
            path = step.where(job)
            number = ctx.facts.find_line(path, "lakectl", step.start_line) or step.start_line
            yield ctx.evidence("data.versioning", DataVersioning(tool="lakefs", detail=line[:200]), path=path,
                               lines=(number, number), subject=f"lakectl:{job.id}:{line[:120]}",
                               strength=_strength(reasons), downgrades=reasons)
    for pipeline in ctx.facts.ci.pipelines:
        scopes = [(pipeline.env, None)] + [(job.env, job) for job in pipeline.jobs] + [
            (step.env, job) for job in pipeline.jobs for step in job.steps]
        for env, job in scopes:
            if "OPENLINEAGE_URL" not in env:
                continue
            path = pipeline.path
            number = ctx.facts.find_line(path, "OPENLINEAGE_URL", job.start_line if job else 1) or 1
            reasons = [f"disabled: {job.disabled}"] if job is not None and job.disabled else []
            scope = job.id if job else "pipeline"
            yield ctx.evidence("data.lineage", DataLineage(tool="openlineage", detail=f"OPENLINEAGE_URL in {scope} env"),
                               path=path, lines=(number, number), subject=f"openlineage-env:{path}:{scope}",
                               strength=_strength(reasons), downgrades=reasons)
            break


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        if posixpath.basename(path) == ".gitattributes":
            yield from _gitattributes(ctx, path)
        elif path.endswith(".tf"):
            yield from _iac_privacy(ctx, path)
    yield from _yaml_files(ctx)
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        yield from _code_versioning(ctx, path, pyfile)
        yield from _pinned_reads(ctx, path, pyfile)
        yield from _code_lineage(ctx, path, pyfile)
    yield from _ci(ctx)
    yield from _sql_time_travel(ctx)


PROBE = Probe(
    id="lineage",
    title="Data versioning beyond DVC (LFS, lakeFS, Delta, Iceberg, HF datasets), lineage and privacy controls",
    patterns=("**/.gitattributes", "**/*.yml", "**/*.yaml", "**/*.tf", "**/*.sql"),
    kinds=(
        Kind("data.versioning", DataVersioning, "Data pinned to a version: LFS on data paths, lakeFS, Delta/Iceberg time travel, HF revision, "
             "W&B artifact versions, dvc.api rev, S3 VersionId, ClearML dataset id/version, SQL FOR SYSTEM_TIME AS OF"),
        Kind("data.lineage", DataLineage, "Lineage emitted or ingested: OpenLineage, DataHub/OpenMetadata recipes, MLflow dataset inputs"),
        Kind("data.privacy", DataPrivacy, "PII detection or masking: Presidio in code, Cloud DLP / Macie in IaC"),
    ),
    collect=collect,
    python_tokens=(
        *imports_of("openlineage", "presidio_analyzer", "presidio_anonymizer", "deltalake", "pyiceberg",
                    "google.cloud.dlp", "google.cloud.dlp_v2", "datasets", "wandb", "dvc", "clearml"),
        "VersionId",  # boto3 versioned reads: narrower than an import of boto3, found in most cloud code
        "lakefs://", "versionAsOf", "timestampAsOf", "snapshot-id", "as-of-timestamp", "log_input", "mlflow.data",
    ),
)
