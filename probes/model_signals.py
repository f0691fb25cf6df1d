"""Model signals: prediction logging, staleness and performance alerts, skew checks, slices, KPIs.

Covers RUBRIC §3.4 MO-e (prediction/input logging with request ids, app-level and platform data
capture), MO-m (staleness alerts), MO-j (training/serving skew checks), the per-slice and business
KPI half of MO-l (level 4.3) and MO-o (compute-performance regression alerts).

Alert rules are read from Prometheus rule files and ``PrometheusRule`` resources; an alert counts
as routed only when some Alertmanager config in the repository sends it (by its labels, through
the route tree) to a receiver with a channel. Alertmanager configs are found with the ops probe's
public helpers; ops keeps the generic ``ops.alert_rules`` kind, this probe reads what the
expressions *measure*.

Anti-gaming (RUBRIC §2.3): an alert without ``for:``, without a threshold, not routed or in a
rule file the repository's Prometheus does not load; a log call without the inputs, the
prediction or a request id; a capture config that is disabled or captures one side only; a skew
check whose reference is not the training set or that has no threshold; anything only in a
notebook: all are downgraded to ``mention`` with the reason. Prose, imports, dashboards and
commented-out YAML are never read as evidence.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Literal, Optional

from probes._ci_links import runs_by_path
from probes._prometheus import loaded, rule_file_globs, rule_groups
from scanner.facts.python import PyFile, imports_of
from scanner.facts.yamldoc import YList, YMap, dig, entry_span, span
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

_MAX_ITEMS = 100
_MAX_DEPTH = 12
_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")
_YAML = lazy(r"\.ya?ml$|\.rules$")

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------

Where = Literal["module", "pipeline", "notebook", "config"]


class PredictionLogging(Attributes):
    mechanism: Literal["app_log", "stream", "kserve_logger", "seldon_logger", "sagemaker_data_capture",
                       "azureml_data_collector", "databricks_inference_table", "vertex_request_logging"]
    handler: str  # the route/handler function, or the resource that captures
    inputs: bool
    outputs: bool
    request_id: bool
    destination: Optional[str] = None


class StalenessAlert(Attributes):
    source: Literal["prometheus", "prometheus_operator", "airflow_sla", "dagster_freshness"]
    name: str
    measure: Literal["age", "absent", "sla", "freshness"]
    metric: Optional[str] = None
    for_duration: Optional[str] = None
    routed: Optional[bool] = None  # None: no Alertmanager config (or DAG callback) to judge by
    loaded: Optional[bool] = None


class PerfAlert(Attributes):
    source: Literal["prometheus", "prometheus_operator"]
    name: str
    signal: Literal["latency", "error_rate", "gpu", "cpu", "memory"]
    threshold: Optional[float] = None
    for_duration: Optional[str] = None
    model_service: bool
    routed: Optional[bool] = None
    loaded: Optional[bool] = None


class SkewCheck(Attributes):
    tool: Literal["tfdv", "evidently", "whylogs", "vertex_monitoring", "sagemaker_model_monitor"]
    reference: Literal["training", "other", "unknown"]
    current: Literal["serving", "other", "unknown"]
    threshold: Optional[bool] = None  # None: the library decides by its own defaults (see monitor.drift)
    where: Where


class SlicedQuality(Attributes):
    method: Literal["groupby_metric", "tfma_slicing_specs"]
    slices: list[str]
    metrics: list[str]
    where: Where


class BusinessKpi(Attributes):
    metric: str
    how: Literal["tracker", "metrics", "alert"]
    where: Where


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _where(ctx: ProbeContext, pyfile: PyFile) -> str:
    if pyfile.notebook:
        return "notebook"
    return "pipeline" if runs_by_path(ctx).get(pyfile.path) else "module"


def _parse(ctx: ProbeContext, pyfile: PyFile) -> Optional[ast.Module]:
    """Our own parse of a module the index already accepted (function bodies are not indexed)."""
    if pyfile.notebook or not pyfile.parsed:
        return None
    try:
        return ast.parse(ctx.facts.text(pyfile.path) or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    else:
        return ""
    return ".".join(reversed(parts))


def _end(node: ast.AST) -> int:
    return getattr(node, "end_lineno", None) or getattr(node, "lineno", 1)


def _yaml_files(ctx: ProbeContext, *needles: str) -> Iterator[tuple[str, str, Optional[list[Any]]]]:
    for path in ctx.paths:
        if not _YAML.search(path):
            continue
        text = ctx.facts.text(path)
        if text is None or not any(n in text for n in needles):
            continue
        yield path, text, ctx.facts.yaml(path)


def _bool(value: Any) -> Optional[bool]:
    """YAML booleans, and the strings Azure ML and CloudFormation use for them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


# ============================================================================================
# MO-e: prediction and input logging
# ============================================================================================

_ROUTE_ATTRS = frozenset({"get", "post", "put", "patch", "route", "api_route", "websocket", "api"})
_CLIENT_ROOTS = frozenset({"requests", "httpx", "aiohttp", "client", "session"})
_PREDICT_CALL = lazy(r"(?:^|\.)(?:predict\w*|infer\w*|forecast\w*|classify|score|generate|embed\w*|"
                           r"model)$|\w\.run$")
_ID_NAME = lazy(r"request_?id|req_?id|correlation_?id|trace_?id|inference_?id|prediction_?id|event_?id|"
                      r"x-request-id|x-correlation-id|requestid|correlationid", re.I)
_OUTPUT_NAME = lazy(r"pred|prediction|score|proba|output|result|label|forecast|y_hat|yhat", re.I)
_INPUT_NAME = lazy(r"^(?:features?|inputs?|payload|body|instances?|data|x|record|items?|text|prompt|query|"
                         r"sample|rows?|df|request_data|model_input)$|features|inputs", re.I)
_NOT_INPUT_PARAMS = frozenset({"self", "cls", "request", "req", "response", "background_tasks", "db", "session",
                               "ctx", "context", "settings"})
_LOG_ATTRS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "msg"})
_SINK_ATTRS = frozenset({"send", "produce", "send_and_wait", "publish", "put_record", "put_records",
                         "send_message", "insert_rows_json"})
_SINK_RECEIVER = lazy(r"produc|publish|kinesis|firehose|kafka|pubsub|sqs|stream|queue|bus|topic|bigquery|bq",
                            re.I)
_SERVING_ROOTS = frozenset({"fastapi", "flask", "bentoml", "ray", "starlette", "litserve"})
_LABELS = ("inputs", "outputs", "request_id")


@dataclass
class _Sink:
    node: ast.Call
    labels: set[str]
    mechanism: str
    destination: Optional[str]


def _is_logger(func: ast.AST) -> bool:
    if not isinstance(func, ast.Attribute) or func.attr not in _LOG_ATTRS:
        return False
    receiver = _dotted(func.value).lower()
    return bool(receiver) and "log" in receiver and not receiver.startswith(("mlflow", "wandb", "self.log_"))


