"""Model observability: drift jobs and their thresholds, retraining triggers, quality jobs, SLOs.

Covers RUBRIC §3.4 MO-h (drift detection job), MO-i (thresholds explicit and plausible), MO-l
(prediction quality against ground truth, or label-free estimation), MO-p (alert -> retrain
automation) and MO-r (SLOs). Alert rules and Alertmanager routing (MO-f/MO-k) are the ops probe's
(``ops.alert_rules``, ``ops.alert_routing``); here an Alertmanager receiver only matters when its
webhook starts a retraining workflow.

A drift check counts as a job only when something runs it on a schedule: a CI job with a
``schedule`` trigger (directly or through an entry script importing the module), an orchestrator
DAG with a schedule, or a managed monitor schedule (SageMaker, Vertex, Azure ML). Anti-gaming
(RUBRIC §2.3): a notebook-only check, a check nothing schedules, a library-default threshold, and
thresholds outside the plausible ranges (PSI [0.05, 0.5], KS/chi2/MMD p-value [0.001, 0.1], JS
distance <= 0.5) all downgrade the evidence to ``mention`` with the reason.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Literal, Optional

from probes._ci_links import CiRun, module_names, runs_by_path, workflow_listeners
from scanner.facts.python import Call, PyFile, imports_of
from scanner.facts.yamldoc import YList, YMap, dig, span
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

Tool = Literal["evidently", "whylogs", "nannyml", "alibi_detect", "deepchecks", "frouros", "tfdv",
               "sagemaker_model_monitor", "vertex_monitoring", "azureml_monitor", "custom"]
Statistic = Literal["psi", "kl", "js", "ks", "wasserstein", "chi2", "mmd"]

_MAX_FEATURES = 100
_MAX_DEPTH = 12

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------


class DriftJob(Attributes):
    tool: Tool
    statistic: Optional[Statistic] = None
    threshold: Optional[float] = None
    threshold_plausible: Optional[bool] = None
    features: list[str] = []
    scheduled: bool = False
    schedule: Optional[str] = None
    where: Literal["ci", "orchestrator", "managed", "code"] = "code"


class RetrainTrigger(Attributes):
    mechanism: Literal["alertmanager_webhook", "repository_dispatch", "workflow_dispatch_api", "orchestrator_api",
                       "eventbridge", "event_grid", "prefect_trigger", "metaflow_trigger", "argo_events", "in_code"]
    source: str
    target: str
    wired: bool


class QualityMonitor(Attributes):
    tool: Literal["nannyml", "sagemaker_model_monitor", "evidently", "custom"]
    estimated: bool  # label-free performance estimation (CBPE/DLE)
    slices: bool
    label_join: bool
    scheduled: bool = False


class Slo(Attributes):
    tool: Literal["openslo", "sloth", "cloud"]
    objectives: int


# --------------------------------------------------------------------------------------------
# thresholds
# --------------------------------------------------------------------------------------------

# RUBRIC §2.3 gives PSI, p-values and JS; KL and (normed) Wasserstein are our own bound: a
# distance threshold above 1 can never fire on normalised data.
_RANGES: dict[str, tuple[float, float, str]] = {
    "psi": (0.05, 0.5, "[0.05, 0.5]"),
    "ks": (0.001, 0.1, "p-value [0.001, 0.1]"),
    "chi2": (0.001, 0.1, "p-value [0.001, 0.1]"),
    "mmd": (0.001, 0.1, "p-value [0.001, 0.1]"),
    "js": (1e-9, 0.5, "(0, 0.5]"),
    "kl": (1e-9, 1.0, "(0, 1]"),
    "wasserstein": (1e-9, 1.0, "(0, 1] (normed)"),
}


def plausible(statistic: Optional[str], threshold: Optional[float]) -> Optional[bool]:
    """Whether a threshold is in the plausible range for its statistic; None when not judgeable."""
    if statistic is None or threshold is None or statistic not in _RANGES:
        return None
    low, high, _ = _RANGES[statistic]
    return low <= threshold <= high


def _fmt(value: float) -> str:
    return f"{value:g}"


# Library statistic names -> our vocabulary (Evidently stattest / method, NannyML methods, Azure ML
# metric names, Frouros classes, TFDV comparators).
_STAT_NAMES = {
    "psi": "psi", "population_stability_index": "psi",
    "kl_div": "kl", "kl": "kl", "kullback_leibler": "kl",
    "jensenshannon": "js", "jensen_shannon": "js", "jensen_shannon_distance": "js", "js": "js",
    "jensen_shannon_divergence": "js",
    "ks": "ks", "kolmogorov_smirnov": "ks", "two_sample_kolmogorov_smirnov_test": "ks",
    "wasserstein": "wasserstein", "normed_wasserstein": "wasserstein", "normalized_wasserstein_distance": "wasserstein",
    "chisquare": "chi2", "chi2": "chi2", "pearsons_chi_squared_test": "chi2",
    "emperical_mmd": "mmd", "mmd": "mmd",
}


def _stat(name: Any) -> Optional[str]:
    return _STAT_NAMES.get(str(name).lower()) if isinstance(name, str) else None


# --------------------------------------------------------------------------------------------
# a small AST pass: keyword values the index does not keep (lists, dicts, module constants)
# --------------------------------------------------------------------------------------------


@dataclass
class _Kw:
    """Resolved keyword arguments of the calls in one module, keyed by (line, callee attr)."""

    calls: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    comparisons: list[tuple[str, float, int]] = field(default_factory=list)  # (name text, number, line)
    constants: dict[str, tuple[float, int]] = field(default_factory=dict)


def _number(node: ast.AST) -> Optional[float]:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _value(node: ast.AST, consts: dict[str, Any]) -> Any:
    """A keyword value as plain data: constants, module constants, lists of strings, dicts."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_value(e, consts) for e in node.elts[:_MAX_FEATURES * 2]]
        return [i for i in items if isinstance(i, (str, int, float))]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key, value in list(zip(node.keys, node.values))[:_MAX_FEATURES * 2]:
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                if isinstance(value, ast.Call):  # NannyML ConstantThreshold(upper=0.1)
                    bound = next((_number(k.value) for k in value.keywords if k.arg in ("upper", "lower")), None)
                    out[key.value] = bound
                else:
                    out[key.value] = _value(value, consts)
        return out
    return None


