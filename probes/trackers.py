"""Experiment trackers other than MLflow, hyperparameter searches, seeds, and committed run output.

MLflow has its own probe (probes/mlflow.py); this one covers the rest of RUBRIC.md §5.2 with the
same rule for what counts, taken from probes/_reach.py: code is *configured* only where something
runs it (a ``__main__`` guard, an MLproject entry point, a ``dvc.yaml`` stage, a CI step, or a
module such an entrypoint imports). Calls that live only in notebooks or unreached modules are a
*mention*; so is tracking switched to offline mode (ET-d).

* ``tracker.calls`` (ET-c/ET-d/ET-e): W&B, ClearML, Neptune, Comet, Aim, DVCLive, TensorBoard,
  Vertex AI Experiments, SageMaker Experiments, Azure ML run logging. One item per tool per file;
  an ``import`` alone, or a tool named in requirements or a README, is not a call;
* ``tracker.hpo`` (ET-k): Optuna, Ray Tune, Hyperopt, Keras Tuner, scikit-learn searches, W&B sweeps
  (code and ``sweep.yaml``) and Katib ``Experiment`` manifests, and whether the search logs to a
  tracker (callbacks, nested runs, tracker calls beside it);
* ``tracker.seeds`` (ET-n): seeds and determinism flags in code that is run;
* ``tracker.local_results`` (ET-a/ET-d, negative): TensorBoard event files, ``wandb/`` run
  directories and results spreadsheets committed to git.

Model signatures are not a kind here: ``mlflow.tracking`` already carries ``signature`` and
``input_example``. Nothing is imported or run: Python comes from the shared ``ast`` index.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator, Literal, Optional

from scanner.facts.python import Call, PyFile, PythonIndex, imports_of
from scanner.facts.yamldoc import YMap
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from ._reach import PIPELINE_TOKENS, Wiring, reach

# -- attribute models -------------------------------------------------------------------------

ToolName = Literal[
    "wandb", "clearml", "neptune", "comet", "aim", "dvclive", "tensorboard", "vertex", "sagemaker", "azureml"
]
HpoTool = Literal["optuna", "ray_tune", "hyperopt", "keras_tuner", "katib", "wandb_sweep", "sklearn_search"]


class TrackerCalls(Attributes):
    tool: ToolName
    file_kind: Literal["module", "notebook"]
    logs_params: bool
    logs_metrics: bool
    logs_artifacts: bool
    entrypoint: bool  # the file itself is run: main guard, MLproject, dvc stage, CI step
    offline: bool  # explicitly switched to offline/local mode (W&B mode="offline", Comet online=False...)
    shared: bool  # the tool records to a server others can see (hosted or self-hosted), not local files
    autolog: bool = False  # the run object captures params/metrics itself (ClearML Task.init, Comet, Vertex autolog)
    reached_via: list[str] = []  # sorted: "ci", "dvc", "import", "main_guard", "mlproject"
    calls: int = 0


class Hpo(Attributes):
    tool: HpoTool
    tracked: bool
    tracked_by: list[str] = []  # sorted: "callback", "nested_runs", "tracker_calls", "autolog", "tool"
    file_kind: Literal["module", "notebook", "config"] = "module"
    entrypoint: bool = False
    reached_via: list[str] = []


class Seeds(Attributes):
    calls: list[str]  # sorted, normalised names ("np.random.seed", "random_state", "set_seed"...)
    deterministic: bool
    entrypoint: bool
    reached_via: list[str] = []


class LocalResults(Attributes):
    kind: Literal["tensorboard_runs", "wandb_dir", "results_csv"]
    paths: int
    root: str = ""


# -- tracker vocabulary -------------------------------------------------------------------------

Cat = Literal["run", "params", "metrics", "artifacts", "autolog", "offline"]


@dataclass(frozen=True)
class Tool:
    """How one tracker shows in resolved call names.

    ``module``: calls under the tool's import roots (suffix of the name after the root, so chained
    calls like ``wandb.init().log`` match ``log``). ``receiver``: methods called on an object the
    file built (``run.log_metric``); trusted only once the file starts a run of this tool, unless
    ``receiver_free`` (method names distinctive enough on their own). ``hinted``: receiver methods
    too common to trust (``log``, ``track``) unless the receiver's name matches ``hint``.
    """

    name: str
    roots: tuple[str, ...]
    module: dict[str, tuple[Cat, ...]]
    receiver: dict[str, tuple[Cat, ...]] = field(default_factory=dict)
    hinted: frozenset[str] = frozenset()
    hint: str = r"run"
    receiver_free: bool = False
    integrations: frozenset[str] = frozenset()
    report_to: Optional[str] = None
    shared: bool = False
    subscripts: bool = False  # neptune/aim log through run["key"] = ... / .append(...)


TOOLS: tuple[Tool, ...] = (
    Tool(
        "wandb", ("wandb",),
        module={
            "init": ("run",), "log": ("metrics",), "config.update": ("params",), "config.setdefaults": ("params",),
            "log_artifact": ("artifacts",), "Artifact": ("artifacts",), "save": ("artifacts",),
            "log_model": ("artifacts",), "summary.update": ("metrics",),
        },
        receiver={"log": ("metrics",), "log_artifact": ("artifacts",), "log_model": ("artifacts",),
                  "config.update": ("params",)},
        hinted=frozenset({"log"}), hint=r"run|wandb|wb",
        integrations=frozenset({"WandbLogger", "WandbCallback", "WandbMetricsLogger", "WandbModelCheckpoint",
                                "WandbEvalCallback"}),
        report_to="wandb", shared=True,
    ),
    Tool(
        "clearml", ("clearml",),
        module={"Task.init": ("run", "autolog"), "Task.current_task": ("run",), "OutputModel": ("artifacts",)},
        receiver={
            "connect": ("params",), "connect_configuration": ("params",), "set_parameters": ("params",),
            "set_parameters_as_dict": ("params",), "set_parameter": ("params",),
            "report_scalar": ("metrics",), "report_single_value": ("metrics",), "report_histogram": ("metrics",),
            "report_confusion_matrix": ("metrics",), "report_table": ("metrics",), "report_scatter2d": ("metrics",),
            "upload_artifact": ("artifacts",), "register_artifact": ("artifacts",),
            "update_output_model": ("artifacts",),
        },
        hinted=frozenset({"connect", "set_parameters", "set_parameter"}), hint=r"task",
        receiver_free=True, shared=True,
    ),
    Tool(
        "neptune", ("neptune",),
        module={"init_run": ("run",), "init": ("run",)},
        integrations=frozenset({"NeptuneLogger", "NeptuneCallback"}),
        report_to="neptune", shared=True, subscripts=True,
    ),
    Tool(
        "comet", ("comet_ml",),
        module={"Experiment": ("run", "autolog"), "start": ("run", "autolog"), "ExistingExperiment": ("run",),
                "OfflineExperiment": ("run", "autolog", "offline")},
        receiver={
            "log_parameter": ("params",), "log_parameters": ("params",), "log_metric": ("metrics",),
            "log_metrics": ("metrics",), "log_confusion_matrix": ("metrics",), "log_curve": ("metrics",),
            "log_model": ("artifacts",), "log_asset": ("artifacts",), "log_asset_folder": ("artifacts",),
            "log_artifact": ("artifacts",),
        },
        integrations=frozenset({"CometLogger", "CometCallback"}), report_to="comet_ml", shared=True,
    ),
    Tool(
        "aim", ("aim",),
        module={"Run": ("run",)},
        receiver={"track": ("metrics",), "log_artifact": ("artifacts",)},
        hinted=frozenset({"track"}), hint=r"run|aim",
        integrations=frozenset({"AimLogger", "AimCallback"}), subscripts=True,
    ),
    Tool(
        "dvclive", ("dvclive",),
        module={"Live": ("run",)},
        receiver={
            "log_metric": ("metrics",), "log_param": ("params",), "log_params": ("params",),
            "log_artifact": ("artifacts",), "log_image": ("metrics",), "log_plot": ("metrics",),
            "log_sklearn_plot": ("metrics",),
        },
        integrations=frozenset({"DVCLiveLogger", "DVCLiveCallback", "DvcLiveCallback"}), report_to="dvclive",
    ),
    Tool(
        "tensorboard", ("torch.utils.tensorboard", "tensorboardX", "tensorflow.summary", "tensorboard.plugins.hparams"),
        module={"SummaryWriter": ("run",), "create_file_writer": ("run",), "scalar": ("metrics",),
                "histogram": ("metrics",), "hparams": ("params",)},
        receiver={"add_scalar": ("metrics",), "add_scalars": ("metrics",), "add_histogram": ("metrics",),
                  "add_pr_curve": ("metrics",), "add_hparams": ("params",)},
        integrations=frozenset({"TensorBoardLogger", "TensorBoard"}), report_to="tensorboard",
    ),
    Tool(
        "vertex", ("google.cloud.aiplatform",),
        module={"init": ("run",), "start_run": ("run",), "log_params": ("params",), "log_metrics": ("metrics",),
                "log_time_series_metrics": ("metrics",), "log_classification_metrics": ("metrics",),
                "log_model": ("artifacts",), "autolog": ("run", "autolog"), "start_execution": ("run",)},
        shared=True,
    ),
    Tool(
        "sagemaker", ("sagemaker.experiments",),
        module={"Run": ("run",), "load_run": ("run",)},
        receiver={
            "log_parameter": ("params",), "log_parameters": ("params",), "log_metric": ("metrics",),
            "log_precision_recall": ("metrics",), "log_roc_curve": ("metrics",),
            "log_confusion_matrix": ("metrics",), "log_artifact": ("artifacts",), "log_file": ("artifacts",),
        },
        shared=True,
    ),
    Tool(
        "azureml", ("azureml",),
        module={"Run.get_context": ("run",), "start_logging": ("run",), "get_mlflow_tracking_uri": ("run",)},
        receiver={"log": ("metrics",), "log_list": ("metrics",), "log_row": ("metrics",), "log_table": ("metrics",),
                  "log_image": ("metrics",), "log_confusion_matrix": ("metrics",), "upload_file": ("artifacts",),
                  "upload_folder": ("artifacts",), "get_mlflow_tracking_uri": ("run",)},
        hinted=frozenset({"log"}), hint=r"run",
        shared=True,
    ),
)
TOOL_BY_NAME = {t.name: t for t in TOOLS}

# MLflow calls count for Azure ML when the file points MLflow at the workspace
# (``mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())``): the runs land in Azure ML.
MLFLOW_CATS: dict[str, tuple[Cat, ...]] = {
    "log_param": ("params",), "log_params": ("params",), "log_metric": ("metrics",), "log_metrics": ("metrics",),
    "log_artifact": ("artifacts",), "log_artifacts": ("artifacts",), "log_model": ("artifacts",),
    "autolog": ("autolog",),
}
OFFLINE_MODES = frozenset({"offline", "disabled", "dryrun", "debug"})

NOTEBOOK_ONLY = "notebook only: not reached from an entrypoint or pipeline"
NOT_REACHED = "not reached from an entrypoint, CI or a pipeline"
OFFLINE = "local-only tracking (offline mode)"
COMMITTED_RESULTS = "run output committed to git instead of a tracker"
SWEEP_NO_PROGRAM = "sweep program not found in the repository"

MAX_CITED_SPAN = 40
MAX_HINT_LINES = 5000

_WANDB_MODE_ENV = lazy(r"""WANDB_MODE\\?["']?\s*\]?\s*[=:,]\s*\\?["']?(offline|disabled|dryrun)\b""")
# run["params/lr"] = 0.1, run["train/loss"].append(x), run["model"].upload("m.pkl"); quotes may be
# JSON-escaped in a notebook's raw lines
_SUBSCRIPT = lazy(
    r"""\b(?P<recv>\w+)\[\s*\\?["'][^"'\\]+\\?["']\s*\]\s*(?:(?P<assign>=(?!=))|\.(?P<method>append|extend|log|upload|upload_files|track_files|assign)\s*\()"""
)
_SUBSCRIPT_CATS: dict[str, Cat] = {
    "assign": "params", "append": "metrics", "extend": "metrics", "log": "metrics",
    "upload": "artifacts", "upload_files": "artifacts", "track_files": "artifacts",
}


# -- entry point --------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    wiring = Wiring.build(ctx, index, ctx.facts.ci)
    for path in sorted(index.files):
        pyfile = index.files[path]
        if pyfile.error:
            if _RELEVANT.search(ctx.facts.text(path) or ""):
                yield ctx.unknown("tracker.calls", pyfile.error, path=path)
            continue
        yield from _tracker_calls(ctx, index, pyfile, wiring)
        yield from _hpo_in_code(ctx, index, pyfile, wiring)
        yield from _seeds(ctx, index, pyfile, wiring)
    yield from _hpo_configs(ctx, index)
    yield from _local_results(ctx)


_RELEVANT = lazy(
    r"^\s*(?:import|from)\s+(?:wandb|clearml|neptune|comet_ml|aim|dvclive|tensorboardX|torch\.utils\.tensorboard"
    r"|google\.cloud|sagemaker|azureml|optuna|hyperopt|ray|keras_tuner)\b|SummaryWriter|SearchCV|manual_seed",
    re.MULTILINE,
)


# -- tracker calls ------------------------------------------------------------------------------


@dataclass
class Found:
    """What one file does with one tool, before it is weighed."""

    cats: set[str] = field(default_factory=set)
    spans: list[tuple[int, int]] = field(default_factory=list)
    offline: bool = False
    shared_override: Optional[bool] = None


def _import_roots(pyfile: PyFile) -> set[str]:
    return {imp.module.split(".")[0] for imp in pyfile.imports}


def _suffix_match(rel: str, table: dict[str, tuple[Cat, ...]]) -> Optional[tuple[str, tuple[Cat, ...]]]:
    for key, cats in table.items():
        if rel == key or rel.endswith("." + key):
            return key, cats
    return None


def _under(name: str, roots: tuple[str, ...]) -> Optional[str]:
    """The part of ``name`` after one of ``roots`` (``""`` for the root itself), or None."""
    for root in roots:
        if name == root:
            return ""
        if name.startswith(root + "."):
            return name[len(root) + 1 :]
    return None


def _scan_tool(ctx: ProbeContext, pyfile: PyFile, tool: Tool, roots: set[str]) -> Optional[Found]:
    found = Found()
    receivers: list[tuple[Call, tuple[Cat, ...]]] = []
    for call in pyfile.calls:
        rel = _under(call.name, tool.roots)
        if rel is not None:
            match = _suffix_match(rel, tool.module) or _suffix_match(rel, tool.receiver)
            if match:
                _record(found, call, _module_cats(tool, match[0], match[1], call))
            continue
        if call.attr in tool.integrations and call.name.split(".")[0] in roots:
            _record(found, call, ("params", "metrics"))
        elif tool.report_to and call.kwarg("report_to") == tool.report_to:
            _record(found, call, ("params", "metrics"))
        elif tool.receiver and _is_receiver(call, tool, roots):
            match = _suffix_match(call.name, tool.receiver)
            if match:
                receivers.append((call, match[1]))
    if tool.receiver_free or "run" in found.cats:
        for call, cats in receivers:
            _record(found, call, cats)
    if tool.subscripts and "run" in found.cats:
        for line, cat in _subscript_logging(ctx, pyfile.path):
            found.cats.add(cat)
            found.spans.append((line, line))
    if tool.name == "wandb" and found.cats and _WANDB_MODE_ENV.search(ctx.facts.text(pyfile.path) or ""):
        found.offline = True
    if tool.name == "azureml" and any(c.attr == "get_mlflow_tracking_uri" for c in pyfile.calls):
        for call in pyfile.calls:
            if call.name.startswith("mlflow.") and call.attr in MLFLOW_CATS and call.name.count(".") <= 2:
                _record(found, call, MLFLOW_CATS[call.attr])
    found.offline = found.offline or "offline" in found.cats
    if tool.name == "aim":
        found.shared_override = any(
            str(c.kwarg("repo") or "").startswith("aim://") for c in pyfile.calls if _under(c.name, tool.roots) == "Run"
        )
    # a run that logs nothing and builds nothing is not tracking: wandb.login(), Task.current_task()
    if not (found.cats - {"run", "offline"}) and not _starts_logging_run(found, tool):
        return None
    return found


def _starts_logging_run(found: Found, tool: Tool) -> bool:
    """A started run counts on its own for tools that capture by themselves once started
    (W&B system metrics and config, Aim/DVCLive/TensorBoard writers the file then uses elsewhere)."""
    return "run" in found.cats and tool.name in ("wandb", "neptune", "comet", "aim", "vertex", "sagemaker", "azureml")


def _record(found: Found, call: Call, cats: tuple[Cat, ...]) -> None:
    found.cats.update(cats)
    found.spans.append((call.line, call.end_line))


def _module_cats(tool: Tool, key: str, cats: tuple[Cat, ...], call: Call) -> tuple[Cat, ...]:
    """Keyword arguments that change what a run-starting call records."""
    out = list(cats)
    if tool.name == "wandb" and key == "init":
        if "config" in call.keywords:
            out.append("params")
        if str(call.kwarg("mode") or "").lower() in OFFLINE_MODES:
            out.append("offline")
    elif tool.name == "neptune" and str(call.kwarg("mode") or "").lower() in OFFLINE_MODES:
        out.append("offline")
    elif tool.name == "comet" and key == "start" and call.kwarg("online") is False:
        out.append("offline")
    elif tool.name == "clearml" and key == "Task.init" and "output_uri" in call.keywords:
        out.append("artifacts")
    elif tool.name == "clearml" and key.endswith("set_offline"):
        out.append("offline")
    elif tool.name == "vertex" and key == "init" and "experiment" not in call.keywords:
        return ()
    return tuple(out)


def _is_receiver(call: Call, tool: Tool, roots: set[str]) -> bool:
    parts = call.name.split(".")
    if len(parts) < 2 or parts[0] in roots:
        return False  # a module-level function of some other library (mlflow.log_metric...)
    if call.attr in tool.hinted:
        return bool(re.search(tool.hint, parts[-2], re.IGNORECASE))
    return True


def _subscript_logging(ctx: ProbeContext, path: str) -> Iterator[tuple[int, Cat]]:
    for number, line in enumerate((ctx.facts.lines(path) or [])[:MAX_HINT_LINES], start=1):
        code = line.strip().lstrip('"')
        if code.startswith("#"):
            continue
        for match in _SUBSCRIPT.finditer(line):
            if not re.search(r"run|neptune|aim", match.group("recv"), re.IGNORECASE):
                continue
            key = "assign" if match.group("assign") else match.group("method")
            yield number, _SUBSCRIPT_CATS[key]


def _tools_in_file(ctx: ProbeContext, pyfile: PyFile) -> dict[str, Found]:
    roots = _import_roots(pyfile)
    calls: Optional[_CallSummary] = None
    out: dict[str, Found] = {}
    for tool in TOOLS:
        if not any(pyfile.imports_module(r) for r in tool.roots):
            if not (tool.integrations or tool.report_to):
                continue
            calls = calls or _CallSummary.of(pyfile)
            if not calls.integrates(tool, roots):
                continue
        found = _scan_tool(ctx, pyfile, tool, roots)
        if found is not None:
            out[tool.name] = found
    return out


@dataclass(frozen=True)
class _CallSummary:
    """What every tool asks of a file's calls, gathered in one pass instead of one per tool."""

    attr_roots: frozenset[tuple[str, str]]  # (last part, first part) of every call name
    report_to: frozenset[object]  # every literal report_to= value

    @classmethod
    def of(cls, pyfile: PyFile) -> "_CallSummary":
        return cls(frozenset((c.attr, c.name.split(".")[0]) for c in pyfile.calls),
                   frozenset(v for c in pyfile.calls for k, v in c.literal_kwargs if k == "report_to"))

    def integrates(self, tool: Tool, roots: set[str]) -> bool:
        """A framework integration of the tool (Lightning's WandbLogger, HF report_to="wandb")."""
        return any(attr in tool.integrations and root in roots for attr, root in self.attr_roots) or (
            tool.report_to is not None and tool.report_to in self.report_to)


def _file_tools(ctx: ProbeContext, pyfile: PyFile) -> dict[str, Found]:
    return ctx.memo(f"tools:{pyfile.path}", lambda: ctx.facts.per_file(
        "trackers.tools", pyfile.path, lambda: _tools_in_file(ctx, pyfile)))


def _tracker_calls(ctx: ProbeContext, index: PythonIndex, pyfile: PyFile, wiring: Wiring) -> Iterator[Evidence]:
    path = pyfile.path
    tools = _file_tools(ctx, pyfile)
    if not tools:
        return
    entrypoint, via, _imported = reach(index, path, wiring, pyfile.notebook)
    for name in sorted(tools):
        found, tool = tools[name], TOOL_BY_NAME[name]
        shared = tool.shared if found.shared_override is None else found.shared_override
        attrs = TrackerCalls(
            tool=name,  # type: ignore[arg-type]
            file_kind="notebook" if pyfile.notebook else "module",
            logs_params="params" in found.cats,
            logs_metrics="metrics" in found.cats,
            logs_artifacts="artifacts" in found.cats,
            entrypoint=entrypoint,
            offline=found.offline,
            shared=shared and not found.offline,
            autolog="autolog" in found.cats,
            reached_via=via,
            calls=len(set(found.spans)),
        )
        downgrades = _reach_downgrades(pyfile, entrypoint, via)
        if found.offline:
            downgrades.append(OFFLINE)
        yield ctx.evidence(
            "tracker.calls", attrs, path=path, lines=_span(found.spans), subject=name,
            strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
        )


def _reach_downgrades(pyfile: PyFile, entrypoint: bool, via: list[str]) -> list[str]:
    if pyfile.notebook and not entrypoint:
        return [NOTEBOOK_ONLY]
    if not pyfile.notebook and not via:
        return [NOT_REACHED]
    return []


def _span(spans: list[tuple[int, int]]) -> tuple[int, int]:
    first = min(spans)
    last_end = max(end for _start, end in spans)
    if last_end - first[0] + 1 <= MAX_CITED_SPAN:
        return first[0], last_end
    return first


# -- hyperparameter search ----------------------------------------------------------------------

# (tool, resolved-name prefix, attrs that start a search)
HPO_CALLS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("optuna", "optuna", frozenset({"create_study", "load_study"})),
    ("ray_tune", "ray.tune", frozenset({"Tuner", "run", "run_experiments"})),
    ("hyperopt", "hyperopt", frozenset({"fmin"})),
    ("keras_tuner", "keras_tuner", frozenset({"RandomSearch", "Hyperband", "BayesianOptimization", "GridSearch"})),
    ("sklearn_search", "sklearn.model_selection", frozenset({
        "GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV"})),
    ("sklearn_search", "skopt", frozenset({"BayesSearchCV"})),
    ("wandb_sweep", "wandb", frozenset({"sweep"})),
)
# callbacks and setup helpers that send trials to a tracker
HPO_CALLBACKS = frozenset({
    "MLflowCallback", "WeightsAndBiasesCallback", "NeptuneCallback", "CometCallback",
    "MLflowLoggerCallback", "WandbLoggerCallback", "CometLoggerCallback", "AimLoggerCallback",
    "setup_mlflow", "setup_wandb", "TensorBoardLoggerCallback",
})