def _sink_of(call: ast.Call) -> Optional[tuple[str, Optional[str]]]:
    """(mechanism, destination) when ``call`` writes a record somewhere durable."""
    if _is_logger(call.func):
        return "app_log", None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _SINK_ATTRS and _SINK_RECEIVER.search(_dotted(func.value)):
        first = call.args[0] if call.args else None
        topic = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
        for kw in call.keywords:
            if kw.arg in ("topic", "StreamName", "DeliveryStreamName", "QueueUrl", "table") \
                    and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                topic = kw.value.value
        return "stream", topic
    return None


class _Taint:
    """Which of inputs/outputs/request id each local name of a handler carries."""

    def __init__(self, params: list[str]):
        self.names: dict[str, set[str]] = {}
        for name in params:
            if _ID_NAME.search(name):
                self.names[name] = {"request_id"}
            elif name not in _NOT_INPUT_PARAMS:
                self.names[name] = {"inputs"}

    def labels(self, node: Optional[ast.AST], depth: int = 0) -> set[str]:
        """Labels of an expression. A prediction call yields ``outputs`` only: what went into the
        model is not what came out of it."""
        found: set[str] = set()
        if node is None or depth > 50:
            return found
        if isinstance(node, ast.Name):
            return self.names.get(node.id, set()) | _name_labels(node.id)
        if isinstance(node, ast.Call):
            callee = _dotted(node.func)
            if _is_prediction(callee):
                return {"outputs"}
            if callee.endswith(("uuid4", "uuid1")):
                found.add("request_id")
            for kw in node.keywords:
                if kw.arg:
                    found |= _key_labels(kw.arg)
        elif isinstance(node, ast.Attribute) and _ID_NAME.search(node.attr):
            found.add("request_id")
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found |= _key_labels(key.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _ID_NAME.fullmatch(node.value):
            found.add("request_id")  # request.headers["X-Request-ID"]
        for child in ast.iter_child_nodes(node):
            found |= self.labels(child, depth + 1)
        return found

    def assign(self, targets: list[ast.AST], value: Optional[ast.AST]) -> None:
        labels = self.labels(value)
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    self.names[sub.id] = self.names.get(sub.id, set()) | labels


def _is_prediction(callee: str) -> bool:
    """``model.predict(x)``, ``self.model(x)``, ``session.run(...)`` (ONNX), ``pipe.generate``."""
    return bool(_PREDICT_CALL.search(callee)) and not callee.startswith(("asyncio.", "subprocess.", "uvicorn."))


def _name_labels(name: str) -> set[str]:
    if _ID_NAME.search(name):
        return {"request_id"}
    return set()


def _key_labels(key: str) -> set[str]:
    """A dict key or keyword name of a structured record: what the field holds."""
    if _ID_NAME.search(key):
        return {"request_id"}
    if _OUTPUT_NAME.search(key):
        return {"outputs"}
    if _INPUT_NAME.search(key):
        return {"inputs"}
    return set()


def _sink_labels(call: ast.Call, taint: _Taint) -> set[str]:
    """The labels of what a log call carries: argument names, record keys, f-string values.

    A log *message* ("predicted", "prediction done") is prose: plain string arguments are not
    read, only names, keyword names and dictionary keys."""
    labels: set[str] = set()
    for arg in call.args:
        labels |= taint.labels(arg)
    for kw in call.keywords:
        if kw.arg and kw.arg not in ("extra", "value", "data", "key", "Data", "Records", "json_rows"):
            labels |= _key_labels(kw.arg)
        labels |= taint.labels(kw.value)
    return labels


def _handlers(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Route handlers (FastAPI/Flask/BentoML decorators) and Ray Serve / BentoML class methods."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            decorators = [_dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
            if any(d.endswith(("serve.deployment", "bentoml.service")) or d in ("deployment", "service")
                   for d in decorators):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                            item.name == "__call__" or _PREDICT_CALL.search(item.name)):
                        yield f"{node.name}.{item.name}", item
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                name = _dotted(func)
                if isinstance(func, ast.Attribute) and func.attr in _ROUTE_ATTRS \
                        and name.split(".", 1)[0] not in _CLIENT_ROOTS:
                    yield node.name, node
                    break


def _helpers(tree: ast.Module) -> dict[str, list[ast.Call]]:
    """Module-level functions that contain a sink: ``log_prediction(...)`` helpers."""
    found: dict[str, list[ast.Call]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sinks = [c for c in ast.walk(node) if isinstance(c, ast.Call) and _sink_of(c)]
            if sinks:
                found[node.name] = sinks
    return found


def _handler_sinks(fn: ast.FunctionDef | ast.AsyncFunctionDef, helpers: dict[str, list[ast.Call]]) -> tuple[bool, list[_Sink]]:
    """(makes a prediction, sinks) of one handler, walking its statements in order."""
    params = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
    taint = _Taint(params)
    predicts = False
    sinks: list[_Sink] = []
    statements = sorted((n for n in ast.walk(fn) if isinstance(n, ast.stmt) and n is not fn),
                        key=lambda n: (n.lineno, n.col_offset))
    for stmt in statements[:5000]:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            taint.assign(targets, stmt.value)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            taint.assign([stmt.target], stmt.iter)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    taint.assign([item.optional_vars], item.context_expr)
        if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign, ast.Return, ast.AugAssign)):
            for call in (c for c in ast.walk(stmt) if isinstance(c, ast.Call)):
                callee = _dotted(call.func)
                if _is_prediction(callee) and not _sink_of(call):
                    predicts = True
                sink = _sink_of(call)
                if sink:
                    sinks.append(_Sink(call, _sink_labels(call, taint), *sink))
                    continue
                # a same-file helper, called directly or scheduled as a background task
                target = callee
                args: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
                if call.func and isinstance(call.func, ast.Attribute) and call.func.attr == "add_task" and call.args:
                    target, args = _dotted(call.args[0]), [*call.args[1:], *(k.value for k in call.keywords)]
                if target in helpers:
                    labels: set[str] = set()
                    for arg in args:
                        labels |= taint.labels(arg)
                    for kw in call.keywords:
                        labels |= _key_labels(kw.arg or "")
                    mechanism, destination = _sink_of(helpers[target][0]) or ("app_log", None)
                    sinks.append(_Sink(call, labels, mechanism, destination))
    return predicts, sinks


def _code_files(ctx: ProbeContext) -> list[tuple[str, PyFile, frozenset[str]]]:
    """(path, indexed file, top-level import roots) of every parsed file outside tests: each pass
    below starts from this list, computed once."""
    def build() -> list[tuple[str, PyFile, frozenset[str]]]:
        index = ctx.facts.python
        return [(path, index.files[path], frozenset(i.module.split(".", 1)[0] for i in index.files[path].imports))
                for path in sorted(index.files)
                if index.files[path].parsed and not _TEST_PATH.search(path)]
    return ctx.memo("model_signals.code_files", build)


