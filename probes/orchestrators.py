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
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Literal, Optional

from scanner.facts.ci import trigger_types
from scanner.facts.python import PyFile, imports_of
from scanner.facts.yamldoc import YList, YMap
from scanner.models import Evidence, Strength
from scanner.probe import Attributes, Kind, Probe, ProbeContext

if TYPE_CHECKING:
    from scanner.facts.ci import Job, Pipeline, Step

Tool = Literal["airflow", "kubeflow", "prefect", "dagster", "metaflow", "argo", "databricks", "kedro",
               "zenml", "flyte"]
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


class OrchestratorDeploy(Attributes):
    tool: str
    command: str
    job: str
    system: str
    triggers: list[str]
    blocking: bool


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


_DATA_NAME = re.compile(
    r"(?i)(extract|ingest|load|read|write|fetch|download|upload|export|etl|transform|preprocess|prep"
    r"|clean|feature|validat|check|quality|expect|profil|split|dataset|data|sql|query|table|snapshot"
    r"|copy|transfer|parquet|csv|materiali[sz]e|importer)"
)
_DATA_CALL = re.compile(
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
_AIRFLOW_OPERATOR = re.compile(r"(?:Operator|Sensor)(?:Async)?$")
_AIRFLOW_DATA_OPERATOR = re.compile(
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


# -- Python driver ---------------------------------------------------------------------------

_PY_ROOTS = {"airflow": _airflow, "kfp": _kfp, "prefect": _prefect, "dagster": _dagster, "metaflow": _metaflow,
             "zenml": _zenml, "flytekit": _flyte}


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
    for item in all_found:
        yield _emit(ctx, item)


_IMPORTS = re.compile(r"^\s*(?:import|from)\s+(?:" + "|".join(list(_PY_ROOTS) + ["kedro"]) + r")\b", re.MULTILINE)


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


# -- CI deploys ------------------------------------------------------------------------------

_DEPLOY_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((tool, re.compile(rx)) for tool, rx in (
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
))
# Python scripts that compile, upload or schedule a pipeline when CI runs them
_DEPLOY_CALLS = {
    "kubeflow": re.compile(r"^kfp\..*compile$|(?:^|\.)(?:upload_pipeline|upload_pipeline_version|create_recurring_run"
                           r"|create_run_from_pipeline_package)$|PipelineJob.*\.(?:submit|create_schedule)$"),
    "sagemaker": re.compile(r"(?:^|\.)upsert$"),
    "prefect": re.compile(r"(?:^|\.)deploy$"),
}
_SCRIPT = re.compile(r"\bpython[0-9.]*\s+(?:-u\s+)?(?P<script>[\w./-]+\.py)\b|\bpython[0-9.]*\s+-m\s+(?P<module>[\w.]+)")


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
        needs = {"kubeflow": {"kfp", "google"}, "sagemaker": {"sagemaker"}, "prefect": {"prefect"}}[tool]
        if roots & needs and any(rx.search(c.name) for c in pyfile.calls):
            if tool == "sagemaker" and not pyfile.imports_module("sagemaker.workflow"):
                continue
            return tool
    return None


def _deploys(ctx: ProbeContext) -> Iterator[Evidence]:
    seen: set[tuple[str, str, str]] = set()
    for pipeline, job, step in ctx.facts.ci.steps():
        for line in step.commands():
            tool = next((t for t, rx in _DEPLOY_COMMANDS if rx.search(line)), None) or _script_tool(ctx, step, line)
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
    yield from _deploys(ctx)


PROBE = Probe(
    id="orchestrators",
    title="Orchestrated pipelines (Airflow, Kubeflow, Prefect, Dagster, Metaflow, Argo, Databricks, Kedro, ZenML, Flyte)",
    patterns=(
        "**/*.yaml", "**/*.yml", "**/*pipeline*.json", "**/*_spec.json",
    ),
    kinds=(
        Kind("orchestrator.pipeline", OrchestratorPipeline,
             "An orchestrated pipeline (DAG, flow, job, workflow) with its tasks, schedule and triggers"),
        Kind("orchestrator.deploy", OrchestratorDeploy,
             "A CI step that deploys, compiles or uploads an orchestrated pipeline"),
    ),
    collect=collect,
    python_tokens=imports_of("airflow", "kfp", "prefect", "dagster", "metaflow", "zenml", "flytekit", "kedro")
    + ("aiplatform.PipelineJob", "PipelineJobSchedule"),
)
