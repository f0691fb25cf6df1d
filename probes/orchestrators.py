"""Orchestrated pipelines: Airflow DAGs, Kubeflow/Vertex pipelines (code and compiled specs),
Prefect flows and deployments, Dagster jobs, Metaflow flows, Argo Workflows, Databricks asset
bundle jobs, Kedro, ZenML and Flyte pipelines, and the CI jobs that deploy them (RUBRIC §3.1 DM-e,
DM-j; §3.3 MD-s; §3.7 X-3; §5.8).

Python is read with ``ast`` only (never imported or run): the shared index says which files import
an orchestrator, and this probe parses those files itself because it needs decorators, class bases
and ``with`` blocks, which the index does not keep. YAML goes through the facts layer.

Strength logic, in short:

- ``orchestrator.pipeline``: configured when it has at least one task and either a schedule or
  trigger that is not paused, or is plainly meant to be run by hand (a Kubeflow pipeline, a
  Metaflow flow, an Argo ``Workflow``). It is a mention, with the reason, when it is defined only in
  a notebook, is paused (``pause_status: PAUSED``, ``suspend: true``, ``is_paused_upon_creation``),
  is an Airflow DAG that is never scheduled (``schedule=None`` or no schedule at all: Airflow 3's
  default), or has no task we can see.
- ``orchestrator.deploy``: configured when a CI step deploys or compiles a pipeline; a disabled
  or non-blocking step is a mention with the reason.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Optional

from scanner.facts.ci import trigger_types
from scanner.facts.python import PyFile, imports_of
from scanner.facts.yamldoc import YList, YMap
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

if TYPE_CHECKING:
    from scanner.facts.ci import Job, Pipeline, Step

Tool = Literal["airflow", "kubeflow", "prefect", "dagster", "metaflow", "argo", "databricks", "kedro",
               "zenml", "flyte", "tfx", "sagemaker", "azureml"]
TriggerName = Literal["schedule", "sensor", "event", "data", "manual"]

_MAX_ITEMS = 500  # tasks or jobs read from one definition; bounds the work on generated files


# -- attribute models ------------------------------------------------------------------------


class OrchestratorPipeline(Attributes):
    tool: Tool
    name: str
    tasks: int
    data_tasks: int  # tasks that read/write data or validate it, judged by names and calls
    scheduled: bool
    schedule: Optional[str]
    triggers: list[TriggerName]
    paused: bool
    entry: str
    # Added for TFX, SageMaker Pipelines and Azure ML; defaults keep the other tools' items as they were.
    runner: Optional[str] = None  # TFX: local, kubeflow_v2, vertex, beam, kubeflow, airflow
    launched: Optional[bool] = None  # something in the repo runs/upserts/submits/schedules it (None: not judged)
    deploys: bool = False  # the pipeline itself publishes a model (TFX Pusher, SageMaker RegisterModel/ModelStep)
    gated: bool = False  # a non-trivial evaluation/validation gate sits before that publishing step
    gate: Optional[str] = None  # the gating component or step (Evaluator, InfraValidator, ConditionStep...)
    approval: Optional[str] = None  # SageMaker approval_status of the registered model package


class OrchestratorDeploy(Attributes):
    tool: str
    command: str
    job: str
    system: str
    triggers: list[str]
    blocking: bool
    # "pipeline": a CI step delivers a pipeline (MD-s); "model": a pipeline step pushes or registers a
    # model (TFX Pusher, SageMaker RegisterModel/ModelStep), weighed with its gate (MD-h)
    target: Literal["pipeline", "model"] = "pipeline"
    gated: Optional[bool] = None
    gate: Optional[str] = None
    approval: Optional[str] = None


# -- what one definition is -------------------------------------------------------------------


@dataclass
class Found:
    """One pipeline definition before it becomes evidence."""

    tool: Tool
    name: str
    path: str
    lines: tuple[int, int]
    tasks: list[tuple[str, bool]] = field(default_factory=list)  # (task name, touches data)
    schedule: Optional[str] = None
    triggers: set[str] = field(default_factory=set)
    paused: bool = False
    reasons: list[str] = field(default_factory=list)
    entry: str = ""
    func: str = ""  # the defining Python function, to match a deployment's entrypoint
    states: list[bool] = field(default_factory=list)  # Dagster: is each schedule/sensor on by default
    runner: Optional[str] = None
    launched: Optional[bool] = None
    gate: Optional[str] = None
    gate_issue: Optional[str] = None  # why the gate does not count (trivially true, no thresholds)
    approval: Optional[str] = None
    publishes: list["Publish"] = field(default_factory=list)  # model push/register steps


@dataclass
class Publish:
    """A step of a pipeline that pushes or registers a model, and what gates it."""

    command: str
    lines: tuple[int, int]
    gate: Optional[str] = None
    gate_issue: Optional[str] = None
    approval: Optional[str] = None


_DATA_NAME = lazy(
    r"(?i)(extract|ingest|load|read|write|fetch|download|upload|export|etl|transform|preprocess|prep"
    r"|clean|feature|validat|check|quality|expect|profil|split|dataset|data|sql|query|table|snapshot"
    r"|copy|transfer|parquet|csv|materiali[sz]e|importer)"
)
_DATA_CALL = lazy(
    r"(?:^|\.)(?:read_(?:csv|parquet|sql|sql_query|sql_table|json|table|excel|feather|orc)"
    r"|to_(?:csv|parquet|sql|json|feather|orc)|load_dataset|run_checkpoint|validate|save_as_table"
    r"|saveAsTable|insert_rows_json|load_table_from_dataframe|upload_file|download_file)$"
)
_DATA_MODULES = ("great_expectations", "pandera", "soda", "tensorflow_data_validation", "deepchecks", "evidently")


def _is_data(name: str) -> bool:
    return bool(_DATA_NAME.search(name))


def _attrs(found: Found) -> OrchestratorPipeline:
    triggers = set(found.triggers) or {"manual"}
    return OrchestratorPipeline(
        tool=found.tool,
        name=found.name,
        tasks=len(found.tasks),
        data_tasks=sum(1 for _, data in found.tasks if data),
        scheduled=found.schedule is not None and "schedule" in triggers,
        schedule=found.schedule,
        triggers=sorted(triggers),  # type: ignore[arg-type]
        paused=found.paused,
        entry=found.entry or found.path,
        runner=found.runner,
        launched=found.launched,
        deploys=bool(found.publishes),
        gated=bool(found.publishes) and all(p.gate and not p.gate_issue for p in found.publishes),
        gate=found.gate,
        approval=found.approval,
    )


def _emit(ctx: ProbeContext, found: Found) -> Evidence:
    reasons = list(found.reasons)
    if not found.tasks:
        reasons.append("no task found in the definition")
    if found.paused:
        reasons.append("paused: never runs until someone unpauses it")
    strength = Strength.mention if reasons else Strength.configured
    return ctx.evidence(
        "orchestrator.pipeline", _attrs(found), path=found.path, lines=found.lines,
        subject=f"{found.tool}:{found.name}", strength=strength, downgrades=reasons,
    )


def _emit_publishes(ctx: ProbeContext, found: Found) -> Iterator[Evidence]:
    """One ``orchestrator.deploy`` (target model) per push/register step of a pipeline: configured
    when the pipeline is launched; a trivially-true gate or a never-launched pipeline is a mention."""
    triggers = sorted(found.triggers) or ["manual"]
    for pub in found.publishes:
        reasons = [r for r in found.reasons if r.startswith(("never ", "no runner", "defined only"))]
        if pub.gate_issue:
            reasons.append(f"gate does not count: {pub.gate_issue}")
        attrs = OrchestratorDeploy(
            tool=found.tool, command=pub.command, job=found.name, system=found.tool, triggers=triggers,
            blocking=not reasons, target="model", gated=bool(pub.gate) and not pub.gate_issue,
            gate=pub.gate, approval=pub.approval,
        )
        yield ctx.evidence(
            "orchestrator.deploy", attrs, path=found.path, lines=pub.lines,
            subject=f"{found.tool}:{found.name}:{pub.command}",
            strength=Strength.mention if reasons else Strength.configured, downgrades=reasons,
        )


# -- Python: a small resolver over one parsed module ----------------------------------------


class Module:
    """Import aliases and decorated definitions of one parsed Python file."""

    def __init__(self, path: str, tree: ast.Module, notebook: bool = False,
                 local_roots: frozenset[str] = frozenset()):
        self.path = path
        self.local_roots = local_roots
        self.tree = tree
        self.notebook = notebook
        self.aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.ImportFrom) and node.level:
                for alias in node.names:  # a project-local import: keep it recognisably local
                    self.aliases[alias.asname or alias.name] = f".{node.module or ''}.{alias.name}"
        self.constants: dict[str, Any] = {}  # module-level NAME = "literal", for names given by constant
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = stmt.value.value
        self.functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        # ``name = value`` anywhere in the file and parameter defaults: enough to follow a keyword
        # argument back to the step or path it names inside a pipeline-building function
        self.assigned: dict[str, ast.expr] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigned.setdefault(node.targets[0].id, node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                self.assigned.setdefault(node.target.id, node.value)
        for func in self.functions:
            positional = func.args.posonlyargs + func.args.args
            pairs = list(zip(positional[len(positional) - len(func.args.defaults):], func.args.defaults))
            pairs += [(a, d) for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults) if d is not None]
            for arg, default in pairs:
                self.assigned.setdefault(arg.arg, default)
        self.classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        self.calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]

    def name(self, node: ast.AST) -> str:
        """Dotted name of a reference (or of a call's callee), aliases resolved; "" if not a name."""
        if isinstance(node, ast.Call):
            node = node.func
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):
            inner = self.name(node.func)
            return ".".join([inner + "()"] + list(reversed(parts))) if inner else ""
        if isinstance(node, ast.Name):
            parts.append(self.aliases.get(node.id, node.id))
            return ".".join(reversed(parts))
        return ""

    def literal(self, node: Optional[ast.AST]) -> Any:
        """A constant, or the value of a module-level constant it names."""
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return _const(node)

    def decorated(self, names: Iterable[str]) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.expr]]:
        """Functions carrying a decorator whose resolved name is in ``names``."""
        wanted = set(names)
        out = []
        for func in self.functions:
            for dec in func.decorator_list:
                if self.name(dec) in wanted:
                    out.append((func, dec))
                    break
        return out

    def calls_to(self, names: Iterable[str]) -> list[ast.Call]:
        wanted = set(names)
        return [c for c in self.calls if self.name(c) in wanted]

    def is_local(self, local: str) -> bool:
        """A name imported from the project itself: a relative import, or an absolute one whose
        top-level package is a directory or module of this repository."""
        target = self.aliases.get(local)
        return target is not None and (target.startswith(".") or target.split(".")[0] in self.local_roots)