def _callee_attr(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


_THRESHOLD_NAME = lazy(r"psi|p_?val|pvalue|alpha|js\b|jensen|kl\b|drift|threshold", re.I)


def _kw_pass(ctx: ProbeContext, pyfile: PyFile) -> _Kw:
    """Parse one module again (cheap: only files already known to hold drift code)."""
    kw = _Kw()
    if pyfile.notebook:
        return kw
    text = ctx.facts.text(pyfile.path)
    try:
        tree = ast.parse(text or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return kw
    consts: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _value(node.value, {})
            if value is not None:
                consts[node.targets[0].id] = value
                number = _number(node.value)
                if number is not None and _THRESHOLD_NAME.search(node.targets[0].id):
                    kw.constants[node.targets[0].id] = (number, node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            kw.calls[(node.lineno, _callee_attr(node))] = {
                k.arg: _value(k.value, consts) for k in node.keywords if k.arg
            }
        elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
            left, right = node.left, node.comparators[0]
            for named, num in ((left, right), (right, left)):
                number = _number(num)
                if number is None and isinstance(num, ast.Name) and num.id in kw.constants:
                    number = kw.constants[num.id][0]
                if number is not None and isinstance(named, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
                    label = ast.unparse(named)
                    if _THRESHOLD_NAME.search(label) or re.search(r"\b(?:ks|kl|js)_?", label, re.I):
                        kw.comparisons.append((label, number, node.lineno))
    return kw


# --------------------------------------------------------------------------------------------
# drift in code
# --------------------------------------------------------------------------------------------

_EVIDENTLY_DRIFT = frozenset({
    "DataDriftPreset", "DataDriftTable", "DatasetDriftMetric", "ColumnDriftMetric", "DataDriftTestPreset",
    "TestColumnDrift", "TestShareOfDriftedColumns", "TestNumberOfDriftedColumns", "ValueDrift",
    "DriftedColumnsCount", "EmbeddingsDriftMetric",
})
_NANNYML_DRIFT = frozenset({"UnivariateDriftCalculator", "DataReconstructionDriftCalculator",
                            "DomainClassifierCalculator"})
_ALIBI_DRIFT = {"KSDrift": "ks", "MMDDrift": "mmd", "ChiSquareDrift": "chi2", "TabularDrift": "ks",
                "CVMDrift": None, "LSDDDrift": None, "MMDDriftOnline": "mmd", "ClassifierDrift": None,
                "LearnedKernelDrift": "mmd", "FETDrift": None}
_DEEPCHECKS_DRIFT = frozenset({"FeatureDrift", "TrainTestFeatureDrift", "MultivariateDrift", "LabelDrift",
                               "PredictionDrift", "TrainTestLabelDrift", "TrainTestPredictionDrift",
                               "WholeDatasetDrift", "ImagePropertyDrift", "TextPropertyDrift"})
_DEEPCHECKS_CONDITION = lazy(r"^add_condition_drift_score_(?:less_than|not_greater_than)$")
_FROUROS = {"KSTest": "ks", "PSI": "psi", "JS": "js", "KL": "kl", "MMD": "mmd", "ChiSquareTest": "chi2",
            "EMD": "wasserstein", "CVMTest": None, "HellingerDistance": None, "BWSTest": None}
_WHYLOGS = frozenset({"ConstraintsBuilder", "calculate_drift_scores", "summary_drift_report"})
_SAGEMAKER_DRIFT = frozenset({"DefaultModelMonitor"})
_CUSTOM = {
    "scipy.stats.ks_2samp": "ks", "scipy.stats.kstest": "ks", "scipy.stats.wasserstein_distance": "wasserstein",
    "scipy.spatial.distance.jensenshannon": "js", "scipy.stats.chi2_contingency": "chi2",
    "scipy.stats.chisquare": "chi2", "scipy.stats.entropy": "kl",
}
_CUSTOM_PSI = frozenset({"population_stability_index", "calculate_psi", "compute_psi", "psi"})
_FEATURE_KWARGS = ("columns", "column_names", "column_name", "column", "feature_names", "features",
                   "features_to_monitor", "numerical_columns", "categorical_columns")
_TFDV_DRIFT = lazy(
    r"""get_feature\(\s*\w+\s*,\s*["']([\w.-]+)["']\s*\)\s*\.(?:drift|skew)_comparator\."""
    r"""(infinity_norm|jensen_shannon_divergence)\.threshold\s*=\s*([0-9.eE-]+)""")


@dataclass
class _Finding:
    tool: str
    lines: list[tuple[int, int]] = field(default_factory=list)
    pairs: list[tuple[Optional[str], Optional[float]]] = field(default_factory=list)  # (statistic, threshold)
    features: set[str] = field(default_factory=set)
    managed_schedule: Optional[str] = None
    managed: bool = False

    def add(self, call: Call, statistic: Optional[str] = None, threshold: Optional[float] = None) -> None:
        self.lines.append((call.line, call.end_line))
        if statistic is not None or threshold is not None:
            self.pairs.append((statistic, threshold))


def _as_float(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _kwargs(kw: _Kw, call: Call) -> dict[str, Any]:
    """The resolved keywords of ``call`` (AST pass), falling back to the index's literals."""
    resolved = kw.calls.get((call.line, call.attr))
    if resolved is None:  # notebooks: line numbers are the .ipynb's
        return {k: v for k, v in call.literal_kwargs if v is not None}
    return {k: v for k, v in resolved.items() if v is not None}


def _features(values: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in _FEATURE_KWARGS:
        value = values.get(key)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found |= {str(v) for v in value if isinstance(v, str)}
    return found


def _scan_calls(pyfile: PyFile, kw: _Kw) -> dict[str, _Finding]:
    findings: dict[str, _Finding] = {}

    def finding(tool: str) -> _Finding:
        return findings.setdefault(tool, _Finding(tool))

    for call in pyfile.calls:
        root = call.name.split(".", 1)[0]
        attr = call.attr
        if root == "evidently" and attr in _EVIDENTLY_DRIFT:
            values = _kwargs(kw, call)
            statistic = _stat(values.get("stattest") or values.get("method") or values.get("num_stattest"))
            threshold = _as_float(values.get("stattest_threshold", values.get("threshold",
                                                                            values.get("num_stattest_threshold"))))
            finding("evidently").add(call, statistic, threshold)
            finding("evidently").features |= _features(values)
        elif root == "nannyml" and attr in _NANNYML_DRIFT:
            values = _kwargs(kw, call)
            methods = values.get("continuous_methods") or values.get("categorical_methods") or []
            statistic = next((_stat(m) for m in methods if _stat(m)), None) if isinstance(methods, list) else None
            thresholds = values.get("thresholds") if isinstance(values.get("thresholds"), dict) else {}
            threshold = None
            for method, bound in thresholds.items():
                if _as_float(bound) is not None:
                    statistic, threshold = _stat(method) or statistic, _as_float(bound)
                    break
            finding("nannyml").add(call, statistic, threshold)
            finding("nannyml").features |= _features(values)
        elif root == "alibi_detect" and attr in _ALIBI_DRIFT:
            values = _kwargs(kw, call)
            finding("alibi_detect").add(call, _ALIBI_DRIFT[attr], _as_float(values.get("p_val")))
        elif root == "deepchecks" and attr in _DEEPCHECKS_DRIFT:
            values = _kwargs(kw, call)
            finding("deepchecks").add(call, _stat(values.get("numerical_drift_method")))
            finding("deepchecks").features |= _features(values)
        elif _DEEPCHECKS_CONDITION.match(attr) and "deepchecks" in findings:
            values = _kwargs(kw, call)
            bound = next((_as_float(v) for k, v in values.items() if k.startswith("max_allowed")), None)
            bound = bound if bound is not None else _as_float(call.literal_args[0] if call.literal_args else None)
            statistic = next((s for s, _ in findings["deepchecks"].pairs if s), None)
            findings["deepchecks"].add(call, statistic, bound)
        elif root == "frouros" and attr in _FROUROS:
            finding("frouros").add(call, _FROUROS[attr])
        elif root == "whylogs" and attr in _WHYLOGS:
            finding("whylogs").add(call)
        elif root == "sagemaker" and attr in _SAGEMAKER_DRIFT:
            finding("sagemaker_model_monitor").add(call)
            finding("sagemaker_model_monitor").managed = True
        elif attr == "create_monitoring_schedule" and "sagemaker_model_monitor" in findings:
            values = _kwargs(kw, call)
            cron = values.get("schedule_cron_expression")
            managed = findings["sagemaker_model_monitor"]
            managed.add(call)
            managed.managed_schedule = str(cron) if isinstance(cron, str) else _generator_cron(pyfile, call)
        elif root == "google" and attr in ("DriftDetectionConfig", "SkewDetectionConfig"):
            values = _kwargs(kw, call)
            limits = values.get("drift_thresholds") or values.get("skew_thresholds") or {}
            finding("vertex_monitoring").managed = True
            if isinstance(limits, dict) and limits:
                finding("vertex_monitoring").features |= set(limits)
                for bound in limits.values():
                    finding("vertex_monitoring").add(call, "js", _as_float(bound))
            else:
                finding("vertex_monitoring").add(call)
        elif root == "google" and attr == "create" and "ModelDeploymentMonitoringJob" in call.name:
            finding("vertex_monitoring").add(call)
            finding("vertex_monitoring").managed = True
            if "schedule_config" in call.keywords:
                finding("vertex_monitoring").managed_schedule = "schedule_config"
        elif call.name in _CUSTOM and (call.name != "scipy.stats.entropy" or len(call.literal_args) >= 2
                                       or "qk" in call.keywords):
            finding("custom").add(call, _CUSTOM[call.name])
        elif attr in _CUSTOM_PSI and "." not in call.name:
            finding("custom").add(call, "psi")
    return findings


def _generator_cron(pyfile: PyFile, call: Call) -> Optional[str]:
    """SageMaker ``CronExpressionGenerator.hourly()/daily()`` inside the schedule call."""
    for other in pyfile.calls:
        if call.line <= other.line <= call.end_line and "CronExpressionGenerator" in other.name:
            return {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}.get(other.attr, other.attr)
    return None


def _custom_thresholds(finding: _Finding, kw: _Kw) -> None:
    """Comparisons such as ``psi > 0.2`` or ``p_value < ALPHA`` next to a custom statistic."""
    default = next((s for s, _ in finding.pairs if s), None)
    for label, number, line in kw.comparisons:
        lowered = label.lower()
        statistic = ("psi" if "psi" in lowered else "js" if re.search(r"\bjs|jensen", lowered)
                     else "kl" if re.search(r"\bkl", lowered)
                     else default if re.search(r"p_?val|pvalue|alpha|drift|threshold|stat", lowered) else None)
        if statistic is not None:
            finding.pairs.insert(0, (statistic, number))
            finding.lines.append((line, line))
            return


def _tfdv(ctx: ProbeContext, pyfile: PyFile) -> Optional[_Finding]:
    if not pyfile.imports_module("tensorflow_data_validation") or pyfile.notebook:
        return None
    text = ctx.facts.text(pyfile.path) or ""
    found = _Finding("tfdv")
    for match in _TFDV_DRIFT.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.lines.append((line, text.count("\n", 0, match.end()) + 1))
        found.features.add(match.group(1))
        found.pairs.append(("js" if "jensen" in match.group(2) else None, _as_float(_safe_float(match.group(3)))))
    return found if found.lines else None


def _safe_float(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")


def _choose(pairs: list[tuple[Optional[str], Optional[float]]]) -> tuple[Optional[str], Optional[float], Optional[bool]]:
    """The (statistic, threshold, plausible) to report: an implausible pair first (it decides the
    downgrade), then a plausible explicit one, then the first statistic named."""
    explicit = [(s, t) for s, t in pairs if t is not None]
    for statistic, threshold in explicit:
        if plausible(statistic, threshold) is False:
            return statistic, threshold, False
    for statistic, threshold in explicit:
        if plausible(statistic, threshold):
            return statistic, threshold, True
    if explicit:
        statistic, threshold = explicit[0]
        return statistic or next((s for s, _ in pairs if s), None), threshold, None
    return next((s for s, _ in pairs if s), None), None, None


@dataclass
class _Schedule:
    where: str = "code"
    scheduled: bool = False
    cron: Optional[str] = None
    dead: list[str] = field(default_factory=list)


def _ci_schedule(runs: list[CiRun]) -> _Schedule:
    found = _Schedule()
    for run in runs:
        found.where = "ci"
        if run.dead:
            found.dead.append(f"the CI job that runs it never runs: {run.dead}")
        elif run.scheduled():
            found.scheduled = True
            crons = run.crons()
            found.cron = found.cron or (crons[0] if crons else None)
    if found.scheduled:
        found.dead = []
    return found


_DAG_CALLS = frozenset({"airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG",
                        "airflow.decorators.dag", "airflow.sdk.dag"})
_ORCHESTRATORS = ("airflow", "prefect", "dagster")


def _orchestrator_schedule(ctx: ProbeContext, path: str) -> Optional[_Schedule]:
    """An Airflow/Prefect/Dagster file that imports the drift module or names its path."""
    index = ctx.facts.python
    names = {n for n, p in module_names(ctx).items() if p == path}
    for other_path in sorted(index.files):
        other = index.files[other_path]
        if other_path == path or other.notebook or not any(other.imports_module(o) for o in _ORCHESTRATORS):
            continue
        imports = any(i.module in names or i.module.rsplit(".", 1)[0] in names for i in other.imports)
        if not imports and path not in (ctx.facts.text(other_path) or ""):
            continue
        found = _Schedule(where="orchestrator")
        for call in other.calls:
            cron = call.kwarg("schedule") or call.kwarg("schedule_interval") or call.kwarg("cron") \
                or call.kwarg("cron_schedule")
            if call.name in _DAG_CALLS or call.attr in ("serve", "deploy", "ScheduleDefinition", "schedule") \
                    or call.name.startswith("dagster."):
                if isinstance(cron, str) and cron:
                    found.scheduled, found.cron = True, cron
                    return found
        found.dead.append(f"orchestrator file {other_path} has no schedule")
        return found
    return None


def _code_drift(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    runs = runs_by_path(ctx)
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _TEST_PATH.search(path):
            continue
        kw = _kw_pass(ctx, pyfile) if not pyfile.notebook and _maybe_drift(pyfile) else _Kw()
        findings = _scan_calls(pyfile, kw)
        tfdv = _tfdv(ctx, pyfile)
        if tfdv is not None:
            findings["tfdv"] = tfdv
        if "custom" in findings:
            _custom_thresholds(findings["custom"], kw)
        for _, found in sorted(findings.items()):
            yield _drift_evidence(ctx, pyfile, found, runs.get(path, []))


def _maybe_drift(pyfile: PyFile) -> bool:
    roots = {i.module.split(".", 1)[0] for i in pyfile.imports}
    return bool(roots & {"evidently", "nannyml", "alibi_detect", "deepchecks", "frouros", "whylogs", "sagemaker",
                         "google", "scipy", "tensorflow_data_validation"}) or any(
        c.attr in _CUSTOM_PSI for c in pyfile.calls)


def _drift_evidence(ctx: ProbeContext, pyfile: PyFile, found: _Finding, runs: list[CiRun]) -> Evidence:
    statistic, threshold, is_plausible = _choose(found.pairs)
    schedule = _ci_schedule(runs) if runs else None
    if found.managed:
        schedule = _Schedule(where="managed", scheduled=found.managed_schedule is not None,
                             cron=found.managed_schedule if found.managed_schedule != "schedule_config" else None)
    if schedule is None or (not schedule.scheduled and schedule.where == "code"):
        schedule = _orchestrator_schedule(ctx, pyfile.path) or schedule or _Schedule()
    downgrades = list(schedule.dead)
    if pyfile.notebook and not schedule.scheduled:
        downgrades.append("drift check only in a notebook")
    if not schedule.scheduled:
        downgrades.append("not run by a scheduled CI job, orchestrator schedule or managed monitor schedule")
    downgrades += _threshold_reasons(statistic, threshold, is_plausible)
    attrs = DriftJob(
        tool=found.tool, statistic=statistic, threshold=threshold, threshold_plausible=is_plausible,  # type: ignore[arg-type]
        features=sorted(found.features)[:_MAX_FEATURES], scheduled=schedule.scheduled, schedule=schedule.cron,
        where=schedule.where,  # type: ignore[arg-type]
    )
    start = min(a for a, _ in found.lines)
    end = max(b for _, b in found.lines)
    return ctx.evidence("monitor.drift", attrs, path=pyfile.path, lines=(start, end), subject=found.tool,
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _threshold_reasons(statistic: Optional[str], threshold: Optional[float], is_plausible: Optional[bool]) -> list[str]:
    if threshold is None:
        return ["no explicit drift threshold (library default)"]
    if is_plausible is False and statistic:
        return [f"threshold {_fmt(threshold)} outside plausible range for {statistic.upper()} "
                f"({_RANGES[statistic][2]})"]
    if is_plausible is None:
        return [f"threshold {_fmt(threshold)} without a known statistic: plausibility not judged"]
    return []


# --------------------------------------------------------------------------------------------
# drift in managed-monitor YAML (Azure ML schedule, CloudFormation SageMaker schedule)
# --------------------------------------------------------------------------------------------

_YAML = lazy(r"\.ya?ml$")


def _yaml_files(ctx: ProbeContext, *needles: str) -> Iterator[tuple[str, Optional[list[Any]]]]:
    for path in ctx.paths:
        if not _YAML.search(path):
            continue
        text = ctx.facts.text(path)
        if text is None or not any(n in text for n in needles):
            continue
        yield path, ctx.facts.yaml(path)


def _azure_monitors(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, docs in _yaml_files(ctx, "create_monitor"):
        if docs is None:
            if re.search(r"^\s*create_monitor\s*:", ctx.facts.text(path) or "", re.M):
                yield ctx.unknown("monitor.drift", ctx.facts.problems.get(path, "malformed YAML"), path=path)
            continue
        for doc in docs:
            signals = dig(doc, "create_monitor", "monitoring_signals")
            if not isinstance(signals, YMap):
                continue
            trigger = doc.get("trigger") if isinstance(doc.get("trigger"), dict) else None
            cron = None
            if trigger is not None:
                cron = str(trigger.get("expression")) if trigger.get("type") == "cron" and trigger.get("expression") \
                    else f"{trigger.get('frequency', '?')}/{trigger.get('interval', 1)}"
            for name, signal in signals.items():
                if not isinstance(signal, YMap) or signal.get("type") not in ("data_drift", "prediction_drift"):
                    continue
                pairs = _azure_thresholds(signal.get("metric_thresholds"))
                statistic, threshold, is_plausible = _choose(pairs)
                features = signal.get("features")
                features = [str(f) for f in features] if isinstance(features, list) else []
                downgrades = [] if trigger is not None else ["monitor schedule has no trigger"]
                downgrades += _threshold_reasons(statistic, threshold, is_plausible)
                attrs = DriftJob(tool="azureml_monitor", statistic=statistic, threshold=threshold,  # type: ignore[arg-type]
                                 threshold_plausible=is_plausible, features=sorted(features)[:_MAX_FEATURES],
                                 scheduled=trigger is not None, schedule=cron, where="managed")
                yield ctx.evidence("monitor.drift", attrs, path=path, lines=signals.key_span(name), subject=str(name),
                                   strength=Strength.mention if downgrades else Strength.configured,
                                   downgrades=downgrades)


def _azure_thresholds(node: Any) -> list[tuple[Optional[str], Optional[float]]]:
    pairs: list[tuple[Optional[str], Optional[float]]] = []
    groups = [node.get("numerical"), node.get("categorical")] if isinstance(node, dict) else []
    for group in groups:
        for metric, value in (group.items() if isinstance(group, dict) else []):
            pairs.append((_stat(metric), _as_float(value)))
    return pairs


def _cloudformation_monitors(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, docs in _yaml_files(ctx, "AWS::SageMaker::MonitoringSchedule"):
        for doc in docs or []:
            resources = doc.get("Resources") if isinstance(doc, YMap) else None
            for name, res in (resources.items() if isinstance(resources, YMap) else []):
                if not isinstance(res, YMap) or res.get("Type") != "AWS::SageMaker::MonitoringSchedule":
                    continue
                expr = dig(res, "Properties", "MonitoringScheduleConfig", "ScheduleConfig", "ScheduleExpression")
                mtype = dig(res, "Properties", "MonitoringScheduleConfig", "MonitoringType") or "DataQuality"
                if mtype not in ("DataQuality", None):
                    continue
                downgrades = [] if expr else ["monitoring schedule has no ScheduleExpression"]
                downgrades.append("no explicit drift threshold (baseline constraints decide)")
                attrs = DriftJob(tool="sagemaker_model_monitor", scheduled=bool(expr),
                                 schedule=str(expr) if expr else None, where="managed")
                yield ctx.evidence("monitor.drift", attrs, path=path, lines=resources.key_span(name), subject=str(name),
                                   strength=Strength.mention, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# monitor.retrain_trigger
# --------------------------------------------------------------------------------------------

_GH_DISPATCH = lazy(r"api\.github\.com/repos/[^/]+/[^/]+/(?:actions/workflows/([^/]+)/)?dispatches\b")
_AIRFLOW_RUN = lazy(r"/api/v\d/dags/([^/]+)/dag_?[Rr]uns\b")


def _target_of(url: str) -> tuple[str, str]:
    """(mechanism, target) a webhook URL addresses."""
    match = _GH_DISPATCH.search(url)
    if match and match.group(1):
        return "workflow_dispatch_api", f".github/workflows/{match.group(1)}"
    if match:
        return "repository_dispatch", "repository_dispatch"
    match = _AIRFLOW_RUN.search(url)
    if match:
        return "orchestrator_api", f"dag:{match.group(1)}"
    return "", ""


def _wired(ctx: ProbeContext, mechanism: str, target: str, event_type: Optional[str] = None) -> tuple[bool, str, list[str]]:
    """Whether the target exists in this repository and listens; (wired, resolved target, reasons)."""
    listeners = workflow_listeners(ctx)
    if mechanism == "workflow_dispatch_api":
        if any(p == target and e == "workflow_dispatch" for p, e, _, _ in listeners):
            return True, target, []
        exists = any(p == target for p, _, _, _ in listeners) or target in ctx.snapshot
        return False, target, ["target workflow does not listen on workflow_dispatch" if exists
                               else f"target workflow not found: {target}"]
    if mechanism == "repository_dispatch":
        found = [(p, types) for p, e, types, _ in listeners if e == "repository_dispatch"]
        for path, types in found:
            if not types or event_type is None or event_type in types:
                return True, path, []
        if found:
            return False, target, [f"no workflow listens on repository_dispatch type {event_type!r}"]
        return False, target, ["target workflow not found: no workflow listens on repository_dispatch"]
    if mechanism == "orchestrator_api":
        dag = target.split(":", 1)[1]
        for path in sorted(ctx.facts.python.files):
            pyfile = ctx.facts.python.files[path]
            for call in pyfile.calls:
                if call.name in _DAG_CALLS and (call.kwarg("dag_id") == dag or (call.literal_args[:1] == (dag,))):
                    return True, f"{path}:{dag}", []
        return False, target, [f"target DAG not found: {dag}"]
    return False, target, ["target not recognised"]


def _alertmanager_triggers(ctx: ProbeContext) -> Iterator[Evidence]:
    from probes.ops import find_alertmanager, route_receivers  # one reading of Alertmanager configs

    for path, docs in _yaml_files(ctx, "webhook_configs", "webhookConfigs"):
        for doc in docs or []:
            root = doc.get("spec") if isinstance(doc, YMap) and doc.get("kind") == "AlertmanagerConfig" else doc
            for config in find_alertmanager(root):
                used = route_receivers(config["route"])
                receivers = config["receivers"]
                for receiver in receivers:
                    if not isinstance(receiver, YMap):
                        continue
                    hooks = receiver.get("webhook_configs") or receiver.get("webhookConfigs") or []
                    for hook_index, hook in enumerate(hooks if isinstance(hooks, list) else []):
                        url = str(hook.get("url") or "") if isinstance(hook, dict) else ""
                        mechanism, target = _target_of(url)
                        if not mechanism:
                            continue
                        wired, target, reasons = _wired(ctx, mechanism, target)
                        name = str(receiver.get("name") or "")
                        if name not in used:
                            wired = False
                            reasons.append(f"receiver {name!r} is not used by any route")
                        attrs = RetrainTrigger(mechanism="alertmanager_webhook", source=f"receiver:{name}",
                                               target=target, wired=wired)
                        lines = hooks.item_span(hook_index) if isinstance(hooks, YList) else span(receiver)
                        yield ctx.evidence("monitor.retrain_trigger", attrs, path=path, lines=lines,
                                           subject=f"{name}/{hook_index}",
                                           strength=Strength.configured if wired else Strength.mention,
                                           downgrades=reasons)


_EVENT_TYPE = lazy(r"""["']event_type["']\s*:\s*["']([\w.:-]+)["']""")
_CODE_DISPATCH = lazy(r"dispatches\b|create_dispatch\b|/dag_?[Rr]uns\b")


def _code_triggers(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or pyfile.notebook or _TEST_PATH.search(path):
            continue
        text = ctx.facts.text(path) or ""
        if not _CODE_DISPATCH.search(text):
            continue
        for call in pyfile.calls:
            if call.attr == "create_dispatch" or (call.attr == "post" and call.name.split(".")[0] in ("requests", "httpx")):
                window = "\n".join((ctx.facts.lines(path) or [])[max(0, call.line - 15): call.end_line])
                url_match = _GH_DISPATCH.search(window) or _AIRFLOW_RUN.search(window)
                if call.attr == "create_dispatch":
                    mechanism, target = "workflow_dispatch_api", ""
                    wf = re.search(r"get_workflow\(\s*[\"']([^\"']+)[\"']", text)
                    target = f".github/workflows/{wf.group(1)}" if wf else "unknown workflow"
                elif url_match:
                    mechanism, target = _target_of(url_match.group(0))
                else:
                    continue
                event = _EVENT_TYPE.search(window)
                wired, target, reasons = _wired(ctx, mechanism, target, event.group(1) if event else None)
                attrs = RetrainTrigger(mechanism="in_code", source=path, target=target, wired=wired)
                yield ctx.evidence("monitor.retrain_trigger", attrs, path=path, lines=(call.line, call.end_line),
                                   subject=f"{mechanism}:{call.line}",
                                   strength=Strength.configured if wired else Strength.mention, downgrades=reasons)
            elif call.name in ("metaflow.trigger",) and call.kwarg("event"):
                attrs = RetrainTrigger(mechanism="metaflow_trigger", source=f"event:{call.kwarg('event')}",
                                       target=path, wired=True)
                yield ctx.evidence("monitor.retrain_trigger", attrs, path=path, lines=(call.line, call.end_line),
                                   subject=f"metaflow:{call.line}")


_RETRAIN_WORDS = lazy(r"train|drift", re.I)


def _argo_sensors(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, docs in _yaml_files(ctx, "Sensor"):
        for doc in docs or []:
            if not (isinstance(doc, YMap) and doc.get("kind") == "Sensor"
                    and str(doc.get("apiVersion", "")).startswith("argoproj.io")):
                continue
            if not _RETRAIN_WORDS.search(repr(doc)[:20000]):
                continue  # a sensor for something else (deploys, notifications)
            deps = dig(doc, "spec", "dependencies")
            triggers = dig(doc, "spec", "triggers")
            source = ",".join(sorted(str(d.get("eventSourceName") or d.get("name"))
                                     for d in deps if isinstance(d, dict))) if isinstance(deps, list) else ""
            targets = []
            for trig in triggers if isinstance(triggers, list) else []:
                template = dig(trig, "template")
                if isinstance(template, dict):
                    targets.append(str(template.get("name") or ""))
            wired = bool(targets) and bool(source)
            attrs = RetrainTrigger(mechanism="argo_events", source=source, target=",".join(sorted(targets)), wired=wired)
            yield ctx.evidence("monitor.retrain_trigger", attrs, path=path, lines=span(doc),
                               subject=str(dig(doc, "metadata", "name") or ""),
                               strength=Strength.configured if wired else Strength.mention,
                               downgrades=[] if wired else ["sensor has no dependency or no trigger"])


def _eventbridge_rules(ctx: ProbeContext) -> Iterator[Evidence]:
    """CloudFormation ``AWS::Events::Rule`` from SageMaker/CloudWatch to a SageMaker pipeline."""
    for path, docs in _yaml_files(ctx, "AWS::Events::Rule"):
        for doc in docs or []:
            resources = doc.get("Resources") if isinstance(doc, YMap) else None
            for name, res in (resources.items() if isinstance(resources, YMap) else []):
                if not isinstance(res, YMap) or res.get("Type") != "AWS::Events::Rule":
                    continue
                sources = dig(res, "Properties", "EventPattern", "source")
                sources = [str(s) for s in sources] if isinstance(sources, list) else [str(sources or "")]
                if not any(s in ("aws.sagemaker", "aws.cloudwatch") for s in sources):
                    continue
                targets = dig(res, "Properties", "Targets")
                pipelines = [t for t in targets if isinstance(t, dict) and (
                    "SageMakerPipelineParameters" in t or ":pipeline/" in str(t.get("Arn", "")))] \
                    if isinstance(targets, list) else []
                target = str(pipelines[0].get("Id") or "pipeline") if pipelines else ""
                attrs = RetrainTrigger(mechanism="eventbridge", source=",".join(sorted(sources)),
                                       target=target, wired=bool(pipelines))
                yield ctx.evidence("monitor.retrain_trigger", attrs, path=path, lines=resources.key_span(name),
                                   subject=str(name), strength=Strength.configured if pipelines else Strength.mention,
                                   downgrades=[] if pipelines else ["rule has no SageMaker pipeline target"])


# --------------------------------------------------------------------------------------------
# monitor.quality
# --------------------------------------------------------------------------------------------

_QUALITY = {"CBPE": ("nannyml", True), "DLE": ("nannyml", True), "PerformanceCalculator": ("nannyml", False),
            "ModelQualityMonitor": ("sagemaker_model_monitor", False),
            "ClassificationPreset": ("evidently", False), "RegressionPreset": ("evidently", False)}


def _quality(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    runs = runs_by_path(ctx)
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _TEST_PATH.search(path):
            continue
        hits = [c for c in pyfile.calls if c.attr in _QUALITY and c.name.split(".")[0] in
                ("nannyml", "sagemaker", "evidently")]
        if not hits:
            continue
        tool, estimated = _QUALITY[hits[0].attr]
        attrs_calls = {c.attr for c in pyfile.calls}
        label_join = bool(attrs_calls & {"merge", "join"}) or any(
            "ground_truth_input" in c.keywords for c in pyfile.calls)
        slices = bool(attrs_calls & {"groupby"}) or any("segment" in k for c in hits for k in c.keywords)
        schedule = _ci_schedule(runs.get(path, []))
        if not schedule.scheduled and not pyfile.notebook:
            schedule = _orchestrator_schedule(ctx, path) or schedule
        scheduled = schedule.scheduled or any(c.attr == "create_monitoring_schedule" for c in pyfile.calls)
        downgrades = [] if scheduled else ["quality job is not scheduled"]
        if pyfile.notebook:
            downgrades.append("quality check only in a notebook")
        if not (label_join or estimated):
            downgrades.append("no join with delayed labels found")
        attrs = QualityMonitor(tool=tool, estimated=estimated, slices=slices, label_join=label_join,  # type: ignore[arg-type]
                               scheduled=scheduled)
        yield ctx.evidence("monitor.quality", attrs, path=path, lines=(hits[0].line, hits[-1].end_line), subject=tool,
                           strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# monitor.slo
# --------------------------------------------------------------------------------------------

_TF_SLO = lazy(r"""^\s*resource\s+"(google_monitoring_slo|azurerm_monitor_\w*slo\w*|aws_\w*slo\w*|datadog_service_level_objective)"\s+"([^"]+)\"""", re.M)


def _slos(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, docs in _yaml_files(ctx, "openslo", "sloth", "slos:"):
        if docs is None:
            if re.search(r"^(?:apiVersion:\s*(?:openslo|sloth)|version:\s*[\"']?prometheus/v1)", ctx.facts.text(path) or "", re.M):
                yield ctx.unknown("monitor.slo", ctx.facts.problems.get(path, "malformed YAML"), path=path)
            continue
        for doc in docs:
            if not isinstance(doc, YMap):
                continue
            api = str(doc.get("apiVersion", ""))
            if api.startswith("openslo/") and doc.get("kind") == "SLO":
                objectives = dig(doc, "spec", "objectives")
                tool, count = "openslo", len(objectives) if isinstance(objectives, list) else 0
            elif api.startswith("sloth.slok.dev") and doc.get("kind") == "PrometheusServiceLevel":
                slos = dig(doc, "spec", "slos")
                tool, count = "sloth", len(slos) if isinstance(slos, list) else 0
            elif str(doc.get("version", "")) == "prometheus/v1" and isinstance(doc.get("slos"), list):
                tool, count = "sloth", len(doc["slos"])
            else:
                continue
            downgrades = [] if count else ["SLO document declares no objectives"]
            yield ctx.evidence("monitor.slo", Slo(tool=tool, objectives=count), path=path, lines=span(doc),  # type: ignore[arg-type]
                               subject=str(dig(doc, "metadata", "name") or doc.get("service") or ""),
                               strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)
    for path in ctx.paths:
        if not path.endswith(".tf"):
            continue
        text = ctx.facts.text(path) or ""
        for match in _TF_SLO.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield ctx.evidence("monitor.slo", Slo(tool="cloud", objectives=1), path=path, lines=(line, line),
                               subject=f"{match.group(1)}.{match.group(2)}")


# --------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    yield from _code_drift(ctx)
    yield from _azure_monitors(ctx)
    yield from _cloudformation_monitors(ctx)
    yield from _alertmanager_triggers(ctx)
    yield from _code_triggers(ctx)
    yield from _argo_sensors(ctx)
    yield from _eventbridge_rules(ctx)
    yield from _quality(ctx)
    yield from _slos(ctx)


PROBE = Probe(
    id="drift",
    title="Model observability: drift jobs and thresholds, retraining triggers, quality monitors, SLOs",
    patterns=("**/*.yaml", "**/*.yml", "**/*.tf"),
    kinds=(
        Kind("monitor.drift", DriftJob, "A drift check (library, custom statistic or managed monitor), its threshold and schedule"),
        Kind("monitor.retrain_trigger", RetrainTrigger, "An alert or drift signal wired to start retraining"),
        Kind("monitor.quality", QualityMonitor, "Prediction quality against joined labels, or label-free estimation"),
        Kind("monitor.slo", Slo, "Service-level objectives as code (OpenSLO, Sloth, cloud SLO resources)"),
    ),
    collect=collect,
    python_tokens=(
        *imports_of("evidently", "nannyml", "alibi_detect", "deepchecks", "frouros", "whylogs",
                    "tensorflow_data_validation", "sagemaker.model_monitor", "metaflow",
                    "airflow", "prefect", "dagster"),
        "ks_2samp", "jensenshannon", "wasserstein_distance", "chi2_contingency", "population_stability_index",
        "calculate_psi", "compute_psi", "dispatches", "create_dispatch", "ModelQualityMonitor", "DefaultModelMonitor",
        "ModelDeploymentMonitoringJob", "DriftDetectionConfig",
    ),
)