def _hpo_in_code(
    ctx: ProbeContext, index: PythonIndex, pyfile: PyFile, wiring: Wiring
) -> Iterator[Evidence]:
    searches, tracked_by = ctx.facts.per_file("trackers.hpo", pyfile.path, lambda: _hpo_searches(ctx, pyfile))
    if not searches:
        return
    entrypoint, via, _imported = reach(index, pyfile.path, wiring, pyfile.notebook)
    for tool in sorted(searches):
        by = sorted(tracked_by | ({"tool"} if tool == "wandb_sweep" else set()))
        if tool == "sklearn_search":
            by = [b for b in by if b != "callback"]  # search CV objects take no tracker callbacks
        attrs = Hpo(
            tool=tool,  # type: ignore[arg-type]
            tracked=bool(by),
            tracked_by=by,
            file_kind="notebook" if pyfile.notebook else "module",
            entrypoint=entrypoint,
            reached_via=via,
        )
        downgrades = _reach_downgrades(pyfile, entrypoint, via)
        yield ctx.evidence(
            "tracker.hpo", attrs, path=pyfile.path, lines=_span(searches[tool]),
            subject=tool, strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
        )


def _hpo_searches(ctx: ProbeContext, pyfile: PyFile) -> tuple[dict[str, list[tuple[int, int]]], set[str]]:
    """The spans of each tool's search calls in one file, and how the file tracks them."""
    searches: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for call in pyfile.calls:
        for tool, prefix, attrs in HPO_CALLS:
            if call.name.startswith(prefix + ".") and call.attr in attrs:
                searches[tool].append((call.line, call.end_line))
    return dict(searches), _hpo_tracking(ctx, pyfile) if searches else set()