def _kw(call: ast.Call, name: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _const(node: Optional[ast.AST]) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _text(node: ast.AST, limit: int = 80) -> str:
    try:
        return ast.unparse(node)[:limit]
    except (ValueError, RecursionError):  # pragma: no cover - malformed synthetic trees only
        return "?"


def _span(node: ast.AST) -> tuple[int, int]:
    start = getattr(node, "lineno", 1) or 1
    return start, getattr(node, "end_lineno", start) or start


def _def_span(func: ast.AST) -> tuple[int, int]:
    """From the first decorator to the ``def`` line."""
    decorators = getattr(func, "decorator_list", [])
    start = min([d.lineno for d in decorators] + [func.lineno])  # type: ignore[attr-defined]
    return start, func.lineno  # type: ignore[attr-defined]


def _body_calls(nodes: Iterable[ast.AST]) -> list[ast.Call]:
    """Calls under ``nodes``, in source order, without descending into nested definitions."""
    out: list[ast.Call] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return sorted(out, key=lambda c: (c.lineno, c.col_offset))


_TASK_METHODS = frozenset({"expand", "partial", "submit", "map", "expand_kwargs"})
_TASK_OPTIONS = frozenset({"override", "with_options", "options"})


def _root_callee(call: ast.Call) -> Optional[str]:
    """The function a task call invokes, counted once: ``f(...)``, ``f.submit(...)``,
    ``f.expand(...)``, ``f.override(...)(...)``; None for any other call."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr in _TASK_METHODS:
        return func.value.id
    if (isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute)
            and isinstance(func.func.value, ast.Name) and func.func.attr in _TASK_OPTIONS):
        return func.func.value.id
    return None


def _touches_data(module: Module, func: Optional[ast.AST]) -> bool:
    """A task body that reads/writes a table or file or runs a validation library."""
    if func is None:
        return False
    for call in _body_calls(getattr(func, "body", [])):
        name = module.name(call)
        if _DATA_CALL.search(name) or name.startswith(_DATA_MODULES):
            return True
    return False


def _function_tasks(module: Module, body: list[ast.stmt], task_funcs: dict[str, ast.AST],
                     local_components: bool) -> list[tuple[str, bool]]:
    """Tasks a pipeline function body invokes: calls to task-decorated functions of this file,
    and (``local_components``) calls to functions imported from the project itself."""
    tasks: list[tuple[str, bool]] = []
    for call in _body_calls(body):
        root = _root_callee(call)
        if root is None:
            continue
        if root in task_funcs:
            func = task_funcs[root]
            tasks.append((root, _is_data(root) or _touches_data(module, func)))
        elif local_components and root in module.aliases and module.is_local(root):
            tasks.append((root, _is_data(root)))
        if len(tasks) >= _MAX_ITEMS:
            break
    return tasks


# -- Airflow ----------------------------------------------------------------------------------

_AIRFLOW_DAG = ("airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG")
_AIRFLOW_DAG_DECORATOR = ("airflow.decorators.dag", "airflow.sdk.dag", "airflow.decorators.dag.dag")
_AIRFLOW_OPERATOR = lazy(r"(?:Operator|Sensor)(?:Async)?$")
_AIRFLOW_DATA_OPERATOR = lazy(
    r"(?i)(sql|query|transfer|tos3|togcs|s3|gcs|bigquery|snowflake|redshift|postgres|mysql|spark|dbt|"
    r"greatexpectations|glue|athena|dataquality|check|dataflow|dataproc|databricks)"
)


def _airflow_task_funcs(module: Module) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for func in module.functions:
        for dec in func.decorator_list:
            name = module.name(dec)
            if name.startswith(("airflow.decorators.task", "airflow.sdk.task")):
                out[func.name] = func
    return out


def _airflow_operator_task(module: Module, call: ast.Call, funcs: dict[str, ast.AST]) -> Optional[tuple[str, bool]]:
    name = module.name(call)
    cls = name.rsplit(".", 1)[-1]
    if not (_AIRFLOW_OPERATOR.search(cls) and cls[:1].isupper()):
        return None
    task_id = _const(_kw(call, "task_id"))
    callable_node = _kw(call, "python_callable")
    callable_name = callable_node.id if isinstance(callable_node, ast.Name) else ""
    label = str(task_id or cls)
    data = bool(_AIRFLOW_DATA_OPERATOR.search(cls) or _is_data(label) or (callable_name and _is_data(callable_name)))
    if not data and callable_name:
        target = next((f for f in module.functions if f.name == callable_name), None)
        data = _touches_data(module, target)
    return label, data


def _airflow_tasks(module: Module, body: list[ast.stmt], funcs: dict[str, ast.AST]) -> list[tuple[str, bool]]:
    tasks: list[tuple[str, bool]] = []
    for call in _body_calls(body):
        op = _airflow_operator_task(module, call, funcs)
        if op:
            tasks.append(op)
            continue
        root = _root_callee(call)
        if root in funcs:
            tasks.append((root, _is_data(root) or _touches_data(module, funcs[root])))
    return tasks[:_MAX_ITEMS]


def _airflow_schedule(call: ast.Call, found: Found) -> None:
    """Schedule, triggers and pause state from the DAG's keywords."""
    node = _kw(call, "schedule")
    if node is None:
        node = _kw(call, "schedule_interval")
    if node is None:
        node = _kw(call, "timetable")
    if node is None:
        found.reasons.append("no schedule given: never scheduled (Airflow 3 defaults to schedule=None)")
    elif isinstance(node, ast.Constant) and node.value is None:
        found.reasons.append("schedule=None: never scheduled, runs only when triggered by hand")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        found.schedule = node.value
        found.triggers.add("schedule")
    else:
        text = _text(node)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) or re.search(r"Dataset|Asset", text):
            found.triggers.add("data")
            if "OrTime" in text:
                found.triggers.add("schedule")
                found.schedule = text
        else:
            found.schedule = text
            found.triggers.add("schedule")
    if _const(_kw(call, "is_paused_upon_creation")) is True:
        found.paused = True