def _app_logging(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, pyfile, roots in _code_files(ctx):
        if not roots & _SERVING_ROOTS:
            continue
        tree = _parse(ctx, pyfile)
        if tree is None:
            continue
        helpers = _helpers(tree)
        for name, fn in _handlers(tree):
            predicts, sinks = _handler_sinks(fn, helpers)
            if not predicts or not sinks:
                continue
            best = max(sinks, key=lambda s: (len(s.labels & set(_LABELS)), -s.node.lineno))
            missing = [label for label in _LABELS if label not in best.labels]
            reasons = {"inputs": "the log record carries no model inputs",
                       "outputs": "the log record carries no prediction",
                       "request_id": "the log record carries no request or correlation id"}
            downgrades = [reasons[m] for m in missing]
            attrs = PredictionLogging(mechanism=best.mechanism, handler=name,  # type: ignore[arg-type]
                                      inputs="inputs" in best.labels, outputs="outputs" in best.labels,
                                      request_id="request_id" in best.labels, destination=best.destination)
            yield ctx.evidence("monitor.prediction_logging", attrs, path=path,
                               lines=(best.node.lineno, _end(best.node)), subject=name,
                               strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# -- platform capture in Python (SageMaker, Vertex, Databricks SDK) --------------------------


def _capture_calls(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, pyfile, _roots in _code_files(ctx):
        for call in pyfile.calls:
            if call.attr == "DataCaptureConfig" and call.name.startswith("sagemaker"):
                enabled = call.kwarg("enable_capture", call.literal_args[0] if call.literal_args else None)
                options = _capture_options(ctx, pyfile, call.line)
                inputs, outputs = ("REQUEST" in options, "RESPONSE" in options) if options else (True, True)
                downgrades = [] if enabled is True else ["enable_capture is not True"]
                if not any("data_capture_config" in c.keywords for c in pyfile.calls):
                    downgrades.append("DataCaptureConfig is built but no deploy()/update_endpoint() receives it")
                mechanism, handler = "sagemaker_data_capture", "DataCaptureConfig"
                destination = call.kwarg("destination_s3_uri")
            elif call.attr == "AutoCaptureConfigInput" and call.name.startswith("databricks"):
                enabled = call.kwarg("enabled", True)
                inputs = outputs = True
                downgrades = [] if enabled is not False else ["auto capture is disabled (enabled=False)"]
                mechanism, handler = "databricks_inference_table", "AutoCaptureConfigInput"
                destination = call.kwarg("table_name_prefix")
            elif "enable_request_response_logging" in call.keywords and call.name.startswith("google"):
                enabled = call.kwarg("enable_request_response_logging")
                inputs = outputs = True
                downgrades = [] if enabled is True else ["enable_request_response_logging is not True"]
                mechanism, handler = "vertex_request_logging", call.attr
                destination = call.kwarg("request_response_logging_bq_destination_table")
            else:
                continue
            if not inputs:
                downgrades.append("captures responses only, not the inputs")
            if not outputs:
                downgrades.append("captures requests only, not the predictions")
            if pyfile.notebook:
                downgrades.append("capture configured only in a notebook")
            attrs = PredictionLogging(mechanism=mechanism, handler=handler, inputs=inputs, outputs=outputs,  # type: ignore[arg-type]
                                      request_id=True, destination=destination if isinstance(destination, str) else None)
            yield ctx.evidence("monitor.prediction_logging", attrs, path=path, lines=(call.line, call.end_line),
                               subject=f"{mechanism}:{call.line}",
                               strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _capture_options(ctx: ProbeContext, pyfile: PyFile, line: int) -> list[str]:
    """``capture_options=["REQUEST"]`` of the DataCaptureConfig call at ``line`` (not in the index)."""
    tree = _parse(ctx, pyfile)
    for node in ast.walk(tree) if tree is not None else []:
        if isinstance(node, ast.Call) and node.lineno == line:
            for kw in node.keywords:
                if kw.arg == "capture_options" and isinstance(kw.value, (ast.List, ast.Tuple)):
                    return [str(e.value).upper() for e in kw.value.elts if isinstance(e, ast.Constant)]
    return []


# -- platform capture in YAML (KServe, Seldon, SageMaker CloudFormation, Databricks, Azure ML) --


def _logger_evidence(ctx: ProbeContext, path: str, parent: YMap, mechanism: str, name: str) -> Evidence:
    """A KServe/Seldon ``logger:`` block (cited from its key): CloudEvents carry a request id."""
    logger = parent["logger"]
    mode = str(logger.get("mode") or "all").lower()
    url = logger.get("url")
    downgrades = []
    if mode == "request":
        downgrades.append("logger mode is request: predictions are not logged")
    elif mode == "response":
        downgrades.append("logger mode is response: inputs are not logged")
    if not url:
        downgrades.append("logger has no url: nothing receives the records")
    attrs = PredictionLogging(mechanism=mechanism, handler=name, inputs=mode in ("all", "request"),  # type: ignore[arg-type]
                              outputs=mode in ("all", "response"), request_id=True,
                              destination=str(url) if url else None)
    return ctx.evidence("monitor.prediction_logging", attrs, path=path, lines=entry_span(parent, "logger"), subject=name,
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _capture_yaml(ctx: ProbeContext) -> Iterator[Evidence]:
    needles = ("logger", "DataCaptureConfig", "auto_capture_config", "data_collector")
    for path, text, docs in _yaml_files(ctx, *needles):
        if docs is None:
            if re.search(r"^\s*(?:logger|DataCaptureConfig|auto_capture_config|data_collector)\s*:", text, re.M) \
                    and "{{" not in text:
                yield ctx.unknown("monitor.prediction_logging", ctx.facts.problems.get(path, "malformed YAML"), path=path)
            continue
        for doc in docs:
            if not isinstance(doc, YMap):
                continue
            api, kind = str(doc.get("apiVersion", "")), doc.get("kind")
            name = str(dig(doc, "metadata", "name") or "")
            if kind == "InferenceService" and api.startswith("serving.kserve.io"):
                for component in ("predictor", "transformer", "explainer"):
                    spec = dig(doc, "spec", component)
                    if isinstance(spec, YMap) and isinstance(spec.get("logger"), YMap):
                        yield _logger_evidence(ctx, path, spec, "kserve_logger", f"{name}/{component}")
            elif kind == "SeldonDeployment" and api.startswith("machinelearning.seldon.io"):
                predictors = dig(doc, "spec", "predictors")
                for predictor in predictors if isinstance(predictors, list) else []:
                    yield from _seldon_graph(ctx, path, dig(predictor, "graph"), name, 0)
            yield from _cloudformation_capture(ctx, path, doc)
            yield from _databricks_capture(ctx, path, doc)
            collector = doc.get("data_collector")
            if isinstance(collector, YMap):
                yield _azure_collector(ctx, path, doc, collector)


def _seldon_graph(ctx: ProbeContext, path: str, node: Any, name: str, depth: int) -> Iterator[Evidence]:
    if not isinstance(node, YMap) or depth > _MAX_DEPTH:
        return
    if isinstance(node.get("logger"), YMap):
        yield _logger_evidence(ctx, path, node, "seldon_logger", f"{name}/{node.get('name') or ''}")
    for child in node.get("children") or []:
        yield from _seldon_graph(ctx, path, child, name, depth + 1)


def _cloudformation_capture(ctx: ProbeContext, path: str, doc: YMap) -> Iterator[Evidence]:
    resources = doc.get("Resources")
    for name, res in resources.items() if isinstance(resources, YMap) else []:
        if not isinstance(res, YMap) or res.get("Type") != "AWS::SageMaker::EndpointConfig":
            continue
        capture = dig(res, "Properties", "DataCaptureConfig")
        if not isinstance(capture, YMap):
            continue
        options = capture.get("CaptureOptions")
        modes = {str(dig(o, "CaptureMode")).lower() for o in options} if isinstance(options, list) else {"input", "output"}
        downgrades = [] if _bool(capture.get("EnableCapture")) else ["EnableCapture is not true"]
        if "input" not in modes:
            downgrades.append("captures responses only, not the inputs")
        if "output" not in modes:
            downgrades.append("captures requests only, not the predictions")
        dest = capture.get("DestinationS3Uri")
        attrs = PredictionLogging(mechanism="sagemaker_data_capture", handler=str(name), inputs="input" in modes,
                                  outputs="output" in modes, request_id=True,
                                  destination=dest if isinstance(dest, str) else None)
        lines = entry_span(dig(res, "Properties"), "DataCaptureConfig")
        yield ctx.evidence("monitor.prediction_logging", attrs, path=path, lines=lines, subject=str(name),
                           strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _databricks_capture(ctx: ProbeContext, path: str, doc: YMap) -> Iterator[Evidence]:
    endpoints = dig(doc, "resources", "model_serving_endpoints")
    for name, endpoint in endpoints.items() if isinstance(endpoints, YMap) else []:
        for parent, key in ((dig(endpoint, "config"), "auto_capture_config"), (dig(endpoint, "ai_gateway"), "inference_table_config")):
            capture = dig(parent, key)
            if not isinstance(capture, YMap):
                continue
            downgrades = ["inference table capture is disabled"] if _bool(capture.get("enabled")) is False else []
            table = ".".join(str(capture[k]) for k in ("catalog_name", "schema_name", "table_name_prefix") if capture.get(k))
            attrs = PredictionLogging(mechanism="databricks_inference_table", handler=str(name), inputs=True,
                                      outputs=True, request_id=True, destination=table or None)
            yield ctx.evidence("monitor.prediction_logging", attrs, path=path, lines=entry_span(parent, key), subject=str(name),
                               strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _azure_collector(ctx: ProbeContext, path: str, doc: YMap, collector: YMap) -> Evidence:
    collections = collector.get("collections") if isinstance(collector.get("collections"), dict) else {}
    inputs = _bool(dig(collections, "model_inputs", "enabled")) is True
    outputs = _bool(dig(collections, "model_outputs", "enabled")) is True
    downgrades = []
    if not inputs:
        downgrades.append("model_inputs collection is not enabled")
    if not outputs:
        downgrades.append("model_outputs collection is not enabled")
    attrs = PredictionLogging(mechanism="azureml_data_collector", handler=str(doc.get("name") or ""), inputs=inputs,
                              outputs=outputs, request_id=True)
    return ctx.evidence("monitor.prediction_logging", attrs, path=path, lines=entry_span(doc, "data_collector"),
                        subject=str(doc.get("name") or ""),
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# ============================================================================================
# alert rules: staleness (MO-m), compute performance (MO-o), business KPI alerts (MO-l)
# ============================================================================================

_ALERT_LINE = lazy(r"^\s*-?\s*alert\s*:", re.M)
_METRIC = lazy(r"[a-zA-Z_:][\w:]*")
_PROMQL_WORDS = frozenset({
    "time", "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "by", "without", "on", "ignoring",
    "and", "or", "unless", "bool", "histogram_quantile", "absent", "absent_over_time", "max_over_time",
    "min_over_time", "avg_over_time", "le", "group_left", "group_right", "offset", "topk", "bottomk", "delta",
    "deriv", "clamp_min", "clamp_max", "abs", "vector", "scalar", "quantile", "label_replace", "timestamp",
})
_TIMESTAMP_METRIC = lazy(
    r"last_?(?:trained|training|train|retrain\w*|success\w*|run|update\w*|refresh\w*|completion\w*|deploy\w*)"
    r"|(?:model|data|dataset|feature|training|pipeline|job|batch)\w*_(?:timestamp|created|trained|updated|time)\w*"
    r"|trained_at|created_timestamp|freshness|model_age|data_age|_age_seconds", re.I)
_INFRA_METRIC = lazy(r"^(?:up|kube_\w+|node_\w+|container_\w+|process_\w+|go_\w+|prometheus_\w+)$")
_ABSENT = lazy(r"absent_over_time\s*\(\s*([a-zA-Z_:][\w:]*)")
_LATENCY = lazy(r"duration|latency|response_time|_seconds_bucket|request_time", re.I)
_ERRORS = lazy(r"error|fail|exception", re.I)
_STATUS_5XX = lazy(r"""(?:status|code|status_code|response_code)\s*=~?\s*["']5""")
_GPU = lazy(r"DCGM_FI_DEV_\w+|nvidia_gpu\w*|gpu_util\w*|gpu_memory\w*", re.I)
_CPU = lazy(r"container_cpu_usage_seconds_total|process_cpu_seconds_total|node_cpu_seconds_total|cpu_usage\w*|cpu_utili[sz]ation\w*", re.I)
_MEMORY = lazy(r"container_memory_working_set_bytes|container_memory_rss|process_resident_memory_bytes"
                     r"|memory_usage\w*", re.I)
_COMPARISON = lazy(r"(?:>=|<=|==|!=|>|<)\s*(?:bool\s+)?(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)")
_MODEL_SERVICE = lazy(r"model|predict|inferenc|serving|kserve|seldon|triton|torchserve|bento|mlserver|scor|"
                            r"recommend|embedding|classif|forecast|rank|llm|\bml\b|ml[-_]", re.I)
_KPI = lazy(r"revenue|conversion|churn_rate|churned_(?:customers|users|accounts)|click_?through|(?:^|_)ctr(?:_|$)"
                  r"|retention_rate|gmv|bookings|order_value|(?:^|_)aov(?:_|$)|profit|uplift|arpu|(?:^|_)ltv(?:_|$)"
                  r"|lifetime_value|signup_rate|approval_rate|acceptance_rate|fraud_loss|chargeback", re.I)
# model metrics about a business target (`conversion_auc`) and service plumbing are not KPIs
_MODEL_METRIC = lazy(r"auc|f1|precision|recall|accuracy|loss|rmse|mae|mse|mape|r2|logloss|brier"
                           r"|duration|latency|requests|timestamp|_seconds|_bytes|errors", re.I)


def _kpi_name(name: str) -> bool:
    """A business metric, not a model metric about a business target (``churn_auc``)."""
    return bool(_KPI.search(name)) and not _MODEL_METRIC.search(name)


@dataclass
class _Rule:
    path: str
    source: str  # prometheus | prometheus_operator
    group: str
    name: str
    expr: str
    for_duration: Optional[str]
    labels: dict[str, str]
    text: str  # name, group, expr, labels and annotations, for "is this about the model service"
    lines: tuple[int, int]
    loaded: Optional[bool]


def _alert_rules(ctx: ProbeContext) -> Iterator[_Rule | Evidence]:
    """Every alerting rule of every rule file; unknowns for malformed files that look like rules."""
    def build() -> list[_Rule | Evidence]:
        out: list[_Rule | Evidence] = []
        configs = rule_file_globs((path, docs) for path, _, docs in _yaml_files(ctx, "rule_files"))
        for path, text, docs in _yaml_files(ctx, "alert"):
            if docs is None:
                if _ALERT_LINE.search(text) and "{{" not in text:
                    reason = ctx.facts.problems.get(path, "malformed YAML")
                    out += [ctx.unknown(k, reason, path=path) for k in ("monitor.staleness_alert", "monitor.perf_alert")]
                continue
            for doc in docs:
                found = rule_groups(doc)
                if found is None:
                    continue
                groups, source = found.groups, found.source
                is_loaded = loaded(path, configs) if source == "prometheus" else None
                for group in groups if isinstance(groups, list) else []:
                    rules = dig(group, "rules")
                    for index, rule in enumerate(rules if isinstance(rules, list) else []):
                        if not isinstance(rule, YMap) or not rule.get("alert"):
                            continue
                        labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()} \
                            if isinstance(rule.get("labels"), dict) else {}
                        annotations = rule.get("annotations") if isinstance(rule.get("annotations"), dict) else {}
                        expr = str(rule.get("expr") or "")
                        text = " ".join([str(rule["alert"]), str(dig(group, "name") or ""), expr,
                                         *labels.values(), *(str(v) for v in annotations.values())])
                        duration = rule.get("for")
                        lines = rules.item_span(index) if isinstance(rules, YList) else span(rule)
                        out.append(_Rule(path, source, str(dig(group, "name") or ""), str(rule["alert"]), expr,
                                         str(duration) if duration not in (None, "", "0s", 0) else None,
                                         labels, text, lines, is_loaded))
        return out

    yield from ctx.memo("alert_rules", build)


# -- Alertmanager: where does an alert with these labels land? ---------------------------------


def _matchers(route: dict) -> list[tuple[str, str, str]]:
    """(label, op, value) of a route: ``match``, ``match_re``, ``matchers`` (strings or CR objects)."""
    found: list[tuple[str, str, str]] = []
    for key, op in (("match", "="), ("match_re", "=~")):
        if isinstance(route.get(key), dict):
            found += [(str(k), op, str(v)) for k, v in route[key].items()]
    for item in route.get("matchers") or []:
        if isinstance(item, str):
            m = re.match(r"""\s*([\w.]+)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$""", item)
            if m:
                found.append((m.group(1), m.group(2), m.group(3)))
        elif isinstance(item, dict) and item.get("name"):
            op = str(item.get("matchType") or ("=~" if item.get("regex") else "="))
            found.append((str(item["name"]), op, str(item.get("value") or "")))
    return found


def _matches(route: dict, labels: dict[str, str]) -> bool:
    for label, op, value in _matchers(route):
        actual = labels.get(label, "")
        try:
            hit = actual == value if op in ("=", "!=") else re.fullmatch(value, actual) is not None
        except re.error:
            return False
        if hit != (op in ("=", "=~")):
            return False
    return True


def _landing(route: Any, labels: dict[str, str], inherited: str = "", depth: int = 0) -> set[str]:
    """Receivers an alert reaches: the deepest matching routes (first match, unless ``continue``)."""
    if not isinstance(route, dict) or depth > _MAX_DEPTH:
        return set()
    receiver = str(route.get("receiver") or inherited)
    found: set[str] = set()
    for child in route.get("routes") or []:
        if isinstance(child, dict) and _matches(child, labels):
            found |= _landing(child, labels, receiver, depth + 1)
            if not child.get("continue"):
                break
    return found or ({receiver} if receiver else set())


def _channels(receiver: dict) -> bool:
    return any(re.fullmatch(r"\w+?(?:_configs|Configs)", str(k)) and isinstance(v, list) and v
               for k, v in receiver.items())


def _alertmanagers(ctx: ProbeContext) -> list[tuple[Any, dict[str, bool]]]:
    """(route, receiver name -> has a channel) of every Alertmanager config in the repository."""
    from probes.ops import find_alertmanager  # the ops probe's reading of Alertmanager shapes

    def build() -> list[tuple[Any, dict[str, bool]]]:
        found = []
        for _, _, docs in _yaml_files(ctx, "receivers"):
            for doc in docs or []:
                root = doc.get("spec") if isinstance(doc, YMap) and doc.get("kind") == "AlertmanagerConfig" else doc
                for config in find_alertmanager(root):
                    receivers = {str(r.get("name")): bool(_channels(r)) for r in config["receivers"] if isinstance(r, dict)}
                    found.append((config["route"], receivers))
        return found

    return ctx.memo("alertmanagers", build)


def _routed(ctx: ProbeContext, rule: _Rule) -> Optional[bool]:
    configs = _alertmanagers(ctx)
    if not configs:
        return None
    labels = {**rule.labels, "alertname": rule.name}
    return any(receivers.get(name) for route, receivers in configs for name in _landing(route, labels))


def _alert_reasons(rule: _Rule, routed: Optional[bool]) -> list[str]:
    reasons = []
    if rule.for_duration is None:
        reasons.append("alert has no `for:`: it fires on any single evaluation")
    if routed is None:
        reasons.append("no Alertmanager config in the repository routes it")
    elif not routed:
        reasons.append("the alert's route ends at a receiver with no channel")
    if rule.loaded is False:
        reasons.append("rule file is not listed in rule_files of the repository's Prometheus config")
    return reasons


def _metrics_in(expr: str) -> list[str]:
    cleaned = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"|'[^']*'", " ", expr)
    cleaned = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", cleaned)
    return [m for m in _METRIC.findall(cleaned) if m not in _PROMQL_WORDS and not re.fullmatch(r"\d\w*", m)]


def _staleness_of(expr: str) -> Optional[tuple[str, Optional[str]]]:
    """(measure, metric) when the expression measures how old a model, data set or run is."""
    metrics = _metrics_in(expr)
    if re.search(r"time\s*\(\s*\)\s*-", expr):
        stamp = next((m for m in metrics if _TIMESTAMP_METRIC.search(m) and not _INFRA_METRIC.match(m)), None)
        if stamp:
            return "age", stamp
    aged = next((m for m in metrics if re.search(r"model_age|data_age|_age_seconds|freshness", m, re.I)), None)
    if aged and _COMPARISON.search(expr):
        return "age", aged
    absent = _ABSENT.search(expr)
    if absent and not _INFRA_METRIC.match(absent.group(1)):
        return "absent", absent.group(1)
    return None


def _perf_of(expr: str) -> Optional[str]:
    metrics = _metrics_in(expr)
    if "histogram_quantile" in expr and any(_LATENCY.search(m) for m in metrics):
        return "latency"
    if re.search(r"""quantile\s*=\s*["']0?\.9""", expr) and any(_LATENCY.search(m) for m in metrics):
        return "latency"
    if _STATUS_5XX.search(expr) or any(_ERRORS.search(m) for m in metrics):
        return "error_rate"
    if any(_GPU.search(m) for m in metrics):
        return "gpu"
    if any(_CPU.search(m) for m in metrics):
        return "cpu"
    if any(_MEMORY.search(m) for m in metrics):
        return "memory"
    if any(_LATENCY.search(m) for m in metrics) and re.search(r"_sum\b", expr) and re.search(r"_count\b", expr):
        return "latency"  # average latency: rate(x_sum) / rate(x_count)
    return None


def _threshold(expr: str) -> Optional[float]:
    match = _COMPARISON.search(expr)
    try:
        return float(match.group(1)) if match else None
    except ValueError:
        return None


def _prometheus_alerts(ctx: ProbeContext) -> Iterator[Evidence]:
    for item in _alert_rules(ctx):
        if isinstance(item, Evidence):
            yield item
            continue
        rule = item
        stale = _staleness_of(rule.expr)
        perf = _perf_of(rule.expr) if stale is None else None
        kpi = next((m for m in _metrics_in(rule.expr) if _kpi_name(m)), None)
        if stale is None and perf is None and kpi is None:
            continue
        routed = _routed(ctx, rule)
        reasons = _alert_reasons(rule, routed)
        subject = f"{rule.group}/{rule.name}"
        if stale is not None:
            attrs = StalenessAlert(source=rule.source, name=rule.name, measure=stale[0], metric=stale[1],  # type: ignore[arg-type]
                                   for_duration=rule.for_duration, routed=routed, loaded=rule.loaded)
            yield ctx.evidence("monitor.staleness_alert", attrs, path=rule.path, lines=rule.lines, subject=subject,
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)
        if perf is not None:
            threshold = _threshold(rule.expr)
            model_service = bool(_MODEL_SERVICE.search(rule.text))
            perf_reasons = list(reasons)
            if threshold is None:
                perf_reasons.append("expression compares with no numeric threshold")
            if not model_service:
                perf_reasons.append("nothing ties the alert to the model service (name, labels, expression)")
            attrs_p = PerfAlert(source=rule.source, name=rule.name, signal=perf, threshold=threshold,  # type: ignore[arg-type]
                                for_duration=rule.for_duration, model_service=model_service, routed=routed,
                                loaded=rule.loaded)
            yield ctx.evidence("monitor.perf_alert", attrs_p, path=rule.path, lines=rule.lines, subject=subject,
                               strength=Strength.mention if perf_reasons else Strength.configured,
                               downgrades=perf_reasons)
        if kpi is not None:
            attrs_k = BusinessKpi(metric=kpi, how="alert", where="config")
            yield ctx.evidence("monitor.business_kpi", attrs_k, path=rule.path, lines=rule.lines, subject=subject,
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


# -- orchestrator freshness: Airflow SLAs, Dagster freshness checks/policies ------------------

_SLA = lazy(r"""["']?\bsla["']?\s*[:=]\s*(?!None\b)\S""")
_SLA_ROUTE = lazy(r"""\bsla_miss_callback\s*=\s*(?!None\b)\S|["']?\bemail["']?\s*[:=]\s*(?!None\b|\[\s*\])\S""")
_NO_SCHEDULE = lazy(r"""\bschedule(?:_interval)?\s*=\s*None\b""")
_TRAINING = lazy(r"train|retrain|\bfit\b|model", re.I)
_FRESHNESS_CHECKS = frozenset({"build_last_update_freshness_checks", "build_time_partition_freshness_checks"})


def _code_lines(ctx: ProbeContext, path: str) -> list[str]:
    """Lines without their ``#`` comments: a commented-out ``sla=`` is not an SLA."""
    return [line.split("#", 1)[0] for line in ctx.facts.lines(path) or []]


def _orchestrator_freshness(ctx: ProbeContext) -> Iterator[Evidence]:
    for _path, pyfile, roots in _code_files(ctx):
        if "airflow" in roots:
            yield from _airflow_sla(ctx, pyfile)
        if "dagster" in roots:
            yield from _dagster_freshness(ctx, pyfile)


def _airflow_sla(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    lines = _code_lines(ctx, pyfile.path)
    code = "\n".join(lines)
    hit = next((n for n, line in enumerate(lines, 1) if _SLA.search(line)), None)
    if hit is None:
        return
    dag = next((c for c in pyfile.calls if c.attr in ("DAG", "dag") and c.name.startswith("airflow")), None)
    dag_id = (dag.kwarg("dag_id") or (dag.literal_args[0] if dag and dag.literal_args else None)) if dag else None
    name = dag_id if isinstance(dag_id, str) else posixpath.splitext(posixpath.basename(pyfile.path))[0]
    routed = bool(_SLA_ROUTE.search(code))
    reasons = [] if routed else ["SLA misses have no sla_miss_callback or email: recorded in the UI only"]
    if not _TRAINING.search(name) and not _TRAINING.search(code):
        reasons.append("the SLA is not on a training DAG")
    if _NO_SCHEDULE.search(code):
        reasons.append("the DAG has no schedule (schedule=None): SLAs are only checked for scheduled runs")
    if pyfile.notebook:
        reasons.append("only in a notebook")
    attrs = StalenessAlert(source="airflow_sla", name=name, measure="sla", routed=routed)
    yield ctx.evidence("monitor.staleness_alert", attrs, path=pyfile.path, lines=(hit, hit), subject=f"airflow:{name}",
                       strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def _dagster_freshness(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    calls = [c for c in pyfile.calls if c.name.startswith("dagster")]
    checks = [c for c in calls if c.attr in _FRESHNESS_CHECKS]
    policies = [c for c in calls if c.attr == "FreshnessPolicy"]
    text = ctx.facts.text(pyfile.path) or ""
    training = bool(_TRAINING.search(text))
    sensor = any(c.attr == "build_sensor_for_freshness_checks" for c in calls)
    for call in checks:
        reasons = [] if sensor else ["freshness checks are never evaluated: no build_sensor_for_freshness_checks"]
        if not training:
            reasons.append("the freshness check is not on a training asset")
        attrs = StalenessAlert(source="dagster_freshness", name=call.attr, measure="freshness", routed=sensor)
        yield ctx.evidence("monitor.staleness_alert", attrs, path=pyfile.path, lines=(call.line, call.end_line),
                           subject=f"dagster:{call.line}",
                           strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)
    for call in policies:
        used = any("freshness_policy" in c.keywords for c in pyfile.calls) or re.search(r"\bfreshness_policy\s*=", text)
        reasons = [] if used else ["FreshnessPolicy is built but attached to no asset"]
        if not training:
            reasons.append("the freshness policy is not on a training asset")
        attrs = StalenessAlert(source="dagster_freshness", name="FreshnessPolicy", measure="freshness")
        yield ctx.evidence("monitor.staleness_alert", attrs, path=pyfile.path, lines=(call.line, call.end_line),
                           subject=f"dagster:{call.line}",
                           strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


# ============================================================================================
# MO-j: training/serving skew
# ============================================================================================

_TRAIN_DATA = lazy(r"train", re.I)
_SERVING_DATA = lazy(r"serv|prod|online|live|inference|request|logged|captur|traffic|predictions?_log", re.I)


def _role(text: str, wanted: re.Pattern[str], other: re.Pattern[str]) -> str:
    if wanted.search(text):
        return "training" if wanted is _TRAIN_DATA else "serving"
    return "other" if other.search(text) else "unknown"


class _Origins:
    """Where a module's names come from: ``ref = pd.read_parquet("data/train.parquet")``."""

    def __init__(self, tree: ast.Module):
        self.sources: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.sources.setdefault(target.id, []).append(node.value)

    def describe(self, node: Optional[ast.AST], depth: int = 0) -> str:
        """The expression's text plus, up to two assignments back, what its names came from."""
        if node is None:
            return ""
        parts = [ast.unparse(node)[:400]]
        if depth < 2:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    parts += [self.describe(value, depth + 1) for value in self.sources.get(sub.id, [])[:4]]
        return " ".join(parts)


def _kw(node: ast.Call, *names: str) -> Optional[ast.AST]:
    for kw in node.keywords:
        if kw.arg in names:
            return kw.value
    return None


_SKEW_CALLS = frozenset({"validate_statistics", "run", "calculate_drift_scores", "summary_drift_report",
                         "SkewDetectionConfig", "suggest_baseline"})


def _skew(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, pyfile, roots in _code_files(ctx):
        if not roots & {"tensorflow_data_validation", "evidently", "whylogs", "google", "sagemaker"}:
            continue
        if pyfile.notebook:
            yield from _notebook_skew(ctx, pyfile)
            continue
        if not any(c.attr in _SKEW_CALLS for c in pyfile.calls):
            continue  # the index already knows every call: parse only files that can hold one
        tree = _parse(ctx, pyfile)
        if tree is None:
            continue
        origins = _Origins(tree)
        text = ctx.facts.text(path) or ""
        where = _where(ctx, pyfile)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found = _skew_call(node, origins, roots, text)
                if found is not None:
                    yield _skew_evidence(ctx, path, node, where, *found)


def _skew_call(node: ast.Call, origins: _Origins, roots: frozenset[str],
               text: str) -> Optional[tuple[str, str, str, Optional[bool], list[str]]]:
    """(tool, reference, current, threshold, reasons) for a call that compares data sets."""
    callee = _dotted(node.func)
    attr = callee.rsplit(".", 1)[-1]
    if attr == "validate_statistics" and "tensorflow_data_validation" in roots:
        serving = _kw(node, "serving_statistics")
        if serving is None:
            return None  # schema validation or drift against previous spans, not skew
        reference = origins.describe(_kw(node, "statistics") or (node.args[0] if node.args else None))
        threshold = "skew_comparator" in text
        reasons = [] if threshold else ["no skew_comparator threshold is set: TFDV reports no skew without one"]
        return ("tfdv", _role(reference, _TRAIN_DATA, _SERVING_DATA),
                _role(origins.describe(serving), _SERVING_DATA, _TRAIN_DATA), threshold, reasons)
    if attr == "run" and "evidently" in roots and _kw(node, "reference_data") is not None:
        return _compare("evidently", origins.describe(_kw(node, "reference_data")),
                        origins.describe(_kw(node, "current_data")))
    if attr in ("calculate_drift_scores", "summary_drift_report") and "whylogs" in roots:
        reference = _kw(node, "reference_view") or (node.args[1] if len(node.args) > 1 else None)
        target = _kw(node, "target_view") or (node.args[0] if node.args else None)
        return _compare("whylogs", origins.describe(reference), origins.describe(target))
    if attr == "SkewDetectionConfig" and "google" in roots:
        limits = _kw(node, "skew_thresholds")
        source = origins.describe(_kw(node, "data_source"))
        reasons = [] if limits is not None else ["no skew_thresholds: Vertex applies its default"]
        return ("vertex_monitoring", _role(source, _TRAIN_DATA, _SERVING_DATA), "serving", limits is not None, reasons)
    if attr == "suggest_baseline" and "sagemaker" in roots:
        baseline = origins.describe(_kw(node, "baseline_dataset"))
        scheduled = "create_monitoring_schedule" in text
        reasons = [] if scheduled else ["baseline computed but no monitoring schedule compares endpoint traffic with it"]
        return ("sagemaker_model_monitor", _role(baseline, _TRAIN_DATA, _SERVING_DATA),
                "serving" if scheduled else "unknown", True, reasons)
    return None


def _compare(tool: str, reference: str, current: str) -> tuple[str, str, str, Optional[bool], list[str]]:
    """Evidently/whylogs: thresholds are the drift probe's business (monitor.drift), not judged here."""
    return (tool, _role(reference, _TRAIN_DATA, _SERVING_DATA), _role(current, _SERVING_DATA, _TRAIN_DATA), None, [])


def _skew_evidence(ctx: ProbeContext, path: str, node: ast.Call, where: str, tool: str, reference: str,
                   current: str, threshold: Optional[bool], reasons: list[str]) -> Evidence:
    reasons = list(reasons)
    if reference != "training":
        reasons.append("the reference is not recognisably the training set")
    if current != "serving":
        reasons.append("the compared data is not recognisably serving traffic or logs")
    attrs = SkewCheck(tool=tool, reference=reference, current=current, threshold=threshold, where=where)  # type: ignore[arg-type]
    return ctx.evidence("monitor.skew_check", attrs, path=path, lines=(node.lineno, _end(node)),
                        subject=f"{tool}:{node.lineno}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def _notebook_skew(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    for call in pyfile.calls:
        if call.attr == "validate_statistics" and "serving_statistics" in call.keywords:
            attrs = SkewCheck(tool="tfdv", reference="unknown", current="serving", threshold=False, where="notebook")
            yield ctx.evidence("monitor.skew_check", attrs, path=pyfile.path, lines=(call.line, call.end_line),
                               subject=f"tfdv:{call.line}", strength=Strength.mention,
                               downgrades=["skew check only in a notebook"])


# ============================================================================================
# MO-l (level 4.3): quality per slice, business KPIs
# ============================================================================================

_QUALITY_FN = lazy(r"(?:^|\.)(?:\w+_score|accuracy\w*|precision\w*|recall\w*|f1\w*|\w*auc\w*|roc_\w+|"
                         r"mean_absolute\w*|mean_squared\w*|root_mean\w*|rmse|mae|mape|log_loss|brier\w*|"
                         r"balanced_accuracy\w*)$", re.I)
_TFMA_TEXT = lazy(r"slicing_specs\s*\{[^}]*feature_keys\s*:\s*[\"']([\w.-]+)[\"']", re.S)


def _quality_calls(node: ast.AST) -> list[str]:
    names = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _QUALITY_FN.search(_dotted(sub.func)):
            names.append(_dotted(sub.func).rsplit(".", 1)[-1])
        elif isinstance(sub, (ast.Name, ast.Attribute)) and _QUALITY_FN.search(_dotted(sub)) \
                and not isinstance(getattr(sub, "ctx", None), ast.Store):
            names.append(_dotted(sub).rsplit(".", 1)[-1])
    return names


def _groupby_keys(call: ast.Call) -> list[str]:
    keys: list[str] = []
    for arg in [*call.args[:1], *(k.value for k in call.keywords if k.arg == "by")]:
        elts = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
        keys += [str(e.value) for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return keys


def _groupbys(tree: ast.Module) -> Iterator[tuple[ast.AST, list[str], list[str]]]:
    """(node, slice keys, metrics): ``df.groupby(k).apply(lambda g: f1_score(...))`` and
    ``for segment, g in df.groupby(k): ... roc_auc_score(g.y, g.p)``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("apply", "agg", "aggregate") and isinstance(node.func.value, ast.Call):
            inner = node.func.value
            while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr != "groupby":
                inner = inner.func.value if isinstance(inner.func.value, ast.Call) else None  # type: ignore[assignment]
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "groupby":
                metrics = [m for a in [*node.args, *(k.value for k in node.keywords)] for m in _quality_calls(a)]
                if metrics:
                    yield node, _groupby_keys(inner), metrics
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.iter, ast.Call) \
                and isinstance(node.iter.func, ast.Attribute) and node.iter.func.attr == "groupby":
            metrics = [m for stmt in node.body for m in _quality_calls(stmt)]
            if metrics:
                yield node, _groupby_keys(node.iter), metrics


def _sliced_quality(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, pyfile, _roots in _code_files(ctx):
        if not pyfile.imports_module("sklearn"):
            continue
        if pyfile.notebook:
            if any(c.attr == "groupby" for c in pyfile.calls) and any(_QUALITY_FN.search(c.name) for c in pyfile.calls):
                first = next(c for c in pyfile.calls if c.attr == "groupby")
                attrs = SlicedQuality(method="groupby_metric", slices=[], metrics=[], where="notebook")
                yield ctx.evidence("monitor.sliced_quality", attrs, path=path, lines=(first.line, first.end_line),
                                   subject="notebook", strength=Strength.mention,
                                   downgrades=["per-slice metrics only in a notebook"])
            continue
        if not any(c.attr == "groupby" for c in pyfile.calls):
            continue  # no groupby call in the index: nothing to slice by, no need to parse
        tree = _parse(ctx, pyfile)
        if tree is None:
            continue
        where = _where(ctx, pyfile)
        for node, keys, metrics in _groupbys(tree):
            attrs = SlicedQuality(method="groupby_metric", slices=sorted(set(keys))[:_MAX_ITEMS],
                                  metrics=sorted(set(metrics))[:_MAX_ITEMS], where=where)  # type: ignore[arg-type]
            yield ctx.evidence("monitor.sliced_quality", attrs, path=path, lines=(node.lineno, _end(node)),  # type: ignore[attr-defined]
                               subject=f"groupby:{node.lineno}")  # type: ignore[attr-defined]
    for path in ctx.paths:
        if not path.endswith((".pbtxt", ".config")):
            continue
        text = ctx.facts.text(path) or ""
        code = re.sub(r"(?m)#.*$", "", text)  # text protos comment with '#'
        keys = _TFMA_TEXT.findall(code)
        if keys and "metrics_specs" in code:
            start = text.count("\n", 0, text.index("slicing_specs")) + 1
            attrs = SlicedQuality(method="tfma_slicing_specs", slices=sorted(set(keys))[:_MAX_ITEMS], metrics=[],
                                  where="config")
            yield ctx.evidence("monitor.sliced_quality", attrs, path=path, lines=(start, len(ctx.facts.lines(path) or [])),
                               subject="tfma")


_KPI_LOGGERS = lazy(r"^(?:mlflow\.log_metrics?|wandb\.log|\w+\.log_metrics?|wandb\.\w+\.log|"
                          r"prometheus_client\.(?:Gauge|Counter|Histogram|Summary))$")


def _kpi_logging(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, pyfile, roots in _code_files(ctx):
        if not roots & {"mlflow", "wandb", "prometheus_client"}:
            continue
        loggers = [c for c in pyfile.calls if _KPI_LOGGERS.match(c.name)]
        lines = ctx.facts.lines(path) or []
        # KPI names come from the logging calls' own arguments: search only their lines
        if not any(_KPI.search("\n".join(lines[c.line - 1:c.end_line])) for c in loggers):
            continue
        tree = None if pyfile.notebook else _parse(ctx, pyfile)
        names_by_line = _logged_names(tree) if tree is not None else {}
        seen: set[str] = set()
        for call in pyfile.calls:
            if not _KPI_LOGGERS.match(call.name):
                continue
            names = [n for n in call.literal_args if isinstance(n, str)]
            names += names_by_line.get(call.line, [])
            for name in names:
                if not _kpi_name(name) or name in seen:
                    continue
                seen.add(name)
                how = "metrics" if call.name.startswith("prometheus_client") else "tracker"
                reasons = ["business metric logged only in a notebook"] if pyfile.notebook else []
                attrs = BusinessKpi(metric=name, how=how, where=_where(ctx, pyfile))  # type: ignore[arg-type]
                yield ctx.evidence("monitor.business_kpi", attrs, path=path, lines=(call.line, call.end_line),
                                   subject=name, strength=Strength.mention if reasons else Strength.configured,
                                   downgrades=reasons)


def _logged_names(tree: ast.Module) -> dict[int, list[str]]:
    """Dictionary keys logged per call line: ``mlflow.log_metrics({"conversion_rate": ...})``."""
    found: dict[int, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Dict):
                    keys = [k.value for k in arg.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
                    found.setdefault(node.lineno, []).extend(keys)
    return found


# ============================================================================================
# the probe
# ============================================================================================


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    yield from _app_logging(ctx)
    yield from _capture_calls(ctx)
    yield from _capture_yaml(ctx)
    yield from _prometheus_alerts(ctx)
    yield from _orchestrator_freshness(ctx)
    yield from _skew(ctx)
    yield from _sliced_quality(ctx)
    yield from _kpi_logging(ctx)


PROBE = Probe(
    id="model_signals",
    title="Model signals: prediction logging, staleness and performance alerts, skew, slices, business KPIs",
    patterns=("**/*.yaml", "**/*.yml", "**/*.rules", "**/*.pbtxt", "**/eval_config*.config"),
    kinds=(
        Kind("monitor.prediction_logging", PredictionLogging,
             "Predictions logged with their inputs and a request id (app logs, streams, platform data capture)"),
        Kind("monitor.staleness_alert", StalenessAlert,
             "An alert on model or data age (Prometheus time() - timestamp, Airflow SLA, Dagster freshness)"),
        Kind("monitor.perf_alert", PerfAlert,
             "A Prometheus alert on latency percentiles, error rate or resource use of the model service"),
        Kind("monitor.skew_check", SkewCheck,
             "Training statistics compared with serving data (TFDV skew, Evidently/whylogs, Vertex, SageMaker)"),
        Kind("monitor.sliced_quality", SlicedQuality,
             "Model quality computed per slice (metric by group, TFMA slicing specs in config)"),
        Kind("monitor.business_kpi", BusinessKpi,
             "A business KPI (revenue, conversion, churn rate...) logged to a tracker, exported or alerted on"),
    ),
    collect=collect,
    python_tokens=(
        *imports_of("fastapi", "flask", "bentoml", "ray", "litserve", "tensorflow_data_validation", "evidently",
                    "whylogs", "google.cloud.aiplatform", "sagemaker", "databricks", "airflow", "dagster",
                    "sklearn.metrics", "mlflow", "wandb", "prometheus_client"),
        "DataCaptureConfig", "AutoCaptureConfigInput", "enable_request_response_logging", "SkewDetectionConfig",
    ),
)