def _hpo_tracking(ctx: ProbeContext, pyfile: PyFile) -> set[str]:
    """How a search in this file reaches a tracker: a callback, nested MLflow runs, MLflow autolog
    (which logs search estimators as child runs), or tracker calls beside it (per-trial runs)."""
    out: set[str] = set()
    roots = _import_roots(pyfile)
    for call in pyfile.calls:
        if call.attr in HPO_CALLBACKS and call.name.split(".")[0] in roots:
            out.add("callback")
        elif call.name == "mlflow.start_run" and call.kwarg("nested") is True:
            out.add("nested_runs")
        elif call.name.startswith("mlflow.") and call.attr == "autolog":
            out.add("autolog")
        elif call.name in ("mlflow.log_metric", "mlflow.log_metrics"):
            out.add("tracker_calls")
    tools = _file_tools(ctx, pyfile)
    if any(f.cats & {"metrics", "params"} for f in tools.values()):
        out.add("tracker_calls")
    return out


def _hpo_configs(ctx: ProbeContext, index: PythonIndex) -> Iterator[Evidence]:
    known = set(index.modules) | set(index.notebooks) | set(ctx.paths)
    for path in ctx.paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        name = posixpath.basename(path).lower()
        text = ctx.facts.text(path) or ""
        if "sweep" in name:
            yield from _sweep_file(ctx, path, known)
        elif "kubeflow.org" in text and "Experiment" in text:
            yield from _katib_file(ctx, path)