def _airflow(module: Module) -> list[Found]:
    funcs = _airflow_task_funcs(module)
    found: list[Found] = []
    claimed: set[int] = set()  # operator calls already counted in a `with` block or @dag body
    for node in ast.walk(module.tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                ctor = item.context_expr
                if isinstance(ctor, ast.Call) and module.name(ctor) in _AIRFLOW_DAG:
                    item_found = _airflow_dag(module, ctor, node.body, funcs)
                    claimed.update(id(c) for c in _body_calls(node.body))
                    found.append(item_found)
    for func, dec in module.decorated(_AIRFLOW_DAG_DECORATOR):
        call = dec if isinstance(dec, ast.Call) else ast.Call(func=dec, args=[], keywords=[])
        item_found = _airflow_dag(module, call, func.body, funcs, default_id=func.name)
        item_found.lines = _def_span(func)
        claimed.update(id(c) for c in _body_calls(func.body))
        found.append(item_found)
    assigned = [(t, c) for t, c in _assignments(module) if module.name(c) in _AIRFLOW_DAG]
    for target, ctor in assigned:
        rest = [c for c in _body_calls(module.tree.body) if id(c) not in claimed and c is not ctor]
        mine = [c for c in rest if _dag_kw_is(c, target) or (len(assigned) == 1 and _kw(c, "dag") is None)]
        item_found = _airflow_dag(module, ctor, [], funcs)
        item_found.tasks = [t for c in mine if (t := _airflow_operator_task(module, c, funcs))][:_MAX_ITEMS]
        found.append(item_found)
    return found


def _dag_kw_is(call: ast.Call, target: str) -> bool:
    value = _kw(call, "dag")
    return isinstance(value, ast.Name) and value.id == target


def _assignments(module: Module) -> list[tuple[str, ast.Call]]:
    out = []
    for node in module.tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.append((target.id, node.value))
    return out


def _airflow_dag(module: Module, ctor: ast.Call, body: list[ast.stmt], funcs: dict[str, ast.AST],
                 default_id: str = "") -> Found:
    dag_id = module.literal(_kw(ctor, "dag_id"))
    if dag_id is None and ctor.args:
        dag_id = module.literal(ctor.args[0])
    found = Found(tool="airflow", name=str(dag_id or default_id or posixpath.basename(module.path)),
                  path=module.path, lines=_span(ctor))
    found.tasks = _airflow_tasks(module, body, funcs)
    _airflow_schedule(ctor, found)
    return found


# -- Kubeflow / Vertex pipelines (Python) ---------------------------------------------------

_KFP_PIPELINE = ("kfp.dsl.pipeline", "kfp.v2.dsl.pipeline", "kfp.dsl.pipeline_definition")
_KFP_COMPONENT = ("kfp.dsl.component", "kfp.v2.dsl.component", "kfp.dsl.container_component",
                  "kfp.components.create_component_from_func", "kfp.components.func_to_container_op")
_KFP_LOADERS = ("load_component_from_file", "load_component_from_url", "load_component_from_text",
                "create_component_from_func", "func_to_container_op")


def _kfp(module: Module) -> list[Found]:
    components: dict[str, ast.AST] = {f.name: f for f, _ in module.decorated(_KFP_COMPONENT)}
    for target, call in _assignments(module):
        if module.name(call).rsplit(".", 1)[-1] in _KFP_LOADERS:
            components[target] = None  # type: ignore[assignment]
    found = []
    for func, dec in module.decorated(_KFP_PIPELINE):
        name = module.literal(_kw(dec, "name")) if isinstance(dec, ast.Call) else None
        item = Found(tool="kubeflow", name=str(name or func.name), path=module.path, lines=_def_span(func))
        item.tasks = _function_tasks(module, func.body, components, local_components=True)
        for call in _body_calls(func.body):  # v1 raw ContainerOps; importers bring a dataset in
            callee = module.name(call)
            if callee.endswith("dsl.ContainerOp"):
                label = str(_const(_kw(call, "name")) or "ContainerOp")
                item.tasks.append((label, _is_data(label)))
            elif callee in ("kfp.dsl.importer", "kfp.v2.dsl.importer"):
                item.tasks.append(("importer", True))
        found.append(item)
    return found


_KFP_SCHEDULE_CALLS = ("create_recurring_run", "create_schedule", "PipelineJobSchedule")


def _kfp_schedules(module: Module) -> list[tuple[str, ast.Call]]:
    """Recurring runs: KFP client ``create_recurring_run``, Vertex ``PipelineJob.create_schedule``
    and ``PipelineJobSchedule``; the cron string or a placeholder when it is not a literal."""
    out = []
    for call in module.calls:
        if module.name(call).rsplit(".", 1)[-1] in _KFP_SCHEDULE_CALLS:
            node = _kw(call, "cron_expression") or _kw(call, "cron") or _kw(call, "interval_second")
            out.append((str(_const(node)) if _const(node) is not None else (_text(node) if node else "recurring"), call))
    return out


# -- Prefect (Python) ------------------------------------------------------------------------


def _prefect(module: Module) -> list[Found]:
    tasks = {f.name: f for f, _ in module.decorated(("prefect.task",))}
    found = []
    for func, dec in module.decorated(("prefect.flow",)):
        name = module.literal(_kw(dec, "name")) if isinstance(dec, ast.Call) else None
        item = Found(tool="prefect", name=str(name or func.name), path=module.path, lines=_def_span(func),
                     func=func.name)
        item.tasks = _function_tasks(module, func.body, tasks, local_components=False)
        for call in module.calls:  # flow.serve(cron=...) / flow.deploy(cron=...)
            if (isinstance(call.func, ast.Attribute) and call.func.attr in ("serve", "deploy", "to_deployment")
                    and isinstance(call.func.value, ast.Name) and call.func.value.id == func.name):
                _prefect_serve_schedule(call, item)
        found.append(item)
    return found


def _prefect_serve_schedule(call: ast.Call, item: Found) -> None:
    for key in ("cron", "interval", "rrule", "schedule", "schedules"):
        node = _kw(call, key)
        if node is not None:
            value = _const(node)
            item.schedule = f"{key}: {value}" if key != "cron" and value is not None else str(value or _text(node))
            item.triggers.add("schedule")
            break
    if _kw(call, "triggers") is not None:
        item.triggers.add("event")
    if _const(_kw(call, "paused")) is True:
        item.paused = True


# -- Dagster ---------------------------------------------------------------------------------

_DAGSTER_ASSET = ("dagster.asset", "dagster.multi_asset", "dagster.graph_asset")
_DAGSTER_OP = ("dagster.op",)
_DAGSTER_JOB = ("dagster.job", "dagster.graph")


def _dagster(module: Module, jobs: Optional[dict[str, Found]] = None) -> list[Found]:
    """Jobs, asset jobs and automated assets of one file; ``jobs`` (variable and job names to
    definitions, repository-wide) collects them so schedules in other files can find them."""
    ops = {f.name: f for f, _ in module.decorated(_DAGSTER_OP)}
    assets = module.decorated(_DAGSTER_ASSET)
    found: dict[str, Found] = {}
    for func, dec in module.decorated(_DAGSTER_JOB):
        name = module.literal(_kw(dec, "name")) if isinstance(dec, ast.Call) else None
        item = Found(tool="dagster", name=str(name or func.name), path=module.path, lines=_def_span(func))
        item.tasks = _function_tasks(module, func.body, ops, local_components=True)
        found[func.name] = item
        found.setdefault(item.name, item)
    asset_tasks = [(f.name, True) for f, _ in assets]  # an asset is materialised data by definition
    for target, call in _assignments(module):
        if module.name(call) == "dagster.define_asset_job":
            name = _const(_kw(call, "name")) or (_const(call.args[0]) if call.args else None) or target
            item = Found(tool="dagster", name=str(name), path=module.path, lines=_span(call))
            selection = _kw(call, "selection")
            if isinstance(selection, (ast.List, ast.Tuple)):
                item.tasks = [(_text(e, 40), True) for e in selection.elts]
            else:
                item.tasks = list(asset_tasks)  # assets materialise data by definition
            found[target] = item
            found.setdefault(str(name), item)
    if jobs is not None:
        for key, item in found.items():
            jobs.setdefault(key, item)
    automated = [(f, dec) for f, dec in assets if isinstance(dec, ast.Call) and _kw(dec, "automation_condition") is not None]
    if automated:
        item = Found(tool="dagster", name=f"{posixpath.basename(module.path)}:automated assets", path=module.path,
                     lines=_def_span(automated[0][0]), tasks=[(f.name, True) for f, _ in automated])
        for _, dec in automated:
            text = _text(_kw(dec, "automation_condition") or dec, 120)
            cron = re.search(r"on_cron\(\s*['\"]([^'\"]+)", text)
            if cron:
                item.schedule, _ = cron.group(1), item.triggers.add("schedule")
            else:
                item.triggers.add("data")
        found["<automated>"] = item
    unique: dict[int, Found] = {id(v): v for v in found.values()}
    return list(unique.values())


def _dagster_job_ref(module: Module, call: ast.Call) -> Optional[str]:
    node = _kw(call, "job")
    if isinstance(node, ast.Name):
        return node.id
    name = _const(_kw(call, "job_name"))
    return str(name) if name else None


def _dagster_triggers(module: Module, jobs: dict[str, Found]) -> None:
    """Schedules (``ScheduleDefinition``, ``@schedule``, partitioned schedules) and sensors
    attached to the jobs of this file, by job variable or ``job_name``."""
    for call in module.calls:
        name = module.name(call)
        ref = _dagster_job_ref(module, call)
        if ref not in jobs:
            if name == "dagster.build_schedule_from_partitioned_job" and call.args and isinstance(call.args[0], ast.Name):
                ref = call.args[0].id
            if ref not in jobs:
                continue
        item = jobs[ref]  # type: ignore[index]
        status = _text(_kw(call, "default_status") or ast.Constant(value=""), 60)
        if name in ("dagster.ScheduleDefinition", "dagster.schedule", "dagster.build_schedule_from_partitioned_job"):
            cron = _const(_kw(call, "cron_schedule"))
            item.schedule = str(cron) if cron else "partitioned"
            item.triggers.add("schedule")
            item.states.append(not status.endswith("STOPPED"))
        elif name in ("dagster.sensor", "dagster.SensorDefinition", "dagster.asset_sensor", "dagster.run_status_sensor"):
            item.triggers.add("sensor")
            item.states.append(not status.endswith("STOPPED"))


# -- Metaflow --------------------------------------------------------------------------------


def _metaflow(module: Module) -> list[Found]:
    found = []
    for cls in module.classes:
        if not any(module.name(b) in ("metaflow.FlowSpec", "metaflow.flowspec.FlowSpec") for b in cls.bases):
            continue
        start = min([d.lineno for d in cls.decorator_list] + [cls.lineno])
        item = Found(tool="metaflow", name=cls.name, path=module.path, lines=(start, cls.lineno))
        for method in cls.body:
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    module.name(d) == "metaflow.step" for d in method.decorator_list):
                item.tasks.append((method.name, _is_data(method.name) or _touches_data(module, method)))
        for dec in cls.decorator_list:
            name = module.name(dec)
            if name == "metaflow.schedule" and isinstance(dec, ast.Call):
                cron = _const(_kw(dec, "cron"))
                preset = next((k.arg for k in dec.keywords if k.arg in ("hourly", "daily", "weekly")
                               and _const(k.value) is True), None)
                item.schedule = str(cron or preset or "daily")
                item.triggers.add("schedule")
            elif name == "metaflow.schedule":
                item.schedule, _ = "daily", item.triggers.add("schedule")  # bare @schedule: daily
            elif name in ("metaflow.trigger", "metaflow.trigger_on_finish"):
                item.triggers.add("event")
        found.append(item)
    return found


# -- ZenML and Flyte -------------------------------------------------------------------------


def _zenml(module: Module) -> list[Found]:
    steps = {f.name: f for f, _ in module.decorated(("zenml.step", "zenml.steps.step"))}
    schedules = [c for c in module.calls if module.name(c) in ("zenml.config.schedule.Schedule", "zenml.Schedule")]
    found = []
    for func, _ in module.decorated(("zenml.pipeline", "zenml.pipelines.pipeline")):
        item = Found(tool="zenml", name=func.name, path=module.path, lines=_def_span(func))
        item.tasks = _function_tasks(module, func.body, steps, local_components=True)
        if schedules:
            cron = _const(_kw(schedules[0], "cron_expression"))
            item.schedule = str(cron or _text(schedules[0]))
            item.triggers.add("schedule")
        found.append(item)
    return found


def _flyte(module: Module) -> list[Found]:
    tasks = {f.name: f for f, _ in module.decorated(("flytekit.task", "flytekit.dynamic"))}
    found: dict[str, Found] = {}
    for func, _ in module.decorated(("flytekit.workflow",)):
        item = Found(tool="flyte", name=func.name, path=module.path, lines=_def_span(func))
        item.tasks = _function_tasks(module, func.body, tasks, local_components=True)
        found[func.name] = item
    for call in module.calls:
        if module.name(call) in ("flytekit.LaunchPlan.get_or_create", "flytekit.LaunchPlan.create"):
            workflow = _kw(call, "workflow") or (call.args[0] if call.args else None)
            schedule = _kw(call, "schedule")
            if isinstance(workflow, ast.Name) and workflow.id in found and isinstance(schedule, ast.Call):
                cron = _const(_kw(schedule, "schedule")) or _const(_kw(schedule, "cron_expression"))
                found[workflow.id].schedule = str(cron or _text(schedule))
                found[workflow.id].triggers.add("schedule")
    return list(found.values())


# -- Kedro -----------------------------------------------------------------------------------


def _kedro(module: Module, catalog: set[str]) -> list[Found]:
    """``pipeline([node(...), ...])``: one pipeline per call; a node is a data task when one of
    its inputs or outputs is a dataset of ``conf/base/catalog.yml``."""
    found = []
    for call in module.calls:
        if module.name(call) not in ("kedro.pipeline.pipeline", "kedro.pipeline.Pipeline",
                                     "kedro.pipeline.modular_pipeline.pipeline"):
            continue
        listed = list(call.args[:1]) + [k.value for k in call.keywords if k.arg == "nodes"]
        nodes = [c for c in _body_calls(listed) if module.name(c) in ("kedro.pipeline.node", "kedro.pipeline.node.node")]
        if not nodes:
            continue
        name = posixpath.basename(posixpath.dirname(module.path)) or module.path
        item = Found(tool="kedro", name=name, path=module.path, lines=_span(call))
        for node in nodes[:_MAX_ITEMS]:
            label = str(_const(_kw(node, "name")) or (node.args[0].id if node.args and isinstance(node.args[0], ast.Name) else "node"))
            names = {s.value for s in ast.walk(node) if isinstance(s, ast.Constant) and isinstance(s.value, str)}
            item.tasks.append((label, bool(names & catalog)))
        if not catalog:
            item.reasons.append("no conf/base/catalog.yml: the datasets the nodes use are not declared")
        found.append(item)
    return found


def _kedro_catalog(ctx: ProbeContext) -> set[str]:
    """Dataset names of the Kedro catalog (``_``-prefixed keys are YAML anchors, not datasets)."""
    for path in ctx.paths:
        if path.endswith(("conf/base/catalog.yml", "conf/base/catalog.yaml")):
            doc = ctx.facts.yaml_doc(path)
            if isinstance(doc, dict):
                return {str(k) for k in doc if not str(k).startswith("_")}
    return set()


# -- TFX, SageMaker Pipelines and Azure ML (Python) -----------------------------------------

_HERE = "\x00here"  # what a path expression built from ``__file__`` stands for: the file's directory
_MAX_DEPTH = 8  # name -> value hops followed when evaluating an expression


