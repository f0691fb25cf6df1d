"""MLflow as it shows in a repository's code and config (not the live server: that is a service probe).

What it reads, and why each matters (RUBRIC.md §3.2 ET-c/d/e/j, §3.3 MD-d/e/f/o):

* tracking calls in Python and notebooks (``mlflow.log_*``, ``autolog``, ``start_run``...). They
  count as *configured* only in a module that something runs: a ``__main__`` guard, an MLproject
  entry point, a ``dvc.yaml`` stage or a CI step, or a module one such entrypoint imports. Calls
  that only live in notebooks or in unreached modules are a *mention*;
* where runs go: ``set_tracking_uri`` literals, ``MLFLOW_TRACKING_URI`` in CI env, ``.env``
  examples and config YAML. A local file/sqlite store is a *mention* (ET-d), a server is ET-e;
* registry writes (``register_model``, ``registered_model_name=``, aliases, stages) and registry
  reads (``models:/name@alias`` URIs in code and serving config), scripted rollbacks;
* MLflow's own files: ``MLproject``, committed ``MLmodel`` files, a committed ``mlruns/`` store.

Nothing is imported or run: Python comes from the shared ``ast`` index, YAML from the safe loader.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from typing import Any, Iterator, Literal, Optional
from urllib.parse import urlsplit

from scanner.facts.ci import CIModel
from scanner.facts.python import Call, PyFile, PythonIndex
from scanner.facts.yamldoc import YList, YMap
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from ._reach import Resolver as _Resolver  # noqa: F401  (kept importable here for tests)
from ._reach import PIPELINE_TOKENS, Wiring
from ._reach import importing_entrypoints as _importing_entrypoints
from ._reach import in_mlruns as _in_mlruns

# -- attribute models -------------------------------------------------------------------------

Scheme = Literal["http", "https", "databricks", "file", "sqlite", "postgresql", "mysql", "azureml", "other"]


class Tracking(Attributes):
    file_kind: Literal["module", "notebook"]
    logs_params: bool
    logs_metrics: bool
    logs_model: bool  # log_model / mlflow.<flavor>.log_model / log_artifact(s)
    autolog: bool
    start_run: bool
    entrypoint: bool  # the file itself is run: main guard, MLproject, dvc stage, CI step
    calls: int
    imported_by_entrypoint: bool = False
    reached_via: list[str] = []  # sorted: "ci", "dvc", "import", "main_guard", "mlproject"
    signature: bool = False  # infer_signature(...) or log_model(signature=...)
    input_example: bool = False  # log_model(input_example=...)
    integrations: list[str] = []  # sorted roots of framework loggers: "lightning", "ray", "transformers"...


class TrackingUri(Attributes):
    scheme: Scheme
    shared: bool
    source: Literal["code", "ci_env", "config", "env_file"]
    host: Optional[str] = None
    loopback: bool = False  # localhost / 127.0.0.1: a server, but nobody else's
    reference: Optional[Literal["secret", "ci_variable", "env"]] = None  # value is a reference, not a URI


class Registry(Attributes):
    operation: Literal[
        "register_model",
        "registered_model_name",
        "set_alias",
        "transition_stage",
        "create_registered_model",
        "create_model_version",
    ]
    model_name: Optional[str] = None
    alias_or_stage: Optional[str] = None
    file_kind: Literal["module", "notebook"] = "module"


class ModelUri(Attributes):
    uri: str
    model_name: Optional[str] = None
    selector: Optional[Literal["alias", "stage", "version", "latest"]] = None
    selector_value: Optional[str] = None  # the alias, stage or version itself
    source: Literal["code", "config"] = "code"


class Project(Attributes):
    entry_points: list[str]
    env: Literal["conda", "python_env", "docker", "none"]
    name: Optional[str] = None


class ModelFile(Attributes):
    flavors: list[str]
    signature: bool
    input_example: bool
    path: str  # the model directory
    in_local_store: bool = False  # under a committed mlruns/


class LocalStore(Attributes):
    runs: int
    experiments: int
    path: str = ""  # the mlruns directory


class Rollback(Attributes):
    operation: Literal["set_alias", "transition_stage"]
    model_name: Optional[str] = None
    wired: Optional[Literal["ci", "runbook"]] = None


# -- vocabulary -------------------------------------------------------------------------------

# mlflow.<fn> module functions that record a run (fluent API).
FLUENT_TRACKING = frozenset(
    {
        "log_param", "log_params", "log_metric", "log_metrics", "log_artifact", "log_artifacts",
        "log_input", "log_inputs", "log_dict", "log_figure", "log_image", "log_table", "log_text",
        "log_model", "autolog", "start_run", "set_experiment", "set_tag", "set_tags", "evaluate",
    }
)
# MlflowClient methods that record a run; only trusted on a receiver when the file builds a client.
CLIENT_TRACKING = frozenset(
    {
        "log_param", "log_metric", "log_batch", "log_artifact", "log_artifacts", "log_dict",
        "log_figure", "log_image", "log_table", "log_text", "log_inputs", "create_run", "set_tag",
    }
)
# Framework loggers that record params and metrics to MLflow for the training loop.
INTEGRATION_CLASSES = frozenset({"MLflowLoggerCallback", "MLFlowLogger", "MLflowLogger", "MLflowCallback"})
PARAM_CALLS = frozenset({"log_param", "log_params"})
METRIC_CALLS = frozenset({"log_metric", "log_metrics", "log_batch", "evaluate"})  # evaluate logs metrics
MODEL_CALLS = frozenset({"log_model", "log_artifact", "log_artifacts"})
RUN_CALLS = frozenset({"start_run", "create_run"})

# MlflowClient registry methods: names distinctive enough to trust on any receiver in a file
# that imports mlflow (the client is often passed around as a parameter).
REGISTRY_METHODS = {
    "set_registered_model_alias": "set_alias",
    "transition_model_version_stage": "transition_stage",
    "create_registered_model": "create_registered_model",
    "create_model_version": "create_model_version",
}
ROLLBACK_OPERATIONS = frozenset({"set_alias", "transition_stage"})

STAGES = frozenset({"production", "staging", "archived", "none"})
URI_KEYS = frozenset({"tracking_uri", "mlflow_tracking_uri"})
ENV_KEY = "MLFLOW_TRACKING_URI"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})

MAX_CITED_SPAN = 40  # tracking calls further apart than this: cite the first call only
MAX_MODEL_FILES = 100

NOTEBOOK_ONLY = "notebook only: not reached from an entrypoint or pipeline"
NOT_REACHED = "not reached from an entrypoint, CI or a pipeline"
LOCAL_STORE = "local tracking store"
COMMITTED_STORE = "tracking results committed to git (local file store)"
NOT_WIRED = "not wired to CI or a runbook"
LOOPBACK = "tracking server on localhost: not shared"
HIDDEN_DESTINATION = "tracking URI is an environment reference: destination not visible"

_ROLLBACK_NAME = lazy(r"roll_?back|revert", re.IGNORECASE)
_ROLLBACK_DEF = lazy(r"^\s*(?:async\s+)?def\s+\w*(?:roll_?back|revert)\w*\s*\(", re.IGNORECASE | re.MULTILINE)
_GH_SECRET = lazy(r"\$\{\{\s*(?:secrets|vars)\.[A-Za-z0-9_]+\s*\}\}")
_CI_VARIABLE = lazy(r"^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})$")
_URI_ASSIGNMENT = lazy(
    r"""^\s*(?:(?:[A-Za-z_][\w.]*)?tracking_uri\w*|os\.environ\[\s*["']MLFLOW_TRACKING_URI["']\s*\])"""
    r"""\s*(?::[^=]+)?=\s*[rRuU]?["'](?P<value>[^"'\s]+)["']""",
    re.IGNORECASE,
)
_MENTIONS_MLFLOW = lazy(r"mlflow|MLflow|MLFlow|MLFLOW|models:/")
_TEMPLATED = lazy(r"(?<!\$)\{\{|\{%")
_MODEL_URI_IN_LINE = lazy(r"models:/[^\s\"'`,(){}\[\]$]*")  # stops at template braces

# -- which files this probe is handed ---------------------------------------------------------

_CONFIG_DIRS = ("conf", "config", "configs")
_SERVING_DIRS = (
    "k8s", "kubernetes", "deploy", "deployment", "deployments", "manifests", "helm", "charts",
    "serving", "kserve", "seldon",
)
PATTERNS: tuple[str, ...] = (
    "**/MLproject", "**/MLProject", "**/mlproject",
    "**/MLmodel",
    "**/dvc.yaml",
    "**/mlruns/**",
    "**/.env.example", "**/.env.sample", "**/.env.template",
    "**/config.yaml", "**/config.yml",
    *(f"**/{d}/**/*.{ext}" for d in _CONFIG_DIRS for ext in ("yaml", "yml")),
    *(f"**/{d}/**/*.{ext}" for d in _SERVING_DIRS for ext in ("yaml", "yml", "json")),
    "**/values*.yaml", "**/values*.yml",
    "**/*inference*.yaml", "**/*inference*.yml", "**/*serving*.yaml", "**/*serving*.yml",
    "**/*isvc*.yaml", "**/*isvc*.yml",
    "**/model-settings.json",
    "**/*[Rr]unbook*", "**/*RUNBOOK*", "**/[Rr]unbooks/**",
)


# -- entry point --------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    ci = ctx.facts.ci
    wiring = Wiring.build(ctx, index, ci)
    runbooks = [p for p in ctx.paths if _is_runbook(p)]
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not _MENTIONS_MLFLOW.search(ctx.facts.text(path) or ""):
            continue  # indexed for another probe's words (or only for its __main__ guard)
        if pyfile.error:
            yield ctx.unknown("mlflow.tracking", pyfile.error, path=path)
            continue
        yield from _tracking(ctx, index, pyfile, wiring)
        yield from _registry(ctx, pyfile)
        yield from _rollback(ctx, pyfile, wiring, runbooks)
        yield from _model_uris_in_code(ctx, pyfile)
        yield from _tracking_uris_in_code(ctx, pyfile)
    yield from _tracking_uris_in_ci(ctx, ci)
    for path in ctx.paths:
        name = posixpath.basename(path)
        if _in_mlruns(path):
            continue
        if name.lower() == "mlproject":
            yield from _project(ctx, path)
        elif name.startswith(".env."):
            yield from _env_file(ctx, path)
        elif name.endswith((".yaml", ".yml", ".json")) and name != "dvc.yaml" and not _is_runbook(path):
            yield from _config_file(ctx, path)
    yield from _model_files(ctx)
    yield from _local_stores(ctx)


# -- what runs what: shared with the trackers probe (probes/_reach.py) -----------------------


# -- tracking calls ---------------------------------------------------------------------------


def _builds_client(pyfile: PyFile) -> bool:
    return any(c.attr == "MlflowClient" and c.name.startswith("mlflow.") for c in pyfile.calls)


def _import_roots(pyfile: PyFile) -> set[str]:
    return {imp.module.split(".")[0] for imp in pyfile.imports}


def _is_tracking_call(call: Call, client: bool, roots: set[str]) -> bool:
    parts = call.name.split(".")
    if parts[0] == "mlflow":
        if len(parts) == 2:
            return parts[1] in FLUENT_TRACKING
        if call.attr in ("log_model", "autolog"):  # mlflow.<flavor>.log_model / .autolog
            return True
        return "MlflowClient()" in call.name and call.attr in CLIENT_TRACKING
    # client.log_metric(...): trusted only where the file builds an MlflowClient, and never on
    # a receiver that is another imported module (comet_ml also has log_metric)
    return client and call.attr in CLIENT_TRACKING and len(parts) > 1 and parts[0] not in roots


def _integration(call: Call, roots: set[str]) -> Optional[str]:
    """The framework whose MLflow logger this call builds (``MLFlowLogger(...)``, ``report_to="mlflow"``)."""
    root = call.name.split(".")[0]
    if call.attr in INTEGRATION_CLASSES and root in roots and root != "mlflow":
        return root
    if call.kwarg("report_to") == "mlflow":
        return root if root in roots else "transformers"
    return None


def _tracking(ctx: ProbeContext, index: PythonIndex, pyfile: PyFile, wiring: Wiring) -> Iterator[Evidence]:
    client, roots = _builds_client(pyfile), _import_roots(pyfile)
    calls = [c for c in pyfile.calls if _is_tracking_call(c, client, roots) or _integration(c, roots)]
    if not calls:
        return
    integrations = sorted({i for i in (_integration(c, roots) for c in calls) if i})
    attrs = {c.attr for c in calls}
    model_calls = [c for c in calls if c.attr == "log_model"]
    via = set(wiring.runs.get(pyfile.path, set()))
    importers = [] if pyfile.notebook else _importing_entrypoints(index, pyfile.path, wiring)
    if importers:
        via.add("import")
    entrypoint = bool(wiring.runs.get(pyfile.path))
    tracking = Tracking(
        file_kind="notebook" if pyfile.notebook else "module",
        logs_params=bool(attrs & PARAM_CALLS or integrations)
        or any(c.attr == "log_batch" and "params" in c.keywords for c in calls),
        logs_metrics=bool(attrs & METRIC_CALLS or integrations),
        logs_model=bool(attrs & MODEL_CALLS),
        autolog="autolog" in attrs,
        start_run=bool(attrs & RUN_CALLS),
        entrypoint=entrypoint,
        calls=len(calls),
        imported_by_entrypoint=bool(importers),
        reached_via=sorted(via),
        signature=any(c.attr == "infer_signature" and c.name.startswith("mlflow.") for c in pyfile.calls)
        or any("signature" in c.keywords for c in model_calls),
        input_example=any("input_example" in c.keywords for c in model_calls),
        integrations=integrations,
    )
    downgrades: list[str] = []
    if pyfile.notebook and not entrypoint:
        downgrades.append(NOTEBOOK_ONLY)
    elif not pyfile.notebook and not via:
        downgrades.append(NOT_REACHED)
    yield ctx.evidence(
        "mlflow.tracking",
        tracking,
        path=pyfile.path,
        lines=_span(calls),
        strength=Strength.mention if downgrades else Strength.configured,
        downgrades=downgrades,
    )


def _span(calls: list[Call]) -> tuple[int, int]:
    first = min(calls, key=lambda c: (c.line, c.end_line))
    last_end = max(c.end_line for c in calls)
    if last_end - first.line + 1 <= MAX_CITED_SPAN:
        return first.line, last_end
    return first.line, first.end_line


# -- registry ---------------------------------------------------------------------------------


def _arg(call: Call, position: int, keyword: str) -> Optional[str]:
    """A literal string argument given by position or keyword; None when dynamic or absent."""
    value = call.literal_args[position] if position < len(call.literal_args) else call.kwarg(keyword)
    if isinstance(value, bool):
        return None
    return str(value) if isinstance(value, (str, int)) else None


def _registry_calls(pyfile: PyFile) -> Iterator[tuple[Call, Registry]]:
    kind = "notebook" if pyfile.notebook else "module"
    uses_mlflow = pyfile.imports_module("mlflow")
    roots = _import_roots(pyfile) - {"mlflow"}
    for call in pyfile.calls:
        mlflow_call = call.name.startswith("mlflow.")
        if call.name == "mlflow.register_model":
            yield call, Registry(operation="register_model", model_name=_arg(call, 1, "name"), file_kind=kind)
        elif mlflow_call and call.attr == "log_model" and "registered_model_name" in call.keywords:
            name = call.kwarg("registered_model_name")
            yield call, Registry(
                operation="registered_model_name", model_name=name if isinstance(name, str) else None, file_kind=kind
            )
        elif call.attr in REGISTRY_METHODS and uses_mlflow and call.name.split(".")[0] not in roots:
            operation = REGISTRY_METHODS[call.attr]
            selector = None
            if operation == "set_alias":
                selector = _arg(call, 1, "alias")
            elif operation == "transition_stage":
                selector = _arg(call, 2, "stage")
            yield call, Registry(
                operation=operation, model_name=_arg(call, 0, "name"), alias_or_stage=selector, file_kind=kind
            )


def _registry(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    for call, registry in _registry_calls(pyfile):
        downgrades = [NOTEBOOK_ONLY] if pyfile.notebook else []
        yield ctx.evidence(
            "mlflow.registry",
            registry,
            path=pyfile.path,
            lines=(call.line, call.end_line),
            subject=f"{registry.operation}:{registry.model_name or ''}:{registry.alias_or_stage or ''}",
            strength=Strength.mention if downgrades else Strength.configured,
            downgrades=downgrades,
        )


def _is_runbook(path: str) -> bool:
    return "runbook" in path.lower() and path.lower().endswith((".md", ".rst", ".txt", ".adoc"))


def _rollback(ctx: ProbeContext, pyfile: PyFile, wiring: Wiring, runbooks: list[str]) -> Iterator[Evidence]:
    """A registry re-point in a script that is *about* rolling back (by file or function name)."""
    if pyfile.notebook:
        return
    calls = [(c, r) for c, r in _registry_calls(pyfile) if r.operation in ROLLBACK_OPERATIONS]
    if not calls:
        return
    named = _ROLLBACK_NAME.search(posixpath.basename(pyfile.path)) or _ROLLBACK_DEF.search(ctx.facts.text(pyfile.path) or "")
    if not named:
        return
    wired: Optional[Literal["ci", "runbook"]] = None
    if pyfile.path in wiring.ci_runs:
        wired = "ci"
    elif any(_mentions_script(ctx, doc, pyfile.path) for doc in runbooks):
        wired = "runbook"
    for call, registry in calls:
        rollback = Rollback(operation=registry.operation, model_name=registry.model_name, wired=wired)  # type: ignore[arg-type]
        downgrades = [] if wired else [NOT_WIRED]
        yield ctx.evidence(
            "mlflow.rollback",
            rollback,
            path=pyfile.path,
            lines=(call.line, call.end_line),
            subject=f"{registry.operation}:{registry.model_name or ''}",
            strength=Strength.mention if downgrades else Strength.configured,
            downgrades=downgrades,
        )


def _mentions_script(ctx: ProbeContext, doc: str, script: str) -> bool:
    text = ctx.facts.text(doc) or ""
    dotted = script[: -len(".py")].replace("/", ".")
    return script in text or dotted in text or posixpath.basename(script) in text


# -- models:/ URIs ----------------------------------------------------------------------------


def parse_model_uri(uri: str, source: str = "code") -> ModelUri | None:
    """``models:/name@alias``, ``models:/name/<stage|version|latest>``; None if not a models: URI."""
    if not uri.startswith("models:/"):
        return None
    rest = uri[len("models:/") :].lstrip("/")
    name: Optional[str] = None
    selector: Optional[str] = None
    value: Optional[str] = None
    if "@" in rest:
        name, _, value = rest.partition("@")
        selector = "alias"  # even when the alias itself is templated (`@{{ .Values.alias }}`)
    elif "/" in rest:
        name, _, value = rest.partition("/")
        lowered = value.lower()
        if lowered == "latest":
            selector = "latest"
        elif lowered.isdigit():
            selector = "version"
        elif lowered in STAGES:
            selector = "stage"
        else:
            value = None
    else:
        name = rest
    return ModelUri(
        uri=uri, model_name=name or None, selector=selector, selector_value=value or None, source=source  # type: ignore[arg-type]
    )


def _model_uris_in_code(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    for value, line in pyfile.strings:
        parsed = parse_model_uri(value)
        if parsed is None:
            continue
        downgrades = [NOTEBOOK_ONLY] if pyfile.notebook else []
        yield ctx.evidence(
            "mlflow.model_uri",
            parsed,
            path=pyfile.path,
            lines=(line, line),
            subject=value,
            strength=Strength.mention if downgrades else Strength.configured,
            downgrades=downgrades,
        )


# -- tracking URIs ----------------------------------------------------------------------------


def classify_uri(value: str, source: str, *, ci_system: str = "") -> TrackingUri | None:
    """Scheme, host and whether the store is shared; None for an empty value."""
    value = value.strip()
    if not value:
        return None
    lowered = value.lower()
    reference: Optional[str] = None
    host: Optional[str] = None
    if _GH_SECRET.search(value):
        scheme, reference = "other", "secret"
    elif "${{" in value or value.startswith("$"):
        # a CI variable is set in the platform's settings, like a secret; elsewhere it is just env
        ci_var = source == "ci_env" and bool(_CI_VARIABLE.match(value)) and ci_system != "github_actions"
        scheme, reference = "other", "ci_variable" if ci_var else "env"
    elif lowered.startswith("databricks"):
        scheme = "databricks"
    elif lowered.startswith(("http://", "https://")):
        scheme = lowered.split(":", 1)[0]
    elif lowered.startswith("file:"):
        scheme = "file"
    elif lowered.startswith("sqlite:"):
        scheme = "sqlite"
    elif re.match(r"postgres(?:ql)?[+:]", lowered):
        scheme = "postgresql"
    elif re.match(r"mysql[+:]", lowered):
        scheme = "mysql"
    elif lowered.startswith("azureml:"):
        scheme = "azureml"
    elif ":" not in value or re.match(r"^[A-Za-z]:[\\/]", value):
        scheme = "file"  # a bare path is a local file store
    else:
        scheme = "other"
    # databricks://<profile> names a CLI profile, not a host
    if scheme not in ("file", "sqlite", "databricks") and reference is None and "://" in value:
        host = _host(value)
    loopback = (host or "").split(":")[0].strip("[]") in LOOPBACK_HOSTS
    if reference is not None:
        shared = reference in ("secret", "ci_variable")
    elif scheme in ("file", "sqlite"):
        shared = False
    elif scheme == "other":
        shared = bool(host) and not loopback
    else:
        shared = not loopback
    return TrackingUri(
        scheme=scheme, shared=shared, source=source, host=host, loopback=loopback, reference=reference  # type: ignore[arg-type]
    )


def _host(value: str) -> Optional[str]:
    """hostname[:port], credentials never kept."""
    try:
        parts = urlsplit(value)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not hostname:
        return None
    return f"{hostname}:{port}" if port else hostname


def _uri_strength(uri: TrackingUri, notebook: bool = False) -> tuple[Strength, list[str]]:
    downgrades: list[str] = []
    if uri.scheme in ("file", "sqlite"):
        downgrades.append(LOCAL_STORE)
    elif uri.loopback:
        downgrades.append(LOOPBACK)
    elif not uri.shared:
        downgrades.append(HIDDEN_DESTINATION)
    if notebook:
        downgrades.append(NOTEBOOK_ONLY)
    return (Strength.mention if downgrades else Strength.configured), downgrades


def _emit_uri(
    ctx: ProbeContext, uri: TrackingUri, path: str, lines: tuple[int, int], subject: str, notebook: bool = False
) -> Evidence:
    strength, downgrades = _uri_strength(uri, notebook)
    return ctx.evidence(
        "mlflow.tracking_uri", uri, path=path, lines=lines, subject=subject, strength=strength, downgrades=downgrades
    )


def _tracking_uris_in_code(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    dynamic = False
    for call in pyfile.calls:
        if call.name == "mlflow.set_tracking_uri":
            value = _arg(call, 0, "uri")
        elif call.attr == "MlflowClient" and call.name.startswith("mlflow."):
            value = _arg(call, 0, "tracking_uri")
        elif call.attr in INTEGRATION_CLASSES and "tracking_uri" in call.keywords:
            value = _arg(call, len(call.literal_args), "tracking_uri")  # keyword only
        elif call.attr == "setdefault" and call.name.endswith("environ.setdefault") and _arg(call, 0, "key") == ENV_KEY:
            value = _arg(call, 1, "value")
        else:
            continue
        dynamic = dynamic or (value is None and call.name == "mlflow.set_tracking_uri")
        uri = classify_uri(value, "code") if value else None
        if uri is not None:
            yield _emit_uri(ctx, uri, pyfile.path, (call.line, call.end_line), value or "", pyfile.notebook)
    if pyfile.notebook:
        return  # notebook text is JSON-escaped; its calls above are what it sets
    text = ctx.facts.text(pyfile.path) or ""
    if dynamic or ENV_KEY in text:
        yield from _assigned_uris(ctx, pyfile.path)


def _assigned_uris(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    """``MLFLOW_TRACKING_URI = "file://" + ...`` / ``os.environ["MLFLOW_TRACKING_URI"] = "..."``:
    the value a dynamic ``set_tracking_uri(NAME)`` (or MLflow itself, from the env) will use."""
    for number, line in enumerate(ctx.facts.lines(path) or [], start=1):
        match = _URI_ASSIGNMENT.match(line)
        if match:
            uri = classify_uri(match.group("value"), "code")
            if uri is not None:
                yield _emit_uri(ctx, uri, path, (number, number), match.group("value"))


def _tracking_uris_in_ci(ctx: ProbeContext, ci: CIModel) -> Iterator[Evidence]:
    """``MLFLOW_TRACKING_URI`` in pipeline, job or step env, cited where it is written.

    Parsers merge pipeline env into every job's env, so a job whose own lines do not set the
    variable inherited it and is not reported again; one line is reported once, and a value set
    only in disabled jobs is downgraded.
    """
    hits: dict[tuple[str, int, str], tuple[str, Optional[str], str]] = {}

    def add(path: str, line: Optional[int], value: Any, where: str, disabled: Optional[str], system: str) -> None:
        if line is None:
            return
        key = (path, line, str(value))
        if key not in hits or (hits[key][1] and not disabled):
            hits[key] = (where, disabled, system)

    for pipeline in ci.pipelines:
        system = pipeline.system
        top = pipeline.env.get(ENV_KEY) if isinstance(pipeline.env, dict) else None
        if top is not None:
            own_jobs = [(j.start_line, j.end_line) for j in pipeline.jobs if j.path == pipeline.path]
            line = _key_line(ctx, pipeline.path, pipeline.start_line, pipeline.end_line, own_jobs)
            add(pipeline.path, line, top, "", None, system)
        for job in pipeline.jobs:
            value = job.env.get(ENV_KEY) if isinstance(job.env, dict) else None
            if value is not None:
                steps = [(s.start_line, s.end_line) for s in job.steps if s.where(job) == job.path]
                line = _key_line(ctx, job.path, job.start_line, job.end_line, steps)
                if line is None and not (top is not None and str(top) == str(value)):
                    line = _key_line(ctx, job.path, 1, len(ctx.facts.lines(job.path) or []), [])  # a template's
                add(job.path, line, value, job.id, job.disabled, system)
            for step in job.steps:
                value = step.env.get(ENV_KEY) if isinstance(step.env, dict) else None
                if value is not None:
                    path = step.where(job)
                    line = _key_line(ctx, path, step.start_line, step.end_line, [])
                    add(path, line, value, f"{job.id}/{step.name}", job.disabled or step.disabled, system)
    for (path, line, value), (where, disabled, system) in sorted(hits.items()):
        uri = classify_uri(value, "ci_env", ci_system=system)
        if uri is None:
            continue
        strength, downgrades = _uri_strength(uri)
        if disabled:
            strength, downgrades = Strength.mention, downgrades + [f"job disabled: {disabled}"]
        yield ctx.evidence(
            "mlflow.tracking_uri",
            uri,
            path=path,
            lines=(line, line),
            subject=f"ci:{where}",
            strength=strength,
            downgrades=downgrades,
        )
    for path, reason in sorted(ci.unreadable.items()):
        if ENV_KEY in (ctx.facts.text(path) or ""):
            yield ctx.unknown("mlflow.tracking_uri", f"CI file not readable: {reason}", path=path)


_ENV_KEY_LINE = lazy(r"""^\s*(?:-\s*)?["']?MLFLOW_TRACKING_URI["']?\s*[:=]""")


def _key_line(
    ctx: ProbeContext, path: str, start: int, end: int, skip: list[tuple[int, int]]
) -> Optional[int]:
    """First line in ``start..end`` (outside ``skip`` spans) that sets MLFLOW_TRACKING_URI."""
    lines = ctx.facts.lines(path) or []
    for number in range(max(start, 1), min(end, len(lines)) + 1):
        if any(a <= number <= b for a, b in skip):
            continue
        if _ENV_KEY_LINE.match(lines[number - 1]):
            return number
    return None


def _env_file(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    lines = ctx.facts.lines(path)
    if lines is None:
        yield ctx.unknown("mlflow.tracking_uri", ctx.facts.problems.get(path, "unreadable"), path=path)
        return
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, _, value = line.partition("=")
        if key.strip() != ENV_KEY:
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            value = value[1:].split(value[0], 1)[0]
        else:
            value = value.split(" #", 1)[0].strip()
        uri = classify_uri(value, "env_file")
        if uri is not None:
            yield _emit_uri(ctx, uri, path, (number, number), f"env:{number}")


# -- YAML / JSON config -----------------------------------------------------------------------


def _config_file(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    """Tracking URIs and ``models:/`` references in config, serving manifests and values files."""
    text = ctx.facts.text(path)
    if text is None:
        return
    wants_uri = ENV_KEY in text or "tracking_uri" in text.lower()
    wants_model = "models:/" in text
    if not (wants_uri or wants_model):
        return  # most config files never mention MLflow: do not parse them for us
    if path.endswith(".json"):
        yield from _json_file(ctx, path, text)
        return
    if _TEMPLATED.search(text):
        # Helm/Jinja templates are not YAML until rendered (their values files are parsed on
        # their own), but their lines still say which registry model they load.
        if wants_model:
            yield from _model_uris_in_lines(ctx, path)
        return
    docs = ctx.facts.yaml(path)
    if docs is None:
        if wants_model:
            yield from _model_uris_in_lines(ctx, path)
        if wants_uri:
            reason = ctx.facts.problems.get(path, "unreadable")
            yield ctx.unknown("mlflow.tracking_uri", reason, path=path)
        return
    for key, value, span in _walk_yaml(docs):
        if key is not None and isinstance(value, str) and (key.lower() in URI_KEYS or key == ENV_KEY):
            uri = classify_uri(value, "config")
            if uri is not None:
                yield _emit_uri(ctx, uri, path, span, f"config:{key}")
        elif isinstance(value, str) and value.startswith("models:/"):
            parsed = parse_model_uri(value, "config")
            if parsed is not None:
                yield ctx.evidence("mlflow.model_uri", parsed, path=path, lines=span, subject=value)


def _walk_yaml(docs: list[Any]) -> Iterator[tuple[Optional[str], Any, tuple[int, int]]]:
    """(key, scalar value, lines) for every scalar; k8s ``{name: X, value: Y}`` env entries and
    compose ``KEY=value`` list items are reported under the variable's name."""
    stack: list[Any] = list(reversed(docs))
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            name, value = node.get("name"), node.get("value")
            if name == ENV_KEY and isinstance(value, str):
                yield ENV_KEY, value, node.span
            for key, child in node.items():
                if isinstance(child, (YMap, YList)):
                    stack.append(child)
                elif isinstance(key, str) and not (key == "value" and name == ENV_KEY):
                    yield key, child, node.key_span(key)
        elif isinstance(node, YList):
            for i, child in enumerate(node):
                if isinstance(child, (YMap, YList)):
                    stack.append(child)
                elif isinstance(child, str) and child.startswith(ENV_KEY + "="):
                    yield ENV_KEY, child[len(ENV_KEY) + 1 :], node.item_span(i)
                else:
                    yield None, child, node.item_span(i)


def _json_file(ctx: ProbeContext, path: str, text: str) -> Iterator[Evidence]:
    data = ctx.facts.json(path)
    if data is None:
        yield from _model_uris_in_lines(ctx, path)
        return
    stack: list[Any] = [data]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.startswith("models:/") and node not in seen:
            seen.add(node)
            parsed = parse_model_uri(node, "config")
            line = ctx.facts.find_line(path, node)
            if parsed is not None and line is not None:
                yield ctx.evidence("mlflow.model_uri", parsed, path=path, lines=(line, line), subject=node)


def _model_uris_in_lines(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    for number, line in enumerate(ctx.facts.lines(path) or [], start=1):
        if line.lstrip().startswith("#"):
            continue
        for match in _MODEL_URI_IN_LINE.finditer(line):
            parsed = parse_model_uri(match.group(0), "config")
            if parsed is not None:
                yield ctx.evidence("mlflow.model_uri", parsed, path=path, lines=(number, number), subject=parsed.uri)


# -- MLflow's own files -----------------------------------------------------------------------


def _project(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    docs = ctx.facts.yaml(path)
    if docs is None:
        yield ctx.unknown("mlflow.project", ctx.facts.problems.get(path, "unreadable"), path=path)
        return
    doc = docs[0] if docs else None
    if not isinstance(doc, YMap):
        yield ctx.unknown("mlflow.project", "MLproject is not a YAML mapping", path=path)
        return
    entries = doc.get("entry_points")
    if "conda_env" in doc:
        env = "conda"
    elif "python_env" in doc:
        env = "python_env"
    elif "docker_env" in doc:
        env = "docker"
    else:
        env = "none"
    name = doc.get("name")
    project = Project(
        entry_points=sorted(str(k) for k in entries) if isinstance(entries, dict) else [],
        env=env,  # type: ignore[arg-type]
        name=str(name) if name is not None else None,
    )
    yield ctx.evidence("mlflow.project", project, path=path, lines=doc.span)


def _model_files(ctx: ProbeContext) -> Iterator[Evidence]:
    paths = [p for p in ctx.paths if posixpath.basename(p) == "MLmodel"]
    for path in paths[:MAX_MODEL_FILES]:
        docs = ctx.facts.yaml(path)
        if docs is None:
            yield ctx.unknown("mlflow.model_file", ctx.facts.problems.get(path, "unreadable"), path=path)
            continue
        doc = docs[0] if docs else None
        if not isinstance(doc, YMap) or not isinstance(doc.get("flavors"), dict):
            yield ctx.unknown("mlflow.model_file", "MLmodel without a flavors mapping", path=path)
            continue
        model = ModelFile(
            flavors=sorted(str(k) for k in doc["flavors"]),
            signature=bool(doc.get("signature")),
            input_example=bool(doc.get("saved_input_example_info")),
            path=posixpath.dirname(path),
            in_local_store=_in_mlruns(path),
        )
        # a model inside a committed mlruns/ is a run's leftover, not a curated artifact
        downgrades = [COMMITTED_STORE] if model.in_local_store else []
        yield ctx.evidence(
            "mlflow.model_file",
            model,
            path=path,
            lines=doc.span,
            strength=Strength.mention if downgrades else Strength.configured,
            downgrades=downgrades,
        )


def _local_stores(ctx: ProbeContext) -> Iterator[Evidence]:
    """One item per committed ``mlruns/``: experiments are ``<id>/meta.yaml``, runs
    ``<id>/<run>/meta.yaml`` (``models/`` holds the file registry, ``.trash`` deleted ones)."""
    stores: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"experiments": [], "runs": [], "files": []})
    for path in ctx.paths:
        parts = path.split("/")
        if "mlruns" not in parts[:-1]:
            continue
        at = parts.index("mlruns")
        root = "/".join(parts[: at + 1])
        rest = parts[at + 1 :]
        store = stores[root]
        store["files"].append(path)
        if rest[-1] != "meta.yaml" or rest[0] in ("models", ".trash"):
            continue
        if len(rest) == 2:
            store["experiments"].append(path)
        elif len(rest) == 3:
            store["runs"].append(path)
    for root in sorted(stores):
        store = stores[root]
        if not (store["experiments"] or store["runs"]):
            continue  # a placeholder (.gitkeep) is not a store
        cited = (store["experiments"] or store["runs"])[0]
        yield ctx.evidence(
            "mlflow.local_store",
            LocalStore(runs=len(store["runs"]), experiments=len(store["experiments"]), path=root),
            path=cited,
            subject=root,
            strength=Strength.mention,
            downgrades=[COMMITTED_STORE],
        )


PROBE = Probe(
    id="mlflow",
    title="MLflow in code and config: tracking calls, tracking URIs, registry use, MLproject/MLmodel files",
    patterns=PATTERNS,
    kinds=(
        Kind("mlflow.tracking", Tracking, "A file that logs to MLflow (params, metrics, models, autolog, runs)"),
        Kind("mlflow.tracking_uri", TrackingUri, "Where MLflow runs go: a tracking URI in code, CI env, .env example or config"),
        Kind("mlflow.registry", Registry, "Code that writes to the MLflow Model Registry (register, alias, stage)"),
        Kind("mlflow.model_uri", ModelUri, "A models:/ registry reference in code or serving config"),
        Kind("mlflow.project", Project, "An MLproject file with its entry points and environment"),
        Kind("mlflow.model_file", ModelFile, "A committed MLmodel file (flavors, signature, input example)"),
        Kind("mlflow.local_store", LocalStore, "A committed mlruns/ local tracking store"),
        Kind("mlflow.rollback", Rollback, "A script that re-points a registry alias or stage to roll back"),
    ),
    collect=collect,
    # "MLflow"/"MLFlow" catch framework loggers imported without the word "mlflow" in lower case
    python_tokens=("mlflow", "MLflow", "MLFlow", "models:/", "__main__", *PIPELINE_TOKENS),
    weight=3,  # one evidence item per tracking file
)