def _first_map(ctx: ProbeContext, path: str, kind: str) -> tuple[Optional[YMap], Optional[Evidence]]:
    docs = ctx.facts.yaml(path)
    if docs is None:
        return None, ctx.unknown(kind, ctx.facts.problems.get(path, "unreadable YAML"), path=path)
    return next((d for d in docs if isinstance(d, YMap)), None), None


def _sweep_file(ctx: ProbeContext, path: str, known: set[str]) -> Iterator[Evidence]:
    doc, problem = _first_map(ctx, path, "tracker.hpo")
    if problem:
        yield problem
        return
    if doc is None or doc.get("method") not in ("grid", "random", "bayes") or not isinstance(doc.get("parameters"), dict):
        return  # not a W&B sweep configuration
    program = doc.get("program")
    here = posixpath.dirname(path)
    found = isinstance(program, str) and any(
        posixpath.normpath(posixpath.join(base, program)).lstrip("/") in known for base in (here, "")
    )
    downgrades = [] if found else [SWEEP_NO_PROGRAM]
    yield ctx.evidence(
        "tracker.hpo",
        Hpo(tool="wandb_sweep", tracked=True, tracked_by=["tool"], file_kind="config"),
        path=path, lines=doc.span, subject="wandb_sweep",
        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
    )