def _str_expr(module: Module, node: Optional[ast.AST], depth: int = 0) -> Optional[str]:
    """The string an expression evaluates to when it is built from literals, names bound to them
    (or parameter defaults), ``os.path.join``, ``Path(__file__).parent`` and f-strings; else None."""
    if node is None or depth > _MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return _HERE + "/__file__"
        return _str_expr(module, module.assigned.get(node.id), depth + 1)
    if isinstance(node, ast.JoinedStr):
        parts = [_str_expr(module, v.value if isinstance(v, ast.FormattedValue) else v, depth + 1) for v in node.values]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
        left, right = _str_expr(module, node.left, depth + 1), _str_expr(module, node.right, depth + 1)
        if left is None or right is None:
            return None
        return left + right if isinstance(node.op, ast.Add) else posixpath.join(left, right)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _str_expr(module, node.value, depth + 1)
        return posixpath.dirname(inner) if inner is not None else None
    if isinstance(node, ast.Call):
        return _str_call(module, node, depth)
    return None


def _str_call(module: Module, node: ast.Call, depth: int) -> Optional[str]:
    name = module.name(node)
    if name in ("os.path.join", "posixpath.join") and node.args:
        parts = [_str_expr(module, a, depth + 1) for a in node.args]
        return None if any(p is None for p in parts) else posixpath.join(*parts)  # type: ignore[arg-type]
    if name in ("os.path.dirname", "os.path.realpath", "os.path.abspath", "str", "pathlib.Path", "os.fspath") and node.args:
        inner = _str_expr(module, node.args[0], depth + 1)
        return posixpath.dirname(inner) if inner is not None and name == "os.path.dirname" else inner
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute"):
        return _str_expr(module, node.func.value, depth + 1)
    return None


def repo_path(module: Module, value: str) -> str:
    """A path string from ``_str_expr`` made repository-relative where it was built from ``__file__``."""
    here = posixpath.dirname(module.path)
    out = value.replace(_HERE, here or ".")
    return posixpath.normpath(out).lstrip("/") if _HERE in value else out


def _num(module: Module, node: Optional[ast.AST], depth: int = 0) -> Optional[float]:
    """A number a condition operand evaluates to: a literal, a name bound to one, or the
    ``default_value`` of a SageMaker ``ParameterFloat``/``ParameterInteger``."""
    if node is None or depth > _MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _num(module, node.operand, depth + 1)
        return -inner if inner is not None else None
    if isinstance(node, ast.Name):
        return _num(module, module.assigned.get(node.id), depth + 1)
    if isinstance(node, ast.Call) and module.name(node).rsplit(".", 1)[-1] in ("ParameterFloat", "ParameterInteger"):
        return _num(module, _kw(node, "default_value"), depth + 1)
    return None


def _elements(module: Module, node: Optional[ast.AST]) -> list[ast.expr]:
    """Items of a list/tuple literal, following one name binding (``steps=steps``)."""
    if isinstance(node, ast.Name):
        node = module.assigned.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)[:_MAX_ITEMS]
    return []


def _enclosing(module: Module, node: ast.AST) -> Optional[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The innermost function whose body holds ``node``."""
    line = getattr(node, "lineno", 0)
    best = None
    for func in module.functions:
        if func.lineno <= line <= (func.end_lineno or func.lineno):
            if best is None or func.lineno >= best.lineno:
                best = func
    return best


def _names_in(node: Optional[ast.AST]) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()


# TFX

TFX_RUNNERS = {"LocalDagRunner": "local", "KubeflowV2DagRunner": "kubeflow_v2", "KubeflowDagRunner": "kubeflow",
               "BeamDagRunner": "beam", "AirflowDagRunner": "airflow"}
_RUNNER_RANK = ("vertex", "kubeflow_v2", "kubeflow", "airflow", "beam", "local")
_TFX_DATA = frozenset({"StatisticsGen", "SchemaGen", "ImportSchemaGen", "ExampleValidator", "Transform"})
_TFX_OTHER = frozenset({"Trainer", "Tuner", "Evaluator", "InfraValidator", "Pusher", "BulkInferrer", "ModelValidator"})
_TFX_GATES = ("model_blessing", "infra_blessing")
_NO_TFX_RUNNER = "no runner (LocalDagRunner, KubeflowV2DagRunner, BeamDagRunner...) runs this pipeline"


def tfx_class(module: Module, call: ast.Call) -> Optional[str]:
    """The standard TFX component a call builds (``CsvExampleGen``, ``Evaluator``...), else None."""
    name = module.name(call)
    if not name.startswith("tfx."):
        return None
    cls = name.rsplit(".", 1)[-1]
    return cls if cls.endswith("ExampleGen") or cls in _TFX_DATA or cls in _TFX_OTHER else None


def tfx_custom_components(module: Module) -> dict[str, ast.AST]:
    """Python-function components (``@component`` from ``tfx.dsl``) defined in this file."""
    out: dict[str, ast.AST] = {}
    for func in module.functions:
        for dec in func.decorator_list:
            name = module.name(dec)
            if name.startswith("tfx.") and name.endswith(".component"):
                out[func.name] = func
    return out


def _tfx_component(module: Module, call: ast.Call, custom: dict[str, ast.AST]) -> Optional[str]:
    """A standard component's class, or the name of a custom component of this file, or None."""
    root = _root_callee(call)
    return tfx_class(module, call) or (root if root in custom else None)


def tfx_pipeline_calls(module: Module) -> list[ast.Call]:
    return [c for c in module.calls if module.name(c).startswith("tfx.") and module.name(c).endswith(".Pipeline")]


def _tfx(module: Module) -> list[Found]:
    custom = tfx_custom_components(module)
    found = []
    for call in tfx_pipeline_calls(module):
        scope = _enclosing(module, call)
        body = scope.body if scope is not None else module.tree.body
        name = _str_expr(module, _kw(call, "pipeline_name")) or (scope.name if scope else posixpath.basename(module.path))
        item = Found(tool="tfx", name=name, path=module.path, lines=_span(call), launched=False)
        made: dict[str, tuple[str, ast.Call]] = {}  # variable -> (component, call)
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    cls = _tfx_component(module, node.value, custom)
                    for target in node.targets:
                        if cls and isinstance(target, ast.Name):
                            made[target.id] = (cls, node.value)
        for sub in _body_calls(body):
            cls = _tfx_component(module, sub, custom)
            if cls:
                item.tasks.append((cls, cls.endswith("ExampleGen") or cls in _TFX_DATA or _is_data(cls)))
            if cls == "Pusher":
                item.publishes.append(_tfx_push(module, sub, made))
        item.tasks = item.tasks[:_MAX_ITEMS]
        item.gate = ", ".join(sorted({p.gate for p in item.publishes if p.gate})) or None
        found.append(item)
    return found


def _tfx_push(module: Module, call: ast.Call, made: dict[str, tuple[str, ast.Call]]) -> Publish:
    """A Pusher and the blessing that gates it: an Evaluator (with thresholds), an InfraValidator
    or a custom component whose output feeds ``model_blessing``/``infra_blessing``."""
    feeds = set().union(*(_names_in(_kw(call, key)) for key in _TFX_GATES))
    gates = sorted({made[n][0] for n in feeds if n in made and made[n][0] != "Pusher"})
    pub = Publish(command="Pusher", lines=_span(call), gate=", ".join(gates) or None)
    evaluators = [made[n][1] for n in feeds if n in made and made[n][0] == "Evaluator"]
    if gates == ["Evaluator"] and evaluators:
        pub.gate_issue = _tfx_threshold_issue(module, evaluators[0])
    return pub


def _tfx_threshold_issue(module: Module, evaluator: ast.Call) -> Optional[str]:
    """Why an Evaluator blesses every model: no ``eval_config``, or one without thresholds."""
    config = _kw(evaluator, "eval_config")
    if config is None:
        return "the Evaluator has no eval_config: no thresholds, it blesses every model"
    if isinstance(config, ast.Name):
        bound = module.assigned.get(config.id)
        if bound is None or isinstance(bound, ast.Constant) and bound.value is None:
            for node in module.calls:  # a parameter passed in: thresholds anywhere in the file
                if "Threshold" in module.name(node):
                    return None
            return "eval_config is passed in without visible thresholds: the gate cannot be confirmed"
        config = bound
    text = _text(config, 100_000)
    if re.search(r"(?i)threshold", text):
        return None
    return "eval_config sets no metric threshold: the Evaluator blesses every model"


def _tfx_runners(module: Module) -> set[str]:
    """Runners this file builds and runs (``LocalDagRunner().run(...)``, ``KubeflowV2DagRunner(...).run``);
    a Kubeflow V2 runner submitted with the Vertex SDK counts as Vertex."""
    runners = {TFX_RUNNERS[cls] for c in module.calls if (cls := module.name(c).rsplit(".", 1)[-1]) in TFX_RUNNERS
               and module.name(c).startswith("tfx.")}
    runs = any(isinstance(c.func, ast.Attribute) and c.func.attr in ("run", "compile") for c in module.calls)
    if not runners or not runs:
        return set()
    if "kubeflow_v2" in runners and any(v.startswith("google.cloud.aiplatform") for v in module.aliases.values()):
        runners.add("vertex")
    return runners


# SageMaker Pipelines

_SM_STEPS = frozenset({
    "ProcessingStep", "TrainingStep", "TuningStep", "TransformStep", "ConditionStep", "RegisterModel", "ModelStep",
    "CreateModelStep", "LambdaStep", "FailStep", "EMRStep", "QualityCheckStep", "ClarifyCheckStep", "CallbackStep",
    "NotebookJobStep", "AutoMLStep",
})
_SM_PIPELINE = "sagemaker.workflow.pipeline.Pipeline"
_SM_LAUNCH = frozenset({"upsert", "start", "create", "put_triggers"})
SM_NEVER = "never upserted, started or scheduled: nothing in the repository deploys this pipeline definition"


def _sm_class(module: Module, node: Optional[ast.AST]) -> Optional[str]:
    if not isinstance(node, ast.Call):
        return None
    name = module.name(node)
    cls = name.rsplit(".", 1)[-1]
    return cls if name.startswith("sagemaker.workflow.") and cls in _SM_STEPS else None


def _sm_step(module: Module, node: ast.expr) -> tuple[str, Optional[ast.Call], str]:
    """(label, step call, class) of a ``steps=[...]`` element: a variable bound to a step or a call."""
    var = node.id if isinstance(node, ast.Name) else ""
    call = module.assigned.get(var) if var else node
    if not isinstance(call, ast.Call) or _sm_class(module, call) is None:
        return var or _text(node, 40), None, ""
    label = _str_expr(module, _kw(call, "name")) or var or "step"
    return label, call, _sm_class(module, call) or ""


def _sm_registers(module: Module, call: ast.Call, cls: str) -> Optional[ast.Call]:
    """The call carrying ``approval_status`` when the step registers a model package."""
    if cls == "RegisterModel":
        return call
    if cls == "ModelStep":
        args = _kw(call, "step_args")
        if isinstance(args, ast.Name):
            args = module.assigned.get(args.id)
        if isinstance(args, ast.Call) and isinstance(args.func, ast.Attribute) and args.func.attr == "register":
            return args
    return None


def _sm_approval(module: Module, call: ast.Call) -> Optional[str]:
    node = _kw(call, "approval_status")
    if isinstance(node, ast.Name):
        bound = module.assigned.get(node.id)
        if isinstance(bound, ast.Call) and module.name(bound).endswith("ParameterString"):
            node = _kw(bound, "default_value")
    return _str_expr(module, node) if node is not None else None


def sm_condition_issue(module: Module, step: ast.Call) -> Optional[str]:
    """Why a ConditionStep always takes its ``if_steps`` branch: conditions are ANDed, so it is
    trivial only when every condition compares two constants or checks a metric ``>= 0``."""
    conditions = _elements(module, _kw(step, "conditions"))
    if not conditions:
        return "the ConditionStep has no condition"
    issues = []
    for cond in conditions:
        if isinstance(cond, ast.Name):
            cond = module.assigned.get(cond.id)  # type: ignore[assignment]
        if not isinstance(cond, ast.Call):
            return None
        cls = module.name(cond).rsplit(".", 1)[-1]
        left = _kw(cond, "left") or (cond.args[0] if cond.args else None)
        right = _kw(cond, "right") or (cond.args[1] if len(cond.args) > 1 else None)
        lval, rval = _num(module, left), _num(module, right)
        if lval is not None and rval is not None:
            issues.append(f"{cls} compares two constants")
        elif cls == "ConditionGreaterThanOrEqualTo" and rval is not None and rval <= 0:
            issues.append(f"{cls}(right={rval:g}) always holds for a metric")
        else:
            return None
    return "condition is trivially true: " + "; ".join(issues)


def _sagemaker(module: Module) -> list[Found]:
    found = []
    for call in module.calls:
        if module.name(call) != _SM_PIPELINE:
            continue
        name = _str_expr(module, _kw(call, "name")) or posixpath.basename(posixpath.dirname(module.path)) or module.path
        item = Found(tool="sagemaker", name=name, path=module.path, lines=_span(call), launched=False)
        queue = [(e, None) for e in _elements(module, _kw(call, "steps"))]
        seen: set[int] = set()
        while queue and len(item.tasks) < _MAX_ITEMS:
            node, gate = queue.pop(0)
            label, step, cls = _sm_step(module, node)
            if step is None or id(step) in seen:
                continue
            seen.add(id(step))
            item.tasks.append((label, cls in ("QualityCheckStep", "EMRStep") or _is_data(label)))
            if cls == "ConditionStep":
                issue = sm_condition_issue(module, step)
                queue += [(e, ("ConditionStep", issue)) for e in _elements(module, _kw(step, "if_steps"))]
                queue += [(e, None) for e in _elements(module, _kw(step, "else_steps"))]
            register = _sm_registers(module, step, cls)
            if register is not None:
                pub = Publish(command=cls, lines=_span(step), approval=_sm_approval(module, register))
                if gate:
                    pub.gate, pub.gate_issue = gate
                item.publishes.append(pub)
        approvals = sorted({p.approval for p in item.publishes if p.approval})
        item.approval = ", ".join(approvals) or None
        gated = [p for p in item.publishes if p.gate]
        item.gate = "ConditionStep" if gated else None
        found.append(item)
    return found


def sm_launches(module: Module) -> tuple[bool, Optional[str]]:
    """(upserts/starts a pipeline, schedule) in this file: ``pipeline.upsert()``/``start()``,
    ``put_triggers`` with a ``PipelineSchedule``."""
    launched = any(isinstance(c.func, ast.Attribute) and c.func.attr in _SM_LAUNCH for c in module.calls)
    schedule = None
    if any(isinstance(c.func, ast.Attribute) and c.func.attr == "put_triggers" for c in module.calls):
        for c in module.calls:
            if module.name(c).endswith("PipelineSchedule"):
                value = next((_str_expr(module, _kw(c, k)) for k in ("cron", "rate", "at") if _kw(c, k) is not None), None)
                schedule = value or "PipelineSchedule"
    return launched, schedule


# Azure ML SDK v2

_AML_PIPELINE = ("azure.ai.ml.dsl.pipeline",)
_AML_COMPONENT_CALLS = ("azure.ai.ml.load_component", "azure.ai.ml.command", "azure.ai.ml.spark",
                        "azure.ai.ml.parallel.parallel_run_function")
_AML_NEVER = "never submitted or scheduled: no job submission, schedule or CI step runs it"


def _azureml(module: Module) -> list[Found]:
    components: dict[str, ast.AST] = {}
    for func in module.functions:
        if any(module.name(d).startswith("mldesigner.") for d in func.decorator_list):
            components[func.name] = func
    for target, call in _assignments(module):
        if module.name(call) in _AML_COMPONENT_CALLS or module.name(call).endswith(".components.get"):
            components[target] = None  # type: ignore[assignment]
    submitted = any(module.name(c).endswith(("jobs.create_or_update", "jobs.begin_create_or_update")) for c in module.calls)
    schedules = _aml_schedules(module)
    found = []
    for func, dec in module.decorated(_AML_PIPELINE):
        name = None
        if isinstance(dec, ast.Call):
            name = module.literal(_kw(dec, "name")) or module.literal(_kw(dec, "display_name"))
        item = Found(tool="azureml", name=str(name or func.name), path=module.path, lines=_def_span(func),
                     launched=submitted or bool(schedules))
        item.tasks = _function_tasks(module, func.body, components, local_components=True)
        if schedules:
            item.schedule, _ = schedules[0], item.triggers.add("schedule")
        if not item.launched:
            item.reasons.append(_AML_NEVER)
        found.append(item)
    return found


def _aml_schedules(module: Module) -> list[str]:
    """Cron/recurrence of ``JobSchedule``s this file creates (``schedules.begin_create_or_update``)."""
    if not any(module.name(c).endswith("schedules.begin_create_or_update") for c in module.calls):
        return []
    out = []
    for call in module.calls:
        cls = module.name(call).rsplit(".", 1)[-1]
        if cls == "CronTrigger":
            out.append(_str_expr(module, _kw(call, "expression")) or "cron")
        elif cls == "RecurrenceTrigger":
            out.append(f"every {_text(_kw(call, 'interval') or ast.Constant(1), 20)} "
                       f"{_str_expr(module, _kw(call, 'frequency')) or 'period'}")
    return out


def link_pipelines(ctx: ProbeContext, items: list[Found], modules: dict[str, Module]) -> None:
    """Cross-file facts for TFX and SageMaker pipelines: the runner that runs a TFX pipeline, the
    file that upserts/starts a SageMaker pipeline, or a CI ``run-pipeline --module-name`` for it."""
    from ._reach import module_names  # imported here: _reach imports this module lazily too

    importers: dict[str, set[str]] = {}  # module path -> paths that import it (or are it)
    index = ctx.facts.python
    for item in items:
        if item.tool not in ("tfx", "sagemaker") or item.path in importers:
            continue
        names = module_names(item.path)
        here = posixpath.dirname(item.path)
        users = {item.path}
        for path, pyfile in index.files.items():
            for imp in pyfile.imports:
                parts = imp.module.split(".")
                hit = any(".".join(parts[:end]) in names for end in range(1, len(parts) + 1))
                if hit and ("." in imp.module or posixpath.dirname(path) == here):
                    users.add(path)
                    break
        importers[item.path] = users
    ci_modules = _ci_module_names(ctx)
    for item in items:
        users = [m for p in sorted(importers.get(item.path, ())) if (m := _module_for(ctx, p, modules))]
        if item.tool == "tfx":
            runners = set().union(*(_tfx_runners(m) for m in users)) if users else set()
            item.runner = next((r for r in _RUNNER_RANK if r in runners), None)
            item.launched = bool(runners)
            for m in users:
                for cron, _ in _kfp_schedules(m):
                    item.schedule, _ = cron, item.triggers.add("schedule")
            if not item.launched:
                item.reasons.append(_NO_TFX_RUNNER)
        elif item.tool == "sagemaker":
            for m in users:
                launched, schedule = sm_launches(m)
                item.launched = item.launched or launched
                if schedule:
                    item.schedule, _ = schedule, item.triggers.add("schedule")
            if module_names(item.path) & ci_modules:
                item.launched = True
            if not item.launched:
                item.reasons.append(SM_NEVER)


def _module_for(ctx: ProbeContext, path: str, modules: dict[str, Module]) -> Optional[Module]:
    """The parsed module of an indexed file (a launcher may import only the pipeline module)."""
    if path not in modules:
        pyfile = ctx.facts.python.files.get(path)
        tree = _parse(ctx, pyfile) if pyfile is not None and pyfile.parsed and not pyfile.notebook else None
        if tree is None or _is_test(path):
            return None
        modules[path] = Module(path, tree, False, _local_roots(ctx))
    return modules[path]


_RUN_PIPELINE = lazy(r"\brun-pipeline\b.*--module-name[= ]+([\w.]+)")


def _ci_module_names(ctx: ProbeContext) -> set[str]:
    """Modules the SageMaker project template's ``run-pipeline --module-name X`` runs from CI."""
    out: set[str] = set()
    for _pipeline, job, step in ctx.facts.ci.steps():
        if job.disabled or step.disabled:
            continue
        for line in step.commands():
            match = _RUN_PIPELINE.search(line)
            if match:
                out.add(match.group(1))
    return out


# -- Azure ML pipeline and schedule YAML ------------------------------------------------------

_AML_SCHEMA = "azuremlschemas.azureedge.net"
_AML_MARKER = lazy(r"azuremlschemas\.azureedge\.net|^type:[ \t]*pipeline\b|^create_job:", re.MULTILINE)


def _aml_yaml_docs(ctx: ProbeContext) -> Iterator[Evidence | tuple[str, YMap]]:
    for path in ctx.paths:
        if not path.endswith((".yaml", ".yml")):
            continue
        text = ctx.facts.text(path)
        if text is None or not _AML_MARKER.search(text):
            continue
        docs = ctx.facts.yaml(path)
        if docs is None:
            yield ctx.unknown("orchestrator.pipeline", ctx.facts.problems.get(path, "YAML could not be read"), path=path)
            continue
        for doc in docs:
            if isinstance(doc, YMap):
                yield path, doc


def _aml_file_ref(base: str, value: Any) -> Optional[str]:
    if not isinstance(value, str) or value.startswith(("azureml:", "http")):
        return None
    value = value.removeprefix("file:")
    return posixpath.normpath(posixpath.join(base, value)).lstrip("/")


def _azureml_yaml(ctx: ProbeContext) -> Iterator[Evidence]:
    pipelines: list[tuple[Found, YMap]] = []
    schedules: dict[str, list[tuple[str, str]]] = {}  # pipeline path -> [(schedule, schedule file)]
    for got in _aml_yaml_docs(ctx):
        if isinstance(got, Evidence):
            yield got
            continue
        path, doc = got
        if doc.get("type") == "pipeline" and isinstance(doc.get("jobs"), YMap):
            pipelines.append((_aml_pipeline(path, doc), doc))
        trigger = doc.get("trigger")
        if isinstance(trigger, dict) and "create_job" in doc:
            create = doc.get("create_job")
            ref = create.get("job") if isinstance(create, dict) else create
            target = _aml_file_ref(posixpath.dirname(path), ref)
            if target:
                schedules.setdefault(target, []).append((_aml_trigger(trigger), path))
    submitted = _aml_ci_files(ctx)
    for item, _doc in pipelines:
        for schedule, where in schedules.get(item.path, []):
            item.schedule, _ = schedule, item.triggers.add("schedule")
            item.launched = item.launched or where in submitted
        item.launched = bool(item.launched) or item.path in submitted
        if not item.launched:
            item.reasons.append(_AML_NEVER)
        yield _emit(ctx, item)


def _aml_pipeline(path: str, doc: YMap) -> Found:
    name = doc.get("display_name") or doc.get("name") or doc.get("experiment_name") or posixpath.basename(path)
    item = Found(tool="azureml", name=str(name), path=path, lines=doc.span, launched=False)
    jobs = doc["jobs"]
    for key, job in list(jobs.items())[:_MAX_ITEMS]:
        ref = job.get("component") if isinstance(job, dict) else None
        item.tasks.append((str(key), _is_data(str(key)) or (isinstance(ref, str) and _is_data(posixpath.basename(ref)))))
    return item


def _aml_trigger(trigger: dict[str, Any]) -> str:
    if trigger.get("type") == "cron":
        return str(trigger.get("expression") or "cron")
    return f"every {trigger.get('interval', 1)} {trigger.get('frequency', 'period')}"


_AZ_ML_CREATE = lazy(r"\baz\s+ml\s+(?:job|schedule)\s+(?:create|update)\b")
_AZ_FILE = lazy(r"(?:--file|-f)[= ]+(\S+)")


def _aml_ci_files(ctx: ProbeContext) -> set[str]:
    """YAML files a live CI step submits with ``az ml job create`` / ``az ml schedule create``."""
    def compute() -> set[str]:
        out: set[str] = set()
        for _pipeline, job, step in ctx.facts.ci.steps():
            if job.disabled or step.disabled:
                continue
            for line in step.commands():
                if _AZ_ML_CREATE.search(line):
                    for ref in _AZ_FILE.findall(line):
                        out.add(posixpath.normpath(posixpath.join(step.workdir, ref.strip("'\""))).lstrip("/"))
        return out
    return ctx.memo("aml_ci_files", compute)


# -- Python driver ---------------------------------------------------------------------------

_PY_ROOTS = {"airflow": _airflow, "kfp": _kfp, "prefect": _prefect, "dagster": _dagster, "metaflow": _metaflow,
             "zenml": _zenml, "flytekit": _flyte, "tfx": _tfx, "sagemaker": _sagemaker, "azure": _azureml}


def _parse(ctx: ProbeContext, pyfile: PyFile) -> Optional[ast.Module]:
    if pyfile.notebook:
        doc = ctx.facts.json(pyfile.path)
        cells = doc.get("cells", []) if isinstance(doc, dict) else []
        chunks = []
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                text = "".join(source) if isinstance(source, list) else str(source)
                chunk = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in text.splitlines())
                try:  # a broken scratch cell must not hide the pipeline the other cells define
                    ast.parse(chunk)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue
                chunks.append(chunk)
        source_text = "\n".join(chunks)
    else:
        source_text = ctx.facts.text(pyfile.path) or ""
    try:
        return ast.parse(source_text, filename=pyfile.path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _python(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    catalog = _kedro_catalog(ctx)
    local_roots = _local_roots(ctx)
    dagster_modules: list[Module] = []
    dagster_jobs: dict[str, Found] = {}
    all_found: list[Found] = []
    kfp_schedules: list[tuple[str, str]] = []  # (cron, path)
    modules: dict[str, Module] = {}  # parsed TFX / SageMaker files, for runners and launches
    for path in sorted(index.files):
        pyfile = index.files[path]
        roots = {i.module.split(".")[0] for i in pyfile.imports}
        wanted = [r for r in _PY_ROOTS if r in roots] + (["kedro"] if "kedro" in roots else [])
        vertex = "google" in roots and any(i.module.startswith("google.cloud.aiplatform") for i in pyfile.imports)
        if _is_test(path):
            continue
        if not pyfile.parsed:
            if _IMPORTS.search(ctx.facts.text(path) or ""):
                reason = ctx.facts.problems.get(path, pyfile.error or "Python file could not be parsed")
                yield ctx.unknown("orchestrator.pipeline", reason, path=path)
            continue
        if not wanted and not vertex:
            continue
        tree = _parse(ctx, pyfile)
        if tree is None:
            yield ctx.unknown("orchestrator.pipeline", "Python file could not be parsed", path=path)
            continue
        module = Module(path, tree, pyfile.notebook, local_roots)
        if {"tfx", "sagemaker"} & set(wanted):
            modules[path] = module
        if "dagster" in wanted:
            dagster_modules.append(module)
        for root in wanted:
            if root == "kedro":
                found = _kedro(module, catalog)
            elif root == "dagster":
                found = _dagster(module, dagster_jobs)
            else:
                found = _PY_ROOTS[root](module)
            for item in found:
                if pyfile.notebook:
                    item.lines = _notebook_line(pyfile, root)
                    item.reasons.append("defined only in a notebook")
            all_found += found
        if "kfp" in roots or vertex:
            kfp_schedules += [(cron, path) for cron, _ in _kfp_schedules(module)]
    for module in dagster_modules:  # schedules and sensors often live apart from their jobs
        _dagster_triggers(module, dagster_jobs)
    for item in {id(j): j for j in dagster_jobs.values()}.values():
        item.paused = bool(item.states) and not any(item.states)  # paused only if every trigger is off
    kfp = [f for f in all_found if f.tool == "kubeflow"]
    for cron, where in kfp_schedules:
        for item in kfp:
            if item.path == where or len(kfp) == 1:
                item.schedule = cron
                item.triggers.add("schedule")
    link_pipelines(ctx, all_found, modules)
    for item in all_found:
        yield _emit(ctx, item)
        yield from _emit_publishes(ctx, item)


_IMPORTS = lazy(r"^\s*(?:import|from)\s+(?:" + "|".join(
    [r for r in _PY_ROOTS if r not in ("sagemaker", "azure")] + ["kedro", r"sagemaker\.workflow", r"azure\.ai\.ml"])
    + r")\b", re.MULTILINE)


def _local_roots(ctx: ProbeContext) -> frozenset[str]:
    """Top-level package and module names of the repository (``src/`` layouts included)."""
    def compute() -> frozenset[str]:
        roots: set[str] = set()
        for module in ctx.facts.python.modules:
            parts = module.split("/")
            if parts[0] == "src" and len(parts) > 1:
                parts = parts[1:]
            roots.add(parts[0].removesuffix(".py"))
        return frozenset(roots)
    return ctx.memo("local_roots", compute)


def _notebook_line(pyfile: PyFile, root: str) -> tuple[int, int]:
    line = next((i.line for i in pyfile.imports if i.module.split(".")[0] == root), 1)
    return line, line


def _is_test(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith("test_") or name.endswith("_test.py") or "/tests/" in f"/{path}"


# -- YAML / JSON definitions -----------------------------------------------------------------


def _task_key_data(name: str, spec: Any) -> bool:
    if _is_data(name):
        return True
    return isinstance(spec, dict) and any(k in spec for k in ("sql_task", "dbt_task", "pipeline_task"))


def _databricks(ctx: ProbeContext, path: str, doc: YMap) -> Iterator[Found]:
    resources = doc.get("resources")
    jobs = resources.get("jobs") if isinstance(resources, dict) else None
    if not isinstance(jobs, YMap):
        return
    for key, job in list(jobs.items())[:_MAX_ITEMS]:
        if not isinstance(job, dict):
            continue
        item = Found(tool="databricks", name=str(job.get("name") or key), path=path, lines=jobs.key_span(key))
        tasks = job.get("tasks") if isinstance(job.get("tasks"), list) else []
        for task in tasks[:_MAX_ITEMS]:
            if isinstance(task, dict):
                label = str(task.get("task_key") or "task")
                item.tasks.append((label, _task_key_data(label, task)))
        schedule = job.get("schedule")
        trigger = job.get("trigger")
        continuous = job.get("continuous")
        if isinstance(schedule, dict):
            item.schedule = str(schedule.get("quartz_cron_expression") or "schedule")
            item.triggers.add("schedule")
            item.paused = item.paused or str(schedule.get("pause_status", "")).upper() == "PAUSED"
        if isinstance(trigger, dict):
            if "periodic" in trigger:
                periodic = trigger.get("periodic") if isinstance(trigger.get("periodic"), dict) else {}
                item.schedule = f"every {periodic.get('interval', '?')} {str(periodic.get('unit', '')).lower()}".strip()
                item.triggers.add("schedule")
            if "file_arrival" in trigger or "table_update" in trigger or "table" in trigger:
                item.triggers.add("data")
            item.paused = item.paused or str(trigger.get("pause_status", "")).upper() == "PAUSED"
        if isinstance(continuous, dict):
            item.triggers.add("schedule")
            item.schedule = item.schedule or "continuous"
            item.paused = item.paused or str(continuous.get("pause_status", "")).upper() == "PAUSED"
        yield item


_ARGO_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


def _argo(path: str, doc: YMap) -> Optional[Found]:
    kind = doc.get("kind")
    if kind not in _ARGO_KINDS or not str(doc.get("apiVersion", "")).startswith("argoproj.io/"):
        return None
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = str(meta.get("name") or meta.get("generateName") or kind)
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    item = Found(tool="argo", name=name, path=path, lines=doc.span)
    wf_spec = spec.get("workflowSpec") if kind == "CronWorkflow" else spec
    templates = wf_spec.get("templates") if isinstance(wf_spec, dict) else None
    for template in (templates if isinstance(templates, list) else [])[:_MAX_ITEMS]:
        if isinstance(template, dict) and not ({"dag", "steps"} & set(template)):
            label = str(template.get("name") or "template")
            item.tasks.append((label, _is_data(label)))
    if kind == "CronWorkflow":
        schedules = spec.get("schedules") or spec.get("schedule")
        item.schedule = ", ".join(map(str, schedules)) if isinstance(schedules, list) else str(schedules or "") or None
        if item.schedule:
            item.triggers.add("schedule")
        item.paused = spec.get("suspend") is True
    return item


def _kfp_spec(path: str, doc: Any) -> Optional[Found]:
    """A compiled KFP v2 pipeline (IR YAML or the JSON job spec wrapping ``pipelineSpec``)."""
    if not isinstance(doc, dict):
        return None
    spec = doc.get("pipelineSpec") if isinstance(doc.get("pipelineSpec"), dict) else doc
    if not (isinstance(spec, dict) and "deploymentSpec" in spec and "root" in spec and "pipelineInfo" in spec):
        return None
    info = spec.get("pipelineInfo") if isinstance(spec.get("pipelineInfo"), dict) else {}
    lines = doc.span if isinstance(doc, YMap) else (1, 1)
    item = Found(tool="kubeflow", name=str(info.get("name") or posixpath.basename(path)), path=path, lines=lines)
    root = spec.get("root") if isinstance(spec.get("root"), dict) else {}
    dag = root.get("dag") if isinstance(root.get("dag"), dict) else {}
    tasks = dag.get("tasks") if isinstance(dag.get("tasks"), dict) else {}
    item.tasks = [(str(k), _is_data(str(k))) for k in list(tasks)[:_MAX_ITEMS]]
    return item


def _prefect_yaml(ctx: ProbeContext, path: str, doc: YMap) -> Iterator[Found]:
    deployments = doc.get("deployments")
    if not isinstance(deployments, YList):
        return
    for i, dep in enumerate(deployments[:_MAX_ITEMS]):
        if not isinstance(dep, dict):
            continue
        entry = str(dep.get("entrypoint") or "")
        item = Found(tool="prefect", name=str(dep.get("name") or f"deployment {i + 1}"), path=path,
                     lines=deployments.item_span(i))
        base = posixpath.dirname(path)
        file_part = entry.split(":", 1)[0]
        item.entry = posixpath.normpath(posixpath.join(base, file_part)) if file_part else path
        item.tasks = _prefect_entry_tasks(ctx, item.entry, entry.split(":", 1)[-1] if ":" in entry else "")
        if not item.tasks and file_part:
            item.reasons.append(f"flow entrypoint {entry} not found or has no tasks")
        schedules = dep.get("schedules")
        single = dep.get("schedule")
        entries = [s for s in (schedules if isinstance(schedules, list) else [single]) if isinstance(s, dict)]
        active = [s for s in entries if s.get("active", True) is not False]
        for sched in active[:1]:
            for key in ("cron", "interval", "rrule"):
                if key in sched:
                    value = sched[key]
                    item.schedule = str(value) if key == "cron" else f"{key}: {value}"
            item.triggers.add("schedule")
        if entries and not active:
            item.paused = True
        if isinstance(dep.get("triggers"), list) and dep.get("triggers"):
            item.triggers.add("event")
        if dep.get("paused") is True:
            item.paused = True
        yield item


def _prefect_entry_tasks(ctx: ProbeContext, path: str, flow: str) -> list[tuple[str, bool]]:
    """Tasks of the flow a deployment's ``entrypoint`` (``path.py:function``) names."""
    pyfile = ctx.facts.python.files.get(path)
    tree = _parse(ctx, pyfile) if pyfile is not None and pyfile.parsed else None
    if tree is None:
        return []
    for item in _prefect(Module(path, tree, local_roots=_local_roots(ctx))):
        if item.func == flow:
            return item.tasks
    return []


_YAML_MARKERS = ("argoproj.io", "deploymentSpec", "resources:", "deployments:")


def _definitions(ctx: ProbeContext) -> Iterator[Evidence]:
    bundle_dirs = [posixpath.dirname(p) for p in ctx.paths if posixpath.basename(p) in ("databricks.yml", "databricks.yaml")]
    for path in ctx.paths:
        base = posixpath.basename(path)
        if path.endswith(".json"):
            doc = ctx.facts.json(path)
            item = _kfp_spec(path, doc) if isinstance(doc, dict) else None
            if item:
                yield _emit(ctx, item)
            continue
        if not path.endswith((".yaml", ".yml")):
            continue
        text = ctx.facts.text(path)
        if text is None or not any(marker in text for marker in _YAML_MARKERS):
            continue
        in_bundle = any(path.startswith(d + "/") or not d for d in bundle_dirs)
        is_prefect = base in ("prefect.yaml", "prefect.yml")
        relevant = ("argoproj.io" in text and "kind:" in text) or "deploymentSpec" in text or is_prefect or (
            in_bundle and "jobs:" in text)
        if not relevant:
            continue
        docs = ctx.facts.yaml(path)
        if docs is None:
            yield ctx.unknown("orchestrator.pipeline", ctx.facts.problems.get(path, "YAML could not be read"), path=path)
            continue
        for doc in docs:
            if not isinstance(doc, YMap):
                continue
            if is_prefect:
                found: Iterable[Found] = _prefect_yaml(ctx, path, doc)
            elif in_bundle and "resources" in doc:
                found = _databricks(ctx, path, doc)
            else:
                one = _argo(path, doc) or _kfp_spec(path, doc)
                found = [one] if one else []
            for item in found:
                yield _emit(ctx, item)


# -- code that pipelines run (shared with probes/_reach.py) -----------------------------------

_MODULE_FILE_KWS = ("module_file", "run_fn", "preprocessing_fn", "tuner_fn", "stats_options_updater_fn")


class _Code:
    """Dotted module names -> repository files, and where a pipeline's steps point."""

    def __init__(self, facts: Any, modules: list[str], targets: "Callable[[str, str], set[str]]"):
        self.facts = facts
        self.targets = targets  # (shell command, base dir) -> files it runs (probes/_reach.Resolver)
        self._modules = modules
        self._by_name: Optional[dict[str, list[str]]] = None  # built on the first lookup
        self.reached: set[str] = set()

    @property
    def by_name(self) -> dict[str, list[str]]:
        if self._by_name is None:
            from ._reach import module_names

            self._by_name = {}
            for path in self._modules:
                for name in module_names(path):
                    self._by_name.setdefault(name, []).append(path)
        return self._by_name

    def module(self, dotted: str, importer: str) -> Optional[str]:
        """The file ``dotted`` (or its longest importable prefix) names; a one-segment name only
        from the importer's own directory, as sibling scripts import each other."""
        parts = dotted.lstrip(".").split(".")
        here = posixpath.dirname(importer)
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            for path in self.by_name.get(name, []):
                if end > 1 or posixpath.dirname(path) == here:
                    return path
        return None

    def function(self, module: Module, func: ast.AST) -> None:
        """A component function runs in the pipeline: its file, and repo modules it imports inside."""
        self.reached.add(module.path)
        for node in ast.walk(func):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                path = self.module(name, module.path)
                if path:
                    self.reached.add(path)

    def command(self, words: Iterable[Any], base: str) -> None:
        """A container command/args list: the literal words joined and resolved as a shell command."""
        text = " ".join(str(w) for w in words if isinstance(w, (str, int, float)))
        if text:
            self.reached |= self.targets(text, base)

    def file(self, value: Optional[str], base: str) -> None:
        if value and not re.match(r"^[a-z][a-z0-9+.-]*://", value):
            self.reached |= self.targets(f"python {value}", base) if value.endswith(".py") else set()


def _literal_words(module: Module, node: Optional[ast.AST]) -> list[str]:
    out = []
    for item in _elements(module, node) if not isinstance(node, ast.Constant) else [node]:
        value = _str_expr(module, item)
        if value is not None:
            out.append(value)
    return out


def pipeline_reached(ctx: ProbeContext, targets: "Callable[[str, str], set[str]]") -> set[str]:
    """Repository files that Kubeflow/Vertex, TFX, SageMaker or Azure ML pipelines run.

    - KFP: ``@dsl.component`` / ``create_component_from_func`` functions used as tasks in a
      ``@dsl.pipeline`` (their file and repo modules imported in their body), and container
      components or ``ContainerOp``s whose ``command``/``args`` run a repo module or script, and
      component YAML loaded with ``load_component_from_file``;
    - TFX: ``module_file=`` / ``run_fn=`` of components in a pipeline, custom ``@component``s used;
    - SageMaker: ``entry_point=``/``source_dir=`` of estimators and ``code=`` of processing steps in
      a file that defines a ``Pipeline``;
    - Azure ML: ``command(code=..., command="python ...")`` in a file that defines a ``@pipeline``.
    """
    index = ctx.facts.python
    code = _Code(ctx.facts, index.modules, targets)
    parsed: dict[str, Module] = {}
    from ._reach import PIPELINE_ROOTS

    for path in sorted(index.files):  # the prefilter took every file importing these (PIPELINE_TOKENS)
        pyfile = index.files[path]
        if pyfile.notebook or _is_test(path) or not any(pyfile.imports_module(r) for r in PIPELINE_ROOTS):
            continue
        text = ctx.facts.text(path)
        if text is None:
            continue
        try:
            parsed[path] = Module(path, ast.parse(text, filename=path), local_roots=_local_roots(ctx))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    components: dict[tuple[str, str], tuple[Module, Optional[ast.AST]]] = {}
    for module in parsed.values():
        _kfp_components(ctx, module, code, components)
    for module in parsed.values():
        for func, _dec in module.decorated(_KFP_PIPELINE):
            _kfp_pipeline_reach(module, func.body, code, components)
        _tfx_reach(module, code, components)
        _sm_reach(module, code)
        _aml_reach(module, code)
    return code.reached


def _kfp_components(ctx: ProbeContext, module: Module, code: _Code,
                    components: dict[tuple[str, str], tuple[Module, Optional[ast.AST]]]) -> None:
    for func, dec in module.decorated(_KFP_COMPONENT):
        components[(module.path, func.name)] = (module, func)
    for name, func in tfx_custom_components(module).items():
        components[(module.path, name)] = (module, func)
    for target, call in _assignments(module):
        loader = module.name(call).rsplit(".", 1)[-1]
        if loader in ("create_component_from_func", "func_to_container_op") and call.args:
            arg = call.args[0]
            func = next((f for f in module.functions if isinstance(arg, ast.Name) and f.name == arg.id), None)
            components[(module.path, target)] = (module, func)
        elif loader == "load_component_from_file" and call.args:
            value = _str_expr(module, call.args[0])
            components[(module.path, target)] = (module, None)
            if value:
                components[(module.path, target)] = (module, ast.Constant(value=repo_path(module, value)))


def _kfp_pipeline_reach(module: Module, body: list[ast.stmt], code: _Code,
                        components: dict[tuple[str, str], tuple[Module, Optional[ast.AST]]]) -> None:
    """Components a pipeline body uses as tasks (defined here or imported from the repository)."""
    for call in _body_calls(body):
        if module.name(call).endswith("dsl.ContainerOp"):
            code.command(_literal_words(module, _kw(call, "command")) + _literal_words(module, _kw(call, "arguments")), "")
            continue
        root = _root_callee(call)
        if root is None:
            continue
        key = (module.path, root)
        if key not in components and module.is_local(root):
            dotted = module.aliases[root]
            owner = code.module(dotted.rsplit(".", 1)[0], module.path) if "." in dotted.strip(".") else None
            key = (owner or "", dotted.rsplit(".", 1)[-1])
        if key in components:
            _component_reach(*components[key], code)


def _component_reach(module: Module, func: Optional[ast.AST], code: _Code) -> None:
    if isinstance(func, ast.Constant):  # a component YAML: implementation.container.command/args
        _yaml_component_reach(module, str(func.value), code)
    elif isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        specs = [c for c in _body_calls(func.body) if module.name(c).endswith("ContainerSpec")]
        for spec in specs:  # a container component: the command it runs, not the function
            code.command(_literal_words(module, _kw(spec, "command")) + _literal_words(module, _kw(spec, "args")), "")
        if not specs:
            code.function(module, func)


def _yaml_component_reach(module: Module, path: str, code: _Code) -> None:
    facts = code.facts
    for candidate in (path, posixpath.normpath(posixpath.join(posixpath.dirname(module.path), path))):
        if candidate not in facts.snapshot:
            continue
        doc = facts.yaml_doc(candidate)
        impl = doc.get("implementation") if isinstance(doc, dict) else None
        container = impl.get("container") if isinstance(impl, dict) else None
        if isinstance(container, dict):
            words = [w for key in ("command", "args") for w in (container.get(key) or []) if isinstance(w, str)]
            code.command(words, "")
            return


def _tfx_reach(module: Module, code: _Code,
               components: dict[tuple[str, str], tuple[Module, Optional[ast.AST]]]) -> None:
    for call in tfx_pipeline_calls(module):
        scope = _enclosing(module, call)
        body = scope.body if scope is not None else module.tree.body
        _kfp_pipeline_reach(module, body, code, components)  # custom @component functions used
        for sub in _body_calls(body):
            if tfx_class(module, sub) is None:
                continue
            for key in _MODULE_FILE_KWS:
                value = _str_expr(module, _kw(sub, key))
                if not value:
                    continue
                if key == "module_file":
                    code.file(repo_path(module, value), posixpath.dirname(module.path))
                else:  # "pkg.trainer.run_fn": the module holding the function
                    path = code.module(value.rsplit(".", 1)[0], module.path) if "." in value else None
                    if path:
                        code.reached.add(path)


_SM_ENTRY_KWS = ("entry_point", "code")


def _sm_reach(module: Module, code: _Code) -> None:
    if not any(module.name(c) == _SM_PIPELINE for c in module.calls):
        return
    base = posixpath.dirname(module.path)
    for call in module.calls:
        for key in _SM_ENTRY_KWS:
            value = _str_expr(module, _kw(call, key))
            if not value or not value.endswith(".py"):
                continue
            source = _str_expr(module, _kw(call, "source_dir"))
            root = repo_path(module, source) if source else base
            code.file(posixpath.join(root, value) if source and not posixpath.isabs(value) else repo_path(module, value),
                      base)


def _aml_reach(module: Module, code: _Code) -> None:
    if not module.decorated(_AML_PIPELINE):
        return
    for call in module.calls:
        if module.name(call) != "azure.ai.ml.command":
            continue
        command = _str_expr(module, _kw(call, "command"))
        if command:
            src = _str_expr(module, _kw(call, "code"))
            base = repo_path(module, src) if src else posixpath.dirname(module.path)
            if src and _HERE not in src:
                base = posixpath.normpath(posixpath.join(posixpath.dirname(module.path), src))
            code.reached |= code.targets(command, "" if base == "." else base)


# -- CI deploys ------------------------------------------------------------------------------

_DEPLOY_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((tool, lazy(rx)) for tool, rx in (
    ("kubeflow", r"\bkfp\s+(?:.*\s)?(?:dsl\s+compile|pipeline\s+(?:create|upload|create-version)|recurring-run\s+create)\b"),
    ("prefect", r"\bprefect\s+(?:deploy|deployment\s+(?:apply|build))\b"),
    ("databricks", r"\bdatabricks\s+bundle\s+deploy\b"),
    ("zenml", r"\bzenml\s+pipeline\s+(?:deploy|schedule|build)\b"),
    ("dagster", r"\bdagster-cloud\s+(?:serverless\s+)?deploy\b"),
    ("airflow", (r"\bastro\s+deploy\b|\bgcloud\s+composer\s+environments\s+storage\s+dags\s+import\b"
                 r"|\b(?:gsutil(?:\s+-m)?\s+(?:rsync|cp)|aws\s+s3\s+(?:sync|cp)|az\s+storage\s+blob\s+upload-batch)\b.*\bdags\b")),
    ("argo", r"\bargo\s+(?:cron\s+create|template\s+create|submit)\b"),
    ("metaflow", r"\bpython3?\s+\S+\.py\b.*\b(?:argo-workflows|step-functions|airflow)\s+create\b"),
    ("flyte", r"\b(?:pyflyte\s+register|flytectl\s+register)\b"),
    ("tfx", r"\btfx\s+(?:pipeline\s+(?:create|update|compile)|run\s+create)\b"),
    ("sagemaker", r"\brun-pipeline\b.*--module-name\b"),
))
# Python scripts that compile, upload or schedule a pipeline when CI runs them
_DEPLOY_CALLS = {
    "kubeflow": lazy(r"^kfp\..*compile$|(?:^|\.)(?:upload_pipeline|upload_pipeline_version|create_recurring_run"
                           r"|create_run_from_pipeline_package)$|PipelineJob.*\.(?:submit|create_schedule)$"),
    "sagemaker": lazy(r"(?:^|\.)upsert$"),
    "prefect": lazy(r"(?:^|\.)deploy$"),
    "tfx": lazy(r"DagRunner\b"),
    "azureml": lazy(r"(?:^|\.)(?:jobs\.(?:begin_)?create_or_update|schedules\.begin_create_or_update)$"),
}
_DEPLOY_ROOTS = {"kubeflow": {"kfp", "google"}, "sagemaker": {"sagemaker"}, "prefect": {"prefect"}, "tfx": {"tfx"},
                 "azureml": {"azure"}}
_SCRIPT = lazy(r"\bpython[0-9.]*\s+(?:-u\s+)?(?P<script>[\w./-]+\.py)\b|\bpython[0-9.]*\s+-m\s+(?P<module>[\w.]+)")


def _script_tool(ctx: ProbeContext, step: "Step", command: str) -> Optional[str]:
    match = _SCRIPT.search(command)
    if not match:
        return None
    if match.group("script"):
        path = posixpath.normpath(posixpath.join(step.workdir, match.group("script")))
    else:
        path = match.group("module").replace(".", "/") + ".py"
    pyfile = ctx.facts.python.files.get(path)
    if pyfile is None:
        return None
    roots = {i.module.split(".")[0] for i in pyfile.imports}
    for tool, rx in _DEPLOY_CALLS.items():
        if roots & _DEPLOY_ROOTS[tool] and any(rx.search(c.name) for c in pyfile.calls):
            if tool == "sagemaker" and not pyfile.imports_module("sagemaker.workflow"):
                continue
            if tool == "azureml" and not pyfile.imports_module("azure.ai.ml"):
                continue
            return tool
    return None


def _aml_command_tool(ctx: ProbeContext, step: "Step", line: str) -> Optional[str]:
    """``az ml job|schedule create --file X`` delivers a pipeline only when X is an Azure ML pipeline
    or schedule YAML of this repository (a single command job is not a pipeline)."""
    if not _AZ_ML_CREATE.search(line):
        return None
    for ref in _AZ_FILE.findall(line):
        path = posixpath.normpath(posixpath.join(step.workdir, ref.strip("'\""))).lstrip("/")
        if path not in ctx.facts.snapshot:
            continue
        for doc in ctx.facts.yaml(path) or []:
            if isinstance(doc, dict) and (doc.get("type") == "pipeline" or "create_job" in doc):
                return "azureml"
    return None


def _deploys(ctx: ProbeContext) -> Iterator[Evidence]:
    seen: set[tuple[str, str, str]] = set()
    for pipeline, job, step in ctx.facts.ci.steps():
        for line in step.commands():
            tool = (next((t for t, rx in _DEPLOY_COMMANDS if rx.search(line)), None) or _script_tool(ctx, step, line)
                    or _aml_command_tool(ctx, step, line))
            if tool is None:
                continue
            command = " ".join(line.split())[:200]
            key = (pipeline.path, job.id, command)
            if key in seen:
                continue
            seen.add(key)
            yield _deploy_evidence(ctx, pipeline, job, step, line, tool, command)


def _deploy_evidence(ctx: ProbeContext, pipeline: "Pipeline", job: "Job", step: "Step", line: str,
                     tool: str, command: str) -> Evidence:
    reasons = [f"disabled: {why}" for why in (job.disabled, step.disabled) if why]
    reasons += [f"non-blocking: {why}" for why in (job.non_blocking, step.command_non_blocking(line)) if why]
    triggers = trigger_types(step.triggers if step.triggers is not None else job.triggers)
    path = step.where(job)
    attrs = OrchestratorDeploy(tool=tool, command=command, job=job.id, system=pipeline.system,
                               triggers=triggers, blocking=not reasons)
    return ctx.evidence(
        "orchestrator.deploy", attrs, path=path, lines=_command_line(ctx, path, step, line),
        subject=f"{job.id}:{command}", strength=Strength.mention if reasons else Strength.configured,
        downgrades=reasons,
    )


def _command_line(ctx: ProbeContext, path: str, step: "Step", command: str) -> tuple[int, int]:
    """The line of the step holding the command's first words, else the whole step."""
    head = " ".join(command.split()[:3])
    lines = ctx.facts.lines(path) or []
    for number in range(max(step.start_line, 1), min(step.end_line, len(lines)) + 1):
        text = " ".join(lines[number - 1].split())
        if head and head in text and not text.startswith("#"):
            return number, number
    return step.start_line, step.end_line


# -- entry -----------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    yield from _python(ctx)
    yield from _definitions(ctx)
    yield from _azureml_yaml(ctx)
    yield from _deploys(ctx)


PROBE = Probe(
    id="orchestrators",
    title="Orchestrated pipelines (Airflow, Kubeflow, Prefect, Dagster, Metaflow, Argo, Databricks, Kedro, ZenML, Flyte,"
          " TFX, SageMaker Pipelines, Azure ML)",
    patterns=(
        "**/*.yaml", "**/*.yml", "**/*pipeline*.json", "**/*_spec.json",
    ),
    kinds=(
        Kind("orchestrator.pipeline", OrchestratorPipeline,
             "An orchestrated pipeline (DAG, flow, job, workflow) with its tasks, schedule and triggers"),
        Kind("orchestrator.deploy", OrchestratorDeploy,
             "A CI step that deploys, compiles or uploads an orchestrated pipeline (target pipeline), or a"
             " pipeline step that pushes or registers a model, with its gate (target model)"),
    ),
    collect=collect,
    python_tokens=imports_of("airflow", "kfp", "prefect", "dagster", "metaflow", "zenml", "flytekit", "kedro", "tfx",
                             "sagemaker.workflow", "azure.ai.ml")
    + ("aiplatform.PipelineJob", "PipelineJobSchedule", "DagRunner", r"\.upsert\(", "put_triggers"),
)