def _katib_file(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    docs = ctx.facts.yaml(path)
    if docs is None:
        yield ctx.unknown("tracker.hpo", ctx.facts.problems.get(path, "unreadable YAML"), path=path)
        return
    for doc in docs:
        if not isinstance(doc, YMap):
            continue
        api = str(doc.get("apiVersion") or "")
        if doc.get("kind") != "Experiment" or not api.startswith("kubeflow.org/"):
            continue
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        name = doc.get("metadata", {}).get("name") if isinstance(doc.get("metadata"), dict) else None
        # Katib records every trial's objective metric in its own database: the search is tracked
        # when it declares the objective it optimises
        tracked = isinstance(spec.get("objective"), dict)
        yield ctx.evidence(
            "tracker.hpo",
            Hpo(tool="katib", tracked=tracked, tracked_by=["tool"] if tracked else [], file_kind="config"),
            path=path, lines=doc.span, subject=f"katib:{name or ''}",
        )


# -- seeds ---------------------------------------------------------------------------------------

SEED_NAMES = {
    "random.seed": "random.seed",
    "numpy.random.seed": "np.random.seed",
    "torch.manual_seed": "torch.manual_seed",
    "torch.cuda.manual_seed": "torch.manual_seed",
    "torch.cuda.manual_seed_all": "torch.manual_seed",
    "tensorflow.random.set_seed": "tf.random.set_seed",
    "tensorflow.keras.utils.set_random_seed": "tf.random.set_seed",
    "keras.utils.set_random_seed": "tf.random.set_seed",
}
SEED_ATTRS = frozenset({"set_seed", "seed_everything"})  # transformers, accelerate, lightning, own helpers
DETERMINISTIC_CALLS = frozenset({"torch.use_deterministic_algorithms", "tensorflow.config.experimental.enable_op_determinism"})
_DETERMINISTIC_TEXT = lazy(
    r"^[^#\n]*(?:cudnn\.deterministic\s*=\s*True|TF_DETERMINISTIC_OPS\W+\s*[=:,]?\s*\W*(?:1|true|True))",
    re.MULTILINE,
)
_RANDOM_STATE_NONE = lazy(r"random_state\s*=\s*None\b")
_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")


def _seeds(ctx: ProbeContext, index: PythonIndex, pyfile: PyFile, wiring: Wiring) -> Iterator[Evidence]:
    if pyfile.notebook or _TEST_PATH.search(pyfile.path):
        return
    entrypoint, via, _imported = reach(index, pyfile.path, wiring, False)
    if not via:
        return  # seeds only matter where training is run (ET-n)
    found = ctx.facts.per_file("trackers.seeds", pyfile.path, lambda: _seeding(ctx, pyfile))
    if found is not None:
        names, deterministic, spans = found
        yield ctx.evidence(
            "tracker.seeds",
            Seeds(calls=names, deterministic=deterministic, entrypoint=entrypoint, reached_via=via),
            path=pyfile.path, lines=_span(spans),
        )


def _seeding(ctx: ProbeContext, pyfile: PyFile) -> Optional[tuple[list[str], bool, list[tuple[int, int]]]]:
    """The seeds one file sets, whether it asks for deterministic kernels, and the spans saying so."""
    lines = ctx.facts.lines(pyfile.path) or []
    names: set[str] = set()
    spans: list[tuple[int, int]] = []
    deterministic = False
    for call in pyfile.calls:
        name = SEED_NAMES.get(call.name) or ("set_seed" if call.attr in SEED_ATTRS else None)
        if name is None and "random_state" in call.keywords:
            text = " ".join(lines[call.line - 1 : call.end_line])
            name = None if _RANDOM_STATE_NONE.search(text) else "random_state"
        if name:
            names.add(name)
            spans.append((call.line, call.end_line))
        if call.name in DETERMINISTIC_CALLS and call.literal_args[:1] != (False,):
            deterministic = True
            spans.append((call.line, call.end_line))
        elif call.kwarg("deterministic") is True and call.attr == "Trainer":
            deterministic = True
            spans.append((call.line, call.end_line))
    for match in _DETERMINISTIC_TEXT.finditer(ctx.facts.text(pyfile.path) or ""):
        deterministic = True
        line = (ctx.facts.text(pyfile.path) or "").count("\n", 0, match.start()) + 1
        spans.append((line, line))
    if not names and not deterministic:
        return None
    return sorted(names), deterministic, spans


# -- committed run output -------------------------------------------------------------------------

_RESULTS_FILE = lazy(r"(?:^|[_-])(?:results?|experiments?|scores|leaderboard)(?:[_-]|$)", re.IGNORECASE)


def _local_results(ctx: ProbeContext) -> Iterator[Evidence]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    dvc_text = " ".join(ctx.facts.text(p) or "" for p in ctx.paths if posixpath.basename(p) == "dvc.yaml")
    for path in ctx.paths:
        parts = path.split("/")
        name = parts[-1]
        if name.startswith("events.out.tfevents."):
            groups[("tensorboard_runs", _tb_root(parts))].append(path)
        elif "wandb" in parts[:-1]:
            at = parts.index("wandb")
            if at + 1 < len(parts) - 1 and re.match(r"(?:offline-)?run-", parts[at + 1]):
                groups[("wandb_dir", "/".join(parts[: at + 1]))].append(path)
        elif name.lower().endswith((".csv", ".xlsx", ".xls")) and (
            _RESULTS_FILE.search(name.rsplit(".", 1)[0]) or "results" in parts[:-1]
        ):
            if name in dvc_text:
                continue  # a DVC metrics/plots output: declared and reproducible
            groups[("results_csv", posixpath.dirname(path))].append(path)
    for (kind, root), paths in sorted(groups.items()):
        count = len({posixpath.dirname(p) for p in paths}) if kind == "wandb_dir" else len(paths)
        if kind == "wandb_dir":
            count = len({p.split("/")[len(root.split("/")) if root else 0] for p in paths})
        yield ctx.evidence(
            "tracker.local_results",
            LocalResults(kind=kind, paths=count, root=root),  # type: ignore[arg-type]
            path=sorted(paths)[0], subject=f"{kind}:{root}",
            strength=Strength.mention, downgrades=[COMMITTED_RESULTS],
        )


def _tb_root(parts: list[str]) -> str:
    """The log directory holding the runs: the topmost ``runs``/``logs``-like folder, else the
    parent of the event file's folder."""
    for i, part in enumerate(parts[:-1]):
        if part in ("runs", "logs", "lightning_logs", "tb_logs", "tensorboard", "tb"):
            return "/".join(parts[: i + 1])
    return "/".join(parts[:-2]) if len(parts) > 2 else "/".join(parts[:-1])


# -- declaration ---------------------------------------------------------------------------------

PATTERNS: tuple[str, ...] = (
    "**/MLproject", "**/MLProject", "**/mlproject", "**/dvc.yaml",  # what runs what (probes/_reach.py)
    "**/*.yaml", "**/*.yml",  # W&B sweep configs, Katib Experiments
    "**/events.out.tfevents.*",
    "**/wandb/run-*/**", "**/wandb/offline-run-*/**",
    "**/*.csv", "**/*.xlsx", "**/*.xls",
)

PROBE = Probe(
    id="trackers",
    title="Experiment trackers besides MLflow, hyperparameter search, seeds and committed run output",
    patterns=PATTERNS,
    kinds=(
        Kind("tracker.calls", TrackerCalls, "A file that logs runs to W&B, ClearML, Neptune, Comet, Aim, DVCLive, TensorBoard, Vertex, SageMaker or Azure ML"),
        Kind("tracker.hpo", Hpo, "A hyperparameter search (Optuna, Ray Tune, Hyperopt, Keras Tuner, sklearn, W&B sweep, Katib) and whether it is tracked"),
        Kind("tracker.seeds", Seeds, "Seeds and determinism flags set in code that is run (entrypoints and what they import)"),
        Kind("tracker.local_results", LocalResults, "Run output committed to git: TensorBoard event files, wandb/ run dirs, results spreadsheets"),
    ),
    collect=collect,
    python_tokens=(
        *PIPELINE_TOKENS,
        *imports_of("wandb", "clearml", "neptune", "comet_ml", "aim", "dvclive", "tensorboardX", "torch.utils.tensorboard",
                    "google.cloud", "sagemaker", "azureml", "optuna", "hyperopt", "ray", "keras_tuner", "skopt"),
        "SummaryWriter", "create_file_writer", "TensorBoard", "report_to", "SearchCV",
        "WandbLogger", "NeptuneLogger", "CometLogger", "AimLogger", "DVCLiveLogger",
        "manual_seed", "set_seed", "seed_everything", "set_random_seed", "random_state",
        "use_deterministic_algorithms", "enable_op_determinism", r"random\.seed\(",
        "__main__",  # entrypoints, so imports from them can be followed
    ),
    weight=2,  # every indexed file is weighed for each tracker
)
