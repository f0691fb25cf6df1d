"""Model serving: service code, serving images, Kubernetes workloads, IaC, progressive delivery.

Covers RUBRIC §3.3 MD-c (serving code and packaging), MD-i/MD-j (IaC and environments), MD-q
(progressive delivery / shadow) and MD-r (automated rollback), plus the Kubernetes half of MO-a
(liveness/readiness probes; the route half is ``serving.app.health_route``).

Everything is read as data: Python through the shared AST index (plus a small ``ast`` pass of our
own over the few files that declare BentoML services, MLflow ``PythonModel`` subclasses or Azure ML
``init()/run()`` scoring scripts, because class bases and function definitions are not in the
index), Dockerfiles line by line, YAML through the facts layer, HCL/Bicep/CloudFormation by
comment-aware regular expressions (CloudFormation YAML uses ``!Ref`` tags that a safe loader
refuses, so it is read as text).
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Literal, Optional

from pydantic import Field, model_validator

from scanner.facts.python import PyFile
from scanner.facts.yamldoc import Manifest, YMap
from scanner.facts.yamldoc import dig as _dig
from scanner.facts.yamldoc import entry_span as _key_span
from scanner.facts.yamldoc import span as _span
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------

Framework = Literal[
    "fastapi", "flask", "grpc", "bentoml", "mlserver", "triton", "torchserve", "ray_serve",
    "mlflow_pyfunc", "azureml_score",
]


class ServingApp(Attributes):
    framework: Framework
    routes: list[str]
    health_route: bool
    predict_route: bool


class ServingContainer(Attributes):
    base_image: Optional[str]
    exposes: bool
    serves_model: bool


class K8sWorkload(Attributes):
    kind: str
    name: str
    liveness: bool
    readiness: bool
    replicas: Optional[int]
    image: Optional[str]


class ServingIac(Attributes):
    tool: Literal["helm", "kustomize", "terraform", "cloudformation", "bicep", "pulumi", "cdk"]
    environments: list[str]
    environment_count: int = 0  # len(environments), for rules that compare counts
    path: str
    resources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _count(self) -> "ServingIac":
        self.environment_count = len(self.environments)
        return self


class Progressive(Attributes):
    mechanism: Literal[
        "kserve_canary", "argo_rollouts_canary", "argo_rollouts_bluegreen", "flagger", "istio_weights",
        "istio_mirror", "seldon_traffic", "knative_traffic",
        "sagemaker_canary", "sagemaker_linear", "sagemaker_rolling", "sagemaker_shadow", "sagemaker_variants",
        "azureml_traffic", "azureml_mirror",
    ]
    name: str
    traffic_percent: Optional[int]


class AutoRollback(Attributes):
    mechanism: Literal["argo_analysis", "flagger_analysis", "sagemaker_auto_rollback"]
    analysis_templates: list[str]
    thresholds: bool


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------

_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")
_HEALTH = lazy(r"health|healthz|livez|readyz|liveness|readiness|(?:^|/)ready\b|(?:^|/)live\b|(?:^|/)ping\b", re.I)
_PREDICT = lazy(r"predict|infer|invocation|score|classif|recommend|forecast|generate|embed", re.I)
_MAX_ITEMS = 200  # cap on listed routes / resources per item: keeps attributes small


def _is_test(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(?:\.\d+)?\s*%?\s*", value):
        return int(float(value.strip().rstrip("%")))
    return None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _dirname(path: str) -> str:
    return posixpath.dirname(path)


# --------------------------------------------------------------------------------------------
# serving.app
# --------------------------------------------------------------------------------------------

_ROUTE_ATTRS = frozenset(
    {"get", "post", "put", "delete", "patch", "head", "options", "api_route", "route", "websocket",
     "add_api_route", "add_url_rule"}
)
_WEB_CTORS = {
    "fastapi.FastAPI": "fastapi", "fastapi.APIRouter": "fastapi",
    "flask.Flask": "flask", "flask.Blueprint": "flask",
}
# receivers that are HTTP clients, never route tables (`requests.get("/x")`, `client.post(...)`)
_CLIENT_ROOTS = frozenset({"requests", "httpx", "aiohttp", "urllib", "urllib3", "client", "session", "self"})
_SERVICER = lazy(r"^add_(\w+?)Servicer_to_server$")


def _route_calls(pyfile: PyFile) -> list[tuple[str, int, int]]:
    """(path, line, end_line) of route registrations: decorators such as `@app.get("/x")`."""
    found = []
    for call in pyfile.calls:
        if call.attr not in _ROUTE_ATTRS or "()" in call.name or "." not in call.name:
            continue
        if call.name.split(".", 1)[0] in _CLIENT_ROOTS:
            continue
        first = call.literal_args[0] if call.literal_args else call.kwarg("path", call.kwarg("rule"))
        if isinstance(first, str) and first.startswith("/"):
            found.append((first, call.line, call.end_line))
    return found


def _web_app(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    """FastAPI / Flask: a file that builds (or imports) the framework and registers routes."""
    ctor_lines: dict[str, list[int]] = {}
    for call in pyfile.calls:
        framework = _WEB_CTORS.get(call.name)
        if framework:
            ctor_lines.setdefault(framework, []).append(call.line)
    imported = {fw for fw in ("fastapi", "flask") if pyfile.imports_module(fw)}
    frameworks = set(ctor_lines) or imported
    routes = _route_calls(pyfile)
    if not frameworks or not routes:
        return  # importing FastAPI (an HTTPException, a TestClient) is not a service
    framework = "fastapi" if "fastapi" in frameworks else "flask"
    paths = sorted({r[0] for r in routes})[:_MAX_ITEMS]
    start = min([r[1] for r in routes] + ctor_lines.get(framework, []))
    end = max(r[2] for r in routes)
    yield _app_evidence(ctx, pyfile, framework, paths, (start, end))


def _app_evidence(
    ctx: ProbeContext, pyfile: PyFile, framework: str, routes: list[str], lines: tuple[int, int],
    *, health: Optional[bool] = None, predict: Optional[bool] = None,
) -> Evidence:
    attrs = ServingApp(
        framework=framework,  # type: ignore[arg-type]
        routes=routes,
        health_route=any(_HEALTH.search(r) for r in routes) if health is None else health,
        predict_route=any(_PREDICT.search(r) for r in routes) if predict is None else predict,
    )
    downgrades = ["serving code defined in a notebook"] if pyfile.notebook else []
    return ctx.evidence(
        "serving.app", attrs, path=pyfile.path, lines=lines, subject=framework,
        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
    )


def _grpc_app(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    servers = [c for c in pyfile.calls if c.name in ("grpc.server", "grpc.aio.server")]
    servicers = [(m.group(1), c) for c in pyfile.calls if (m := _SERVICER.match(c.attr))]
    if not servers or not servicers:
        return
    names = sorted({name for name, _ in servicers})[:_MAX_ITEMS]
    health = pyfile.imports_module("grpc_health") or any(n.lower() == "health" for n in names)
    predict = any(_PREDICT.search(n) for n in names)
    lines = (min(c.line for c in servers + [c for _, c in servicers]),
             max(c.end_line for c in servers + [c for _, c in servicers]))
    yield _app_evidence(ctx, pyfile, "grpc", names, lines, health=health, predict=predict)


def _ray_serve_app(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    if not pyfile.imports_module("ray"):
        return
    calls = [c for c in pyfile.calls if c.name.startswith("ray.serve.")]
    text = ctx.facts.text(pyfile.path) or ""
    decorated = re.search(r"^\s*@(?:ray\.)?serve\.deployment\b", text, re.M)
    if not calls and not decorated:
        return
    prefixes = sorted({p for c in calls if isinstance(p := c.kwarg("route_prefix"), str)})
    lines_of = [c.line for c in calls]
    if decorated:
        lines_of.append(text.count("\n", 0, decorated.start()) + 1)
    end = max([c.end_line for c in calls] + lines_of)
    yield _app_evidence(ctx, pyfile, "ray_serve", prefixes, (min(lines_of), end), health=True, predict=True)


def _torchserve_handler(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    imports = [i for i in pyfile.imports if i.module.startswith("ts.torch_handler")]
    if imports:
        line = imports[0].line
        yield _app_evidence(ctx, pyfile, "torchserve", [], (line, line), health=True, predict=True)


class _ClassScan(ast.NodeVisitor):
    """What the shared index does not keep: class bases, decorators and top-level functions."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.classes: list[tuple[ast.ClassDef, list[str]]] = []
        self.top_functions: dict[str, ast.AST] = {}

    def scan(self, tree: ast.Module) -> "_ClassScan":
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.top_functions[node.name] = node
        self.visit(tree)
        return self

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append((node, [self.dotted(b) for b in node.bases]))
        self.generic_visit(node)

    def dotted(self, node: ast.AST) -> str:
        if isinstance(node, ast.Call):
            node = node.func
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(self.aliases.get(node.id, node.id))
            return ".".join(reversed(parts))
        return ""


def _parse(ctx: ProbeContext, path: str) -> Optional[ast.Module]:
    text = ctx.facts.text(path)
    if text is None:
        return None
    try:
        return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _methods(node: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _class_based_apps(ctx: ProbeContext, pyfile: PyFile) -> Iterator[Evidence]:
    """BentoML services and MLflow pyfunc models: both are classes (bases/decorators)."""
    if pyfile.notebook:
        return
    text = ctx.facts.text(pyfile.path) or ""
    # cheap text checks first: our own parse is only worth it for files that can match
    bento = "bentoml" in text and ("@bentoml" in text or "bentoml.Service" in text) and pyfile.imports_module("bentoml")
    pyfunc = "PythonModel" in text and pyfile.imports_module("mlflow")
    if not (bento or pyfunc):
        return
    tree = _parse(ctx, pyfile.path)
    if tree is None:
        return
    scan = _ClassScan().scan(tree)
    if bento:
        yield from _bentoml_v1(ctx, pyfile, scan)
    for node, bases in scan.classes:
        decorators = [scan.dotted(d) for d in node.decorator_list]
        end = getattr(node, "end_lineno", node.lineno) or node.lineno
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        if bento and "bentoml.service" in decorators:
            apis = sorted(
                f"/{m.name}" for m in _methods(node)
                if any(scan.dotted(d) == "bentoml.api" for d in m.decorator_list)
            )
            yield _app_evidence(ctx, pyfile, "bentoml", apis, (start, end), health=True, predict=bool(apis))
        elif pyfunc and any(b in ("mlflow.pyfunc.PythonModel", "mlflow.pyfunc.model.PythonModel") for b in bases):
            has_predict = any(m.name == "predict" for m in _methods(node))
            yield _app_evidence(ctx, pyfile, "mlflow_pyfunc", [], (start, end), health=False, predict=has_predict)


def _bentoml_v1(ctx: ProbeContext, pyfile: PyFile, scan: _ClassScan) -> Iterator[Evidence]:
    """BentoML 1.x: ``svc = bentoml.Service(...)`` and functions decorated ``@svc.api(...)``."""
    ctors = [c for c in pyfile.calls if c.name == "bentoml.Service"]
    if not ctors:
        return
    apis = [
        node for node in scan.top_functions.values()
        if any(scan.dotted(d).endswith(".api") for d in getattr(node, "decorator_list", []))
    ]
    routes = sorted(f"/{n.name}" for n in apis)  # type: ignore[attr-defined]
    ends = [getattr(n, "end_lineno", 0) or 0 for n in apis]
    lines = (min(c.line for c in ctors), max([c.end_line for c in ctors] + ends))
    yield _app_evidence(ctx, pyfile, "bentoml", routes, lines, health=True, predict=bool(routes))


def _azureml_score(ctx: ProbeContext, path: str) -> Iterator[Evidence]:
    """An Azure ML scoring script: top-level ``init()`` and ``run(raw_data)``."""
    tree = _parse(ctx, path)
    if tree is None:
        return
    funcs = _ClassScan().scan(tree).top_functions
    if "init" in funcs and "run" in funcs:
        nodes = [funcs["init"], funcs["run"]]
        start = min(n.lineno for n in nodes)  # type: ignore[attr-defined]
        end = max(getattr(n, "end_lineno", 0) or n.lineno for n in nodes)  # type: ignore[attr-defined]
        attrs = ServingApp(framework="azureml_score", routes=[], health_route=False, predict_route=True)
        yield ctx.evidence("serving.app", attrs, path=path, lines=(start, end), subject="azureml_score")


def _config_apps(ctx: ProbeContext) -> Iterator[Evidence]:
    """Model servers configured by files: BentoML, MLServer, Triton, TorchServe.

    These runtimes serve standard health and inference endpoints themselves (V2 protocol,
    ``/ping``, ``/healthz``), so health_route/predict_route are true with no declared routes.
    """
    for path in ctx.paths:
        name = posixpath.basename(path)
        if name == "bentofile.yaml":
            doc = ctx.facts.yaml_doc(path)
            if isinstance(doc, dict) and doc.get("service"):
                attrs = ServingApp(framework="bentoml", routes=[], health_route=True, predict_route=True)
                yield ctx.evidence("serving.app", attrs, path=path, lines=_key_span(doc, "service"), subject="bentoml")
        elif name == "model-settings.json":
            doc = ctx.facts.json(path)
            if isinstance(doc, dict) and (doc.get("implementation") or doc.get("name")):
                lines = ctx.facts.lines(path) or [""]
                attrs = ServingApp(framework="mlserver", routes=[], health_route=True, predict_route=True)
                yield ctx.evidence("serving.app", attrs, path=path, lines=(1, len(lines)), subject="mlserver")
            elif doc is None and ctx.facts.text(path) is not None:
                yield ctx.unknown("serving.app", ctx.facts.problems.get(path, "unreadable"), path=path)
        elif name == "config.pbtxt":
            text = ctx.facts.text(path) or ""
            match = re.search(r"^\s*(?:platform|backend)\s*:", text, re.M)
            if match:
                line = text.count("\n", 0, match.start()) + 1
                attrs = ServingApp(framework="triton", routes=[], health_route=True, predict_route=True)
                yield ctx.evidence("serving.app", attrs, path=path, lines=(line, line), subject="triton")
        elif name == "config.properties":
            text = ctx.facts.text(path) or ""
            match = re.search(r"^\s*(?:inference_address|model_store)\s*=", text, re.M)
            if match:
                line = text.count("\n", 0, match.start()) + 1
                attrs = ServingApp(framework="torchserve", routes=[], health_route=True, predict_route=True)
                yield ctx.evidence("serving.app", attrs, path=path, lines=(line, line), subject="torchserve")


def _apps(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _is_test(path):
            continue
        roots = {i.module.split(".", 1)[0] for i in pyfile.imports}
        if roots & {"fastapi", "flask"}:
            yield from _web_app(ctx, pyfile)
        if "grpc" in roots:
            yield from _grpc_app(ctx, pyfile)
        if "ray" in roots:
            yield from _ray_serve_app(ctx, pyfile)
        if "ts" in roots:
            yield from _torchserve_handler(ctx, pyfile)
        if roots & {"bentoml", "mlflow"}:
            yield from _class_based_apps(ctx, pyfile)
    for path in ctx.paths:
        if re.search(r"(?:^|/)score[^/]*\.py$", path) and not _is_test(path):
            yield from _azureml_score(ctx, path)
    yield from _config_apps(ctx)


# --------------------------------------------------------------------------------------------
# serving.container
# --------------------------------------------------------------------------------------------

_DOCKERFILE = lazy(r"(?:^|/)(?:Dockerfile|Containerfile)(?:\.[^/]+)?$|\.(?:Dockerfile|dockerfile)$")
_SERVE_CMD = lazy(
    r"\b(?:uvicorn|gunicorn|hypercorn|granian|daphne|waitress-serve|bentoml\s+serve|mlflow\s+models\s+serve"
    r"|mlserver\s+start|torchserve|tritonserver|tensorflow_model_server|serve\s+run|fastapi\s+(?:run|dev)"
    r"|flask\s+run|seldon-core-microservice)\b"
    r"|\bpython[\d.]*\s+(?:-u\s+)?(?:-m\s+\S*serv\w*|\S*?\bserv\w*\.py)"
)
_SERVING_IMAGES = lazy(r"tritonserver|torchserve|tensorflow/serving|seldonio/mlserver|kserve/")
_HEREDOC = lazy(r"<<-?\s*['\"]?(\w+)['\"]?")


@dataclass
class _Instr:
    keyword: str
    args: str
    start: int
    end: int


@dataclass
class _Stage:
    image: str
    alias: str
    start: int
    instrs: list[_Instr] = field(default_factory=list)


def parse_dockerfile(lines: list[str]) -> list[_Instr]:
    """Instructions with their line spans: continuation lines joined, comments and heredocs skipped."""
    instrs: list[_Instr] = []
    i, total = 0, len(lines)
    while i < total:
        raw = lines[i].strip()
        if not raw or raw.startswith("#"):
            i += 1
            continue
        start, parts = i + 1, []
        while True:
            line = lines[i].strip()
            if parts and (not line or line.startswith("#")):
                if i + 1 >= total:
                    break  # comments and blank lines inside a continuation are dropped
                i += 1
                continue
            continued = line.endswith("\\")
            parts.append(line[:-1] if continued else line)
            if not continued or i + 1 >= total:
                break
            i += 1
        end = i + 1
        text = " ".join(p.strip() for p in parts if p.strip())
        keyword, _, args = text.partition(" ")
        heredoc = _HEREDOC.search(args) if keyword.upper() in ("RUN", "COPY", "ADD") else None
        if heredoc:
            delimiter = heredoc.group(1)
            while i + 1 < total and lines[i + 1].strip() != delimiter:
                i += 1
            i += 1
            end = min(i + 1, total)
        instrs.append(_Instr(keyword.upper(), args.strip(), start, end))
        i += 1
    return instrs


def _stages(instrs: list[_Instr]) -> list[_Stage]:
    args: dict[str, str] = {}
    stages: list[_Stage] = []
    for instr in instrs:
        if instr.keyword == "ARG" and not stages:
            name, _, default = instr.args.partition("=")
            args[name.strip()] = default.strip().strip("\"'")
        elif instr.keyword == "FROM":
            words = [w for w in instr.args.split() if not w.startswith("--")]
            image = words[0] if words else ""
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1)) or m.group(0), image)
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            stages.append(_Stage(image=image, alias=alias.lower(), start=instr.start))
        elif stages:
            stages[-1].instrs.append(instr)
    return stages


def _command(args: str) -> str:
    """Exec form (`["uvicorn", "app:app"]`) or shell form, as one command line."""
    if args.startswith("["):
        try:
            value = json.loads(args)
            if isinstance(value, list):
                return " ".join(str(v) for v in value)
        except ValueError:
            pass
    return args


def _chain(stages: list[_Stage]) -> list[_Stage]:
    """The final stage and the earlier stages it is built FROM (by alias), nearest first."""
    by_alias = {s.alias: s for s in stages if s.alias}
    chain = [stages[-1]]
    while chain[-1].image.lower() in by_alias and len(chain) <= len(stages):
        nxt = by_alias[chain[-1].image.lower()]
        if nxt in chain:
            break
        chain.append(nxt)
    return chain


def _last(chain: list[_Stage], keyword: str) -> Optional[_Instr]:
    for stage in chain:
        found = [i for i in stage.instrs if i.keyword == keyword]
        if found:
            return found[-1]
    return None


def _script_serves(ctx: ProbeContext, dockerfile: str, command: str) -> bool:
    """An entrypoint shell script in the repository that starts a server (`./entrypoint.sh`)."""
    for script in re.findall(r"[\w./-]+\.sh\b", command)[:5]:
        base = posixpath.basename(script)
        here = posixpath.normpath(posixpath.join(_dirname(dockerfile), script.lstrip("/")))
        candidates = [here] + [p for p in ctx.paths if p.endswith("/" + base) or p == base]
        for candidate in candidates[:10]:
            if candidate in ctx.snapshot and candidate.endswith(".sh") \
                    and _SERVE_CMD.search(ctx.facts.text(candidate) or ""):
                return True
    return False


def _containers(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        if not _DOCKERFILE.search(path):
            continue
        lines = ctx.facts.lines(path)
        if lines is None:
            yield ctx.unknown("serving.container", ctx.facts.problems.get(path, "unreadable"), path=path)
            continue
        stages = _stages(parse_dockerfile(lines))
        if not stages:
            continue
        chain = _chain(stages)
        base = chain[-1].image or None
        entry, cmd = _last(chain, "ENTRYPOINT"), _last(chain, "CMD")
        command = " ".join(_command(i.args) for i in (entry, cmd) if i)
        serves = bool(_SERVE_CMD.search(command)) or _script_serves(ctx, path, command)
        if not entry and not cmd and base and _SERVING_IMAGES.search(base):
            serves = True  # the base image's own entrypoint is the model server
        final = stages[-1]
        end = max([final.start] + [i.end for i in final.instrs])
        attrs = ServingContainer(
            base_image=base,
            exposes=any(i.keyword == "EXPOSE" for s in chain for i in s.instrs),
            serves_model=serves,
        )
        downgrades = [] if serves else ["image does not start a model server"]
        yield ctx.evidence(
            "serving.container", attrs, path=path, lines=(final.start, end),
            strength=Strength.configured if serves else Strength.mention, downgrades=downgrades,
        )


# --------------------------------------------------------------------------------------------
# Kubernetes-style documents (workloads, progressive delivery, rollback)
# --------------------------------------------------------------------------------------------

_YAML = lazy(r"\.ya?ml$")
_KIND_LINE = lazy(r"^kind:\s*['\"]?(\w+)", re.M)
_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "Rollout", "InferenceService", "SeldonDeployment"})
_PROGRESSIVE_KINDS = frozenset({"InferenceService", "Rollout", "Canary", "VirtualService", "SeldonDeployment",
                                "Experiment", "Service"})
_ROLLBACK_KINDS = frozenset({"AnalysisTemplate", "ClusterAnalysisTemplate", "Rollout", "Canary", "MetricTemplate"})


_Doc = Manifest  # a Kubernetes document and its file (scanner.facts.yamldoc)


def _chart_dirs(ctx: ProbeContext) -> set[str]:
    return {_dirname(p) for p in ctx.paths if posixpath.basename(p) == "Chart.yaml"}


def _in_chart_templates(path: str, charts: set[str]) -> bool:
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "templates" and "/".join(parts[:i]) in charts:
            return True
    return False


def _k8s_docs(ctx: ProbeContext) -> tuple[list[_Doc], list[Evidence]]:
    """Every YAML document with apiVersion + kind, and unknowns for malformed manifests.

    Helm templates are templates, not manifests: files under a chart's ``templates/`` are never
    parsed, and a file that fails to parse because it contains ``{{ }}`` is skipped silently.
    """
    charts = _chart_dirs(ctx)
    docs: list[_Doc] = []
    unknowns: list[Evidence] = []
    for path in ctx.paths:
        if not _YAML.search(path) or _in_chart_templates(path, charts):
            continue
        text = ctx.facts.text(path)
        if text is None or "kind:" not in text or "apiVersion" not in text:
            continue
        parsed = ctx.facts.yaml(path)
        if parsed is None:
            if "{{" in text:
                continue
            reason = ctx.facts.problems.get(path, "malformed YAML")
            kinds = set(_KIND_LINE.findall(text))
            for kind_name, wanted in (("serving.k8s_workload", _WORKLOAD_KINDS),
                                      ("serving.progressive", _PROGRESSIVE_KINDS),
                                      ("serving.auto_rollback", _ROLLBACK_KINDS)):
                if kinds & wanted:
                    unknowns.append(ctx.unknown(kind_name, reason, path=path))
            continue
        for doc in parsed:
            if isinstance(doc, YMap) and doc.get("apiVersion") and doc.get("kind"):
                docs.append(_Doc(path, doc))
    return docs, unknowns


def _containers_of(pod_spec: Any) -> list[dict]:
    containers = _dig(pod_spec, "containers")
    return [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []


def _workloads(ctx: ProbeContext, docs: list[_Doc]) -> Iterator[Evidence]:
    for item in docs:
        kind, spec = item.kind, item.doc.get("spec")
        if not isinstance(spec, dict):
            continue
        if kind in ("Deployment", "StatefulSet") or (kind == "Rollout" and item.api.startswith("argoproj.io")):
            containers = _containers_of(_dig(spec, "template", "spec"))
            attrs = K8sWorkload(
                kind=kind, name=item.name,
                liveness=any("livenessProbe" in c for c in containers),
                readiness=any("readinessProbe" in c for c in containers),
                replicas=_int(spec.get("replicas")),
                image=str(containers[0].get("image")) if containers and containers[0].get("image") else None,
            )
        elif kind == "InferenceService" and item.api.startswith("serving.kserve.io"):
            # KServe injects liveness/readiness for its model servers (RUBRIC MO-a "KServe defaults")
            predictor = spec.get("predictor") if isinstance(spec.get("predictor"), dict) else {}
            containers = _containers_of(predictor)
            attrs = K8sWorkload(
                kind=kind, name=item.name, liveness=True, readiness=True,
                replicas=_int(predictor.get("minReplicas")),
                image=str(containers[0].get("image")) if containers and containers[0].get("image") else None,
            )
        elif kind == "SeldonDeployment":
            predictors = spec.get("predictors") if isinstance(spec.get("predictors"), list) else []
            first = predictors[0] if predictors and isinstance(predictors[0], dict) else {}
            attrs = K8sWorkload(kind=kind, name=item.name, liveness=True, readiness=True,
                                replicas=_int(first.get("replicas")), image=None)
        else:
            continue
        yield ctx.evidence("serving.k8s_workload", attrs, path=item.path, lines=_span(item.doc),
                           subject=f"{kind}/{item.name}")


def _progressive(ctx: ProbeContext, docs: list[_Doc]) -> Iterator[Evidence]:
    for item in docs:
        spec = item.doc.get("spec")
        if not isinstance(spec, YMap):
            continue
        found = _progressive_of(item, spec)
        if found:
            mechanism, percent, lines = found
            attrs = Progressive(mechanism=mechanism, name=item.name, traffic_percent=percent)  # type: ignore[arg-type]
            yield ctx.evidence("serving.progressive", attrs, path=item.path, lines=lines,
                               subject=f"{item.kind}/{item.name}")


def _progressive_of(item: _Doc, spec: YMap) -> Optional[tuple[str, Optional[int], tuple[int, int]]]:
    kind, api = item.kind, item.api
    if kind == "InferenceService" and api.startswith("serving.kserve.io"):
        predictor = spec.get("predictor")
        percent = _int(_dig(predictor, "canaryTrafficPercent"))
        if percent is not None:
            return "kserve_canary", percent, _key_span(predictor, "canaryTrafficPercent")
    elif kind == "Rollout" and api.startswith("argoproj.io"):
        strategy = spec.get("strategy")
        if isinstance(_dig(strategy, "canary"), dict):
            steps = _dig(strategy, "canary", "steps") or []
            weights = [_int(s.get("setWeight")) for s in steps if isinstance(s, dict) and "setWeight" in s]
            first = next((w for w in weights if w is not None), None)
            return "argo_rollouts_canary", first, _key_span(spec, "strategy")
        if isinstance(_dig(strategy, "blueGreen"), dict):
            return "argo_rollouts_bluegreen", None, _key_span(spec, "strategy")
    elif kind == "Canary" and api.startswith("flagger.app"):
        analysis = spec.get("analysis") or spec.get("canaryAnalysis")
        if isinstance(analysis, dict):
            step = _int(analysis.get("stepWeight"))
            if step is None and isinstance(analysis.get("stepWeights"), list) and analysis["stepWeights"]:
                step = _int(analysis["stepWeights"][0])
            return "flagger", step, _key_span(spec, "analysis" if "analysis" in spec else "canaryAnalysis")
    elif kind == "VirtualService" and api.startswith("networking.istio.io"):
        return _istio(spec)
    elif kind == "SeldonDeployment":
        predictors = [p for p in (spec.get("predictors") or []) if isinstance(p, dict)]
        traffic = [t for p in predictors if (t := _int(p.get("traffic"))) is not None and 0 < t < 100]
        shadow = any(p.get("shadow") is True for p in predictors)
        if len(predictors) >= 2 and (traffic or shadow):
            return "seldon_traffic", min(traffic) if traffic else None, _key_span(spec, "predictors")
    elif kind == "Experiment" and api.startswith("mlops.seldon.io"):
        candidates = [c for c in (spec.get("candidates") or []) if isinstance(c, dict)]
        weights = [w for c in candidates if (w := _int(c.get("weight"))) is not None]
        if len(candidates) >= 2 or spec.get("mirror"):
            percent = round(100 * min(weights) / sum(weights)) if weights and sum(weights) else None
            return "seldon_traffic", percent, _span(spec)
    elif kind == "Service" and api.startswith("serving.knative.dev"):
        traffic = [t for t in (spec.get("traffic") or []) if isinstance(t, dict)]
        percents = [p for t in traffic if (p := _int(t.get("percent"))) is not None and 0 < p < 100]
        if len(traffic) >= 2 and percents:
            return "knative_traffic", min(percents), _key_span(spec, "traffic")
    return None


def _istio(spec: YMap) -> Optional[tuple[str, Optional[int], tuple[int, int]]]:
    http = spec.get("http")
    if not isinstance(http, list):
        return None
    for index, route in enumerate(http):
        if not isinstance(route, dict):
            continue
        lines = http.item_span(index) if hasattr(http, "item_span") else _span(route)
        if route.get("mirror"):
            value = _dig(route, "mirrorPercentage", "value")
            percent = _int(value) if value is not None else _int(route.get("mirrorPercent"))
            return "istio_mirror", 100 if percent is None else percent, lines
        dests = [d for d in (route.get("route") or []) if isinstance(d, dict)]
        weights = [w for d in dests if (w := _int(d.get("weight"))) is not None and 0 < w < 100]
        if len(dests) >= 2 and weights:
            return "istio_weights", min(weights), lines
    return None


def _analysis_refs(strategy: Any) -> list[tuple[str, bool]]:
    """(template name, cluster scoped) referenced by a Rollout's canary steps/background/blue-green."""
    blocks: list[Any] = []
    canary = _dig(strategy, "canary")
    if isinstance(canary, dict):
        blocks.append(canary.get("analysis"))
        for step in canary.get("steps") or []:
            if isinstance(step, dict):
                blocks.append(step.get("analysis"))
    blue = _dig(strategy, "blueGreen")
    if isinstance(blue, dict):
        blocks += [blue.get("prePromotionAnalysis"), blue.get("postPromotionAnalysis")]
    refs = []
    for block in blocks:
        for template in _dig(block, "templates") or []:
            if isinstance(template, dict) and template.get("templateName"):
                refs.append((str(template["templateName"]), template.get("clusterScope") is True))
    return refs


def _has_condition(template_doc: YMap) -> bool:
    """A metric decides pass/fail: successCondition/failureCondition, or a job that must succeed."""
    for metric in _dig(template_doc, "spec", "metrics") or []:
        if not isinstance(metric, dict):
            continue
        if metric.get("successCondition") or metric.get("failureCondition"):
            return True
        if isinstance(_dig(metric, "provider", "job"), dict):
            return True
    return False


def _auto_rollback(ctx: ProbeContext, docs: list[_Doc]) -> Iterator[Evidence]:
    templates = {
        (d.kind == "ClusterAnalysisTemplate", d.name): d for d in docs
        if d.kind in ("AnalysisTemplate", "ClusterAnalysisTemplate") and d.api.startswith("argoproj.io")
    }
    metric_templates = {d.name: d for d in docs if d.kind == "MetricTemplate" and d.api.startswith("flagger.app")}
    for item in docs:
        spec = item.doc.get("spec")
        if not isinstance(spec, YMap):
            continue
        if item.kind == "Rollout" and item.api.startswith("argoproj.io"):
            refs = _analysis_refs(spec.get("strategy"))
            if not refs:
                continue
            missing, weak = [], []
            for name, cluster in sorted(set(refs)):
                found = templates.get((cluster, name)) or templates.get((not cluster, name))
                if found is None:
                    missing.append(f"analysis template {name} not found in the repository")
                elif not _has_condition(found.doc):
                    weak.append(f"analysis template {name} has no successCondition/failureCondition")
            attrs = AutoRollback(mechanism="argo_analysis", analysis_templates=sorted({r[0] for r in refs}),
                                 thresholds=not missing and not weak)
            yield _rollback_evidence(ctx, item, attrs, missing + weak, _key_span(spec, "strategy"))
        elif item.kind == "Canary" and item.api.startswith("flagger.app"):
            key = "analysis" if "analysis" in spec else "canaryAnalysis"
            metrics = [m for m in (_dig(spec, key, "metrics") or []) if isinstance(m, dict)]
            if not metrics:
                continue
            refs = sorted({str(_dig(m, "templateRef", "name")) for m in metrics if _dig(m, "templateRef", "name")})
            problems = [f"metric template {n} not found in the repository" for n in refs if n not in metric_templates]
            thresholds = any(isinstance(m.get("thresholdRange"), dict) or m.get("threshold") is not None for m in metrics)
            if not thresholds:
                problems.append("canary analysis metrics have no thresholdRange")
            attrs = AutoRollback(mechanism="flagger_analysis", analysis_templates=refs, thresholds=thresholds)
            yield _rollback_evidence(ctx, item, attrs, problems, _key_span(spec, key))


def _rollback_evidence(ctx: ProbeContext, item: _Doc, attrs: AutoRollback, problems: list[str],
                       lines: tuple[int, int]) -> Evidence:
    """Enforced: the controller aborts and rolls back on its own. Configured when it cannot."""
    return ctx.evidence(
        "serving.auto_rollback", attrs, path=item.path, lines=lines, subject=f"{item.kind}/{item.name}",
        strength=Strength.configured if problems else Strength.enforced, downgrades=problems,
    )


# --------------------------------------------------------------------------------------------
# serving.iac
# --------------------------------------------------------------------------------------------

def _values_env(name: str) -> Optional[str]:
    match = re.fullmatch(r"values[-_.]([\w-]+)\.ya?ml", name)
    return match.group(1) if match else None


_VALUES_DIR = lazy(r"(?:values|environments|envs?)/([\w-]+)(?:/values)?\.ya?ml")


def _files_by_dir(paths: list[str]) -> dict[str, list[str]]:
    """Files per directory, and (under ``"<dir>/"``) the subdirectories of each directory."""
    by_dir: dict[str, list[str]] = {}
    seen: set[str] = set()
    for path in paths:
        directory = _dirname(path)
        by_dir.setdefault(directory, []).append(path)
        if directory and directory not in seen:
            seen.add(directory)
            by_dir.setdefault(_dirname(directory) + "/", []).append(directory)
    return by_dir


def _helm(ctx: ProbeContext, by_dir: dict[str, list[str]]) -> Iterator[Evidence]:
    for path in ctx.paths:
        if posixpath.basename(path) != "Chart.yaml":
            continue
        doc = ctx.facts.yaml_doc(path)
        if doc is None and ctx.facts.yaml(path) is None:
            yield ctx.unknown("serving.iac", ctx.facts.problems.get(path, "malformed Chart.yaml"), path=path)
            continue
        if not isinstance(doc, dict) or not doc.get("name"):
            continue
        chart = _dirname(path)
        envs = set()
        files = by_dir.get(chart, [])
        for sub in ("values", "environments", "envs", "env"):
            files = files + by_dir.get(posixpath.join(chart, sub), [])
            files = files + [p for d in by_dir.get(posixpath.join(chart, sub) + "/", []) for p in by_dir.get(d, [])]
        for other in files:
            rel = other[len(chart) + 1:] if chart else other
            env = _values_env(rel) if "/" not in rel else None
            nested = _VALUES_DIR.fullmatch(rel)
            if env or nested:
                envs.add(env or nested.group(1))  # type: ignore[union-attr]
        attrs = ServingIac(tool="helm", environments=sorted(envs), path=chart or ".")
        yield ctx.evidence("serving.iac", attrs, path=path, lines=_span(doc), subject=chart)


_KUSTOMIZATION = lazy(r"(?:^|/)(?:kustomization\.ya?ml|Kustomization)$")


def _kustomize(ctx: ProbeContext) -> Iterator[Evidence]:
    """One item per kustomize base; its environments are the overlays that build on it."""
    files = {_dirname(p): p for p in ctx.paths if _KUSTOMIZATION.search(p)}
    refs: dict[str, set[str]] = {d: set() for d in files}  # base dir -> overlay dirs
    references: set[str] = set()
    docs: dict[str, Any] = {}
    for directory, path in sorted(files.items()):
        doc = ctx.facts.yaml_doc(path)
        if doc is None and ctx.facts.yaml(path) is None:
            yield ctx.unknown("serving.iac", ctx.facts.problems.get(path, "malformed kustomization"), path=path)
            continue
        docs[directory] = doc
        entries = []
        for key in ("resources", "bases", "components"):
            value = _dig(doc, key)
            entries += [e for e in value if isinstance(e, str)] if isinstance(value, list) else []
        for entry in entries:
            if "://" in entry or entry.startswith(("github.com", "git@")):
                continue
            target = posixpath.normpath(posixpath.join(directory, entry)) if directory else posixpath.normpath(entry)
            target = "" if target == "." else target
            if target in files and target != directory:
                refs[target].add(directory)
                references.add(directory)
    for directory, doc in sorted(docs.items()):
        if directory in references and not refs[directory]:
            continue  # an overlay: reported through its base
        envs = {_env_name(o) for o in refs[directory]}
        if not refs[directory] and directory:
            parent, name = posixpath.split(directory)
            if posixpath.basename(parent) in ("overlays", "envs", "environments"):
                envs.add(name)
        attrs = ServingIac(tool="kustomize", environments=sorted(envs), path=directory or ".")
        yield ctx.evidence("serving.iac", attrs, path=files[directory], lines=_span(doc, (1, 1)), subject=directory)


def _env_name(directory: str) -> str:
    return posixpath.basename(directory) or "."


_TF_BLOCK = lazy(r'^[ \t]*(resource|module)\s+"([^"]+)"\s*(?:"([^"]*)")?\s*\{', re.M)
_TF_SOURCE = lazy(r'^[ \t]*source\s*=\s*"([^"]+)"', re.M)


def strip_hcl_comments(text: str) -> str:
    """Blank out `#`, `//` and `/* */` comments, keeping line structure and quoted strings."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = in_block = False
    while i < n:
        ch = text[i]
        if in_block:
            if text.startswith("*/", i):
                in_block = False
                out.append("  ")
                i += 2
                continue
            out.append("\n" if ch == "\n" else " ")
        elif in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == '"' or ch == "\n":
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == "#" or text.startswith("//", i):
            stop = text.find("\n", i)
            stop = n if stop == -1 else stop
            out.append(" " * (stop - i))
            i = stop
            continue
        elif text.startswith("/*", i):
            in_block = True
            out.append("  ")
            i += 2
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _block_end(text: str, open_at: int) -> int:
    """Offset of the brace closing the block opened at ``open_at`` (comment-free text)."""
    depth = 0
    for pos in range(open_at, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
    return len(text) - 1


@dataclass
class _TfDir:
    files: list[str] = field(default_factory=list)
    resources: set[str] = field(default_factory=set)
    first: Optional[tuple[str, int, int]] = None  # (path, start line, end line) of the first block
    module_sources: set[str] = field(default_factory=set)
    rollback: list[tuple[str, int, int, list[str]]] = field(default_factory=list)
    progressive: list[tuple[str, int, int, str, str, Optional[int]]] = field(default_factory=list)


def _tf_dirs(ctx: ProbeContext) -> dict[str, _TfDir]:
    dirs: dict[str, _TfDir] = {}
    for path in ctx.paths:
        if not path.endswith(".tf"):
            continue
        raw = ctx.facts.text(path)
        if raw is None:
            continue
        text = strip_hcl_comments(raw)
        entry = dirs.setdefault(_dirname(path), _TfDir())
        entry.files.append(path)
        for match in _TF_BLOCK.finditer(text):
            block_kind, label = match.group(1), match.group(2)
            open_at = match.end() - 1
            close = _block_end(text, open_at)
            start = text.count("\n", 0, match.start()) + 1
            end = text.count("\n", 0, close) + 1
            if entry.first is None:
                entry.first = (path, start, end)
            if block_kind == "resource":
                entry.resources.add(label)
                if label == "aws_sagemaker_endpoint":
                    found = re.compile(r"\bauto_rollback_configuration\s*\{").search(text, open_at, close)
                    if found:
                        rb_close = _block_end(text, found.end() - 1)
                        alarms = re.findall(r'alarm_name\s*=\s*"([^"]+)"', text[found.start():rb_close])
                        entry.rollback.append((path, _line_of(text, found.start()), _line_of(text, rb_close), alarms))
                if label in ("aws_sagemaker_endpoint", "aws_sagemaker_endpoint_configuration"):
                    for start_at, end_at, mechanism, percent in _tf_progressive(text, open_at, close):
                        entry.progressive.append((path, _line_of(text, start_at), _line_of(text, end_at), mechanism,
                                                  match.group(3) or label, percent))
            else:
                source = _TF_SOURCE.search(text[open_at:close])
                if source:
                    entry.module_sources.add(source.group(1))
    return dirs


def _terraform(ctx: ProbeContext) -> Iterator[Evidence]:
    dirs = _tf_dirs(ctx)
    users: dict[str, set[str]] = {}
    for directory, entry in dirs.items():
        for source in entry.module_sources:
            if source.startswith("."):
                target = posixpath.normpath(posixpath.join(directory, source))
                users.setdefault(target, set()).add(directory)
    tfvars = [p for p in ctx.paths if p.endswith((".tfvars", ".tfvars.json"))]
    for directory, entry in sorted(dirs.items()):
        if entry.first is None:
            continue
        envs = {_env_name(u) for u in users.get(directory, set())}
        for var_file in tfvars:
            var_dir, name = posixpath.split(var_file)
            parent_ok = var_dir == directory or (
                _dirname(var_dir) == directory and posixpath.basename(var_dir) in ("env", "envs", "environments", "vars", "tfvars")
            )
            stem = re.sub(r"\.tfvars(?:\.json)?$", "", name)
            stem = re.sub(r"^terraform\.", "", stem)
            if parent_ok and stem not in ("terraform", "common", "defaults", "variables") and not stem.endswith(".auto"):
                envs.add(stem)
        parent = _dirname(directory)
        if posixpath.basename(parent) in ("envs", "environments", "env", "live", "stages"):
            envs.add(posixpath.basename(directory))
        path, start, end = entry.first
        attrs = ServingIac(tool="terraform", environments=sorted(envs), path=directory or ".",
                           resources=sorted(entry.resources)[:_MAX_ITEMS])
        yield ctx.evidence("serving.iac", attrs, path=path, lines=(start, end), subject=directory)
        for rb_path, rb_start, rb_end, alarms in entry.rollback:
            yield _sagemaker_rollback(ctx, rb_path, (rb_start, rb_end), alarms)
        for pg_path, pg_start, pg_end, mechanism, name, percent in entry.progressive:
            yield _sagemaker_progressive(ctx, pg_path, (pg_start, pg_end), mechanism, name, percent)


def _sagemaker_rollback(ctx: ProbeContext, path: str, lines: tuple[int, int], alarms: list[str]) -> Evidence:
    attrs = AutoRollback(mechanism="sagemaker_auto_rollback", analysis_templates=sorted(set(alarms))[:_MAX_ITEMS],
                         thresholds=bool(alarms))
    downgrades = [] if alarms else ["auto-rollback configuration names no CloudWatch alarm"]
    return ctx.evidence("serving.auto_rollback", attrs, path=path, lines=lines, subject="sagemaker",
                        strength=Strength.enforced if alarms else Strength.configured, downgrades=downgrades)


_CFN_TYPE = lazy(r"""^[ \t]*["']?Type["']?\s*:\s*["']?(AWS::[\w:]+)""", re.M)


def _cloudformation(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        if not re.search(r"\.(?:ya?ml|json|template)$", path):
            continue
        text = ctx.facts.text(path)
        if text is None or "AWS::" not in text:
            continue
        if "AWSTemplateFormatVersion" not in text and not re.search(r"^\s*[\"']?Resources[\"']?\s*:", text, re.M):
            continue
        types = [(m.group(1), text.count("\n", 0, m.start()) + 1) for m in _CFN_TYPE.finditer(text)]
        if not types:
            continue
        lines = ctx.facts.lines(path) or []
        attrs = ServingIac(tool="cloudformation", environments=_cfn_environments(lines), path=path,
                           resources=sorted({t for t, _ in types})[:_MAX_ITEMS])
        yield ctx.evidence("serving.iac", attrs, path=path, lines=(1, len(lines)), subject=path)
        yield from _cfn_rollback(ctx, path, lines)
        yield from _cfn_progressive(ctx, path, lines)


def _cfn_environments(lines: list[str]) -> list[str]:
    """AllowedValues of a parameter named like Environment/Stage (block or flow list)."""
    envs: set[str] = set()
    for index, line in enumerate(lines):
        if not re.match(r"\s*[\"']?(?:Environment|Env|EnvName|EnvironmentName|Stage|StageName)[\"']?\s*:\s*$", line):
            continue
        indent = len(line) - len(line.lstrip())
        for inner_index in range(index + 1, min(len(lines), index + 40)):
            inner = lines[inner_index]
            if inner.strip() and len(inner) - len(inner.lstrip()) <= indent:
                break
            flow = re.match(r"\s*[\"']?AllowedValues[\"']?\s*:\s*\[(.*)\]", inner)
            if flow:
                envs.update(v.strip().strip("\"'") for v in flow.group(1).split(",") if v.strip())
                break
            if re.match(r"\s*AllowedValues\s*:\s*$", inner):
                for item in lines[inner_index + 1: inner_index + 20]:
                    value = re.match(r"\s*-\s*[\"']?([\w-]+)", item)
                    if not value:
                        break
                    envs.add(value.group(1))
                break
    return sorted(envs)


def _cfn_rollback(ctx: ProbeContext, path: str, lines: list[str]) -> Iterator[Evidence]:
    for index, line in enumerate(lines):
        if not re.match(r"\s*[\"']?AutoRollbackConfiguration[\"']?\s*:", line):
            continue
        indent = len(line) - len(line.lstrip())
        end, alarms = index + 1, []
        for inner_index in range(index + 1, min(len(lines), index + 60)):
            inner = lines[inner_index]
            if inner.strip() and len(inner) - len(inner.lstrip()) <= indent and not inner.strip().startswith(("}", "]")):
                break
            end = inner_index + 1 if inner.strip() else end
            alarm = re.search(r"[\"']?AlarmName[\"']?\s*:\s*(?:!Ref\s+)?[\"']?([\w.:/-]+)", inner)
            if alarm:
                alarms.append(alarm.group(1))
        yield _sagemaker_rollback(ctx, path, (index + 1, end), alarms)


_BICEP_PARAMS = lazy(
    r"(?:main\.)?([\w-]+)\.bicepparam|(?:[\w-]+\.)?parameters\.([\w-]+)\.json|([\w-]+)\.parameters\.json"
)
_BICEP_RESOURCE = lazy(r"^[ \t]*resource\s+\w+\s+'([^'@]+)@", re.M)


def _bicep(ctx: ProbeContext, by_dir: dict[str, list[str]]) -> Iterator[Evidence]:
    bicep_dirs: dict[str, list[str]] = {}
    for path in ctx.paths:
        if path.endswith(".bicep"):
            bicep_dirs.setdefault(_dirname(path), []).append(path)
    for directory, files in sorted(bicep_dirs.items()):
        resources: set[str] = set()
        first: Optional[tuple[str, int]] = None
        for path in files:
            text = strip_hcl_comments(ctx.facts.text(path) or "")
            for match in _BICEP_RESOURCE.finditer(text):
                resources.add(match.group(1))
                if first is None:
                    first = (path, text.count("\n", 0, match.start()) + 1)
        if first is None:
            continue
        envs = set()
        subdirs = set(by_dir.get(directory + "/", []))
        for other in by_dir.get(directory, []) + [p for d in sorted(subdirs) for p in by_dir.get(d, [])]:
            match = _BICEP_PARAMS.fullmatch(posixpath.basename(other))
            if match:
                env = next(g for g in match.groups() if g)
                if env not in ("main", "parameters"):
                    envs.add(env)
        attrs = ServingIac(tool="bicep", environments=sorted(envs), path=directory or ".",
                           resources=sorted(resources)[:_MAX_ITEMS])
        yield ctx.evidence("serving.iac", attrs, path=first[0], lines=(first[1], first[1]), subject=directory)


def _pulumi_cdk(ctx: ProbeContext, by_dir: dict[str, list[str]]) -> Iterator[Evidence]:
    for path in ctx.paths:
        name, directory = posixpath.basename(path), _dirname(path)
        if name in ("Pulumi.yaml", "Pulumi.yml"):
            doc = ctx.facts.yaml_doc(path)
            if not isinstance(doc, dict) or not doc.get("runtime"):
                continue
            stacks = sorted(
                m.group(1) for p in by_dir.get(directory, [])
                if (m := re.fullmatch(r"Pulumi\.([\w-]+)\.ya?ml", posixpath.basename(p)))
            )
            attrs = ServingIac(tool="pulumi", environments=stacks, path=directory or ".")
            yield ctx.evidence("serving.iac", attrs, path=path, lines=_span(doc), subject=directory)
        elif name == "cdk.json":
            doc = ctx.facts.json(path)
            if isinstance(doc, dict) and doc.get("app"):
                lines = ctx.facts.lines(path) or [""]
                attrs = ServingIac(tool="cdk", environments=[], path=directory or ".")
                yield ctx.evidence("serving.iac", attrs, path=path, lines=(1, len(lines)), subject=directory)


def _iac(ctx: ProbeContext) -> Iterator[Evidence]:
    by_dir = _files_by_dir(ctx.paths)
    yield from _helm(ctx, by_dir)
    yield from _kustomize(ctx)
    yield from _terraform(ctx)
    yield from _cloudformation(ctx)
    yield from _bicep(ctx, by_dir)
    yield from _pulumi_cdk(ctx, by_dir)


# --------------------------------------------------------------------------------------------
# SageMaker and Azure ML managed endpoints: progressive delivery, shadow, auto-rollback
# --------------------------------------------------------------------------------------------

_SM_ROUTING = {"CANARY": "sagemaker_canary", "LINEAR": "sagemaker_linear"}


def _tf_size(block: str, key: str) -> Optional[int]:
    """``value`` of a ``canary_size``/``linear_step_size``/``maximum_batch_size`` block in percent."""
    found = re.search(rf"\b{key}\s*\{{([^{{}}]*)\}}", block)
    if found and re.search(r'\btype\s*=\s*"CAPACITY_PERCENT"', found.group(1)):
        value = re.search(r"\bvalue\s*=\s*(\d+)", found.group(1))
        return int(value.group(1)) if value else None
    return None


def _tf_progressive(text: str, open_at: int, close: int) -> list[tuple[int, int, str, Optional[int]]]:
    """(start, end offsets, mechanism, percent) of SageMaker traffic shifting in one resource block.

    ``aws_sagemaker_endpoint``: a blue/green ``traffic_routing_configuration`` of type CANARY or
    LINEAR (ALL_AT_ONCE shifts everything at once, so it is not progressive) or a
    ``rolling_update_policy``. ``aws_sagemaker_endpoint_configuration``: shadow variants, or two or
    more weighted production variants (an A/B split)."""
    found: list[tuple[int, int, str, Optional[int]]] = []
    routing = re.compile(r"\btraffic_routing_configuration\s*\{").search(text, open_at, close)
    if routing:
        end = _block_end(text, routing.end() - 1)
        block = text[routing.start():end]
        top = re.sub(r"\b(?:canary_size|linear_step_size)\s*\{[^{}]*\}", "", block)
        kind = re.search(r'\btype\s*=\s*"(\w+)"', top)
        mechanism = _SM_ROUTING.get(kind.group(1)) if kind else None
        if mechanism:
            size = _tf_size(block, "canary_size" if mechanism == "sagemaker_canary" else "linear_step_size")
            found.append((routing.start(), end, mechanism, size))
    rolling = re.compile(r"\brolling_update_policy\s*\{").search(text, open_at, close)
    if rolling:
        end = _block_end(text, rolling.end() - 1)
        found.append((rolling.start(), end, "sagemaker_rolling", _tf_size(text[rolling.start():end], "maximum_batch_size")))
    shadow = re.compile(r"\bshadow_production_variants\s*\{").search(text, open_at, close)
    if shadow:
        found.append((shadow.start(), _block_end(text, shadow.end() - 1), "sagemaker_shadow", None))
    variants = list(re.compile(r"(?<!shadow_)\bproduction_variants\s*\{").finditer(text, open_at, close))
    weights: list[float] = []
    for variant in variants:
        body = text[variant.end():_block_end(text, variant.end() - 1)]
        weight = re.search(r"\binitial_variant_weight\s*=\s*([\d.]+)", body)
        if weight:
            weights.append(float(weight.group(1)))
    if len(variants) >= 2 and len(weights) >= 2 and sum(weights) > 0 and min(weights) > 0:
        found.append((variants[0].start(), _block_end(text, variants[-1].end() - 1), "sagemaker_variants",
                      round(100 * min(weights) / sum(weights))))
    return found


def _sagemaker_progressive(ctx: ProbeContext, path: str, lines: tuple[int, int], mechanism: str, name: str,
                           percent: Optional[int], downgrades: Iterable[str] = ()) -> Evidence:
    reasons = list(downgrades)
    attrs = Progressive(mechanism=mechanism, name=name, traffic_percent=percent)  # type: ignore[arg-type]
    return ctx.evidence("serving.progressive", attrs, path=path, lines=lines, subject=f"{mechanism}/{name}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_lines(lines: list[str], index: int) -> int:
    """Index after the last line of the YAML/JSON block opened by the key at ``index``."""
    indent, end = _indent(lines[index]), index + 1
    for inner in range(index + 1, min(len(lines), index + 200)):
        text = lines[inner]
        if text.strip() and _indent(text) <= indent and not text.strip().startswith(("}", "]")):
            break
        end = inner + 1 if text.strip() else end
    return end


def _cfn_logical_id(lines: list[str], index: int) -> str:
    """The resource a line belongs to: the ancestor key right under ``Resources``."""
    indent, ancestors = _indent(lines[index]), []
    for back in range(index - 1, -1, -1):
        text = lines[back]
        key = re.match(r"\s*[\"']?([\w:-]+)[\"']?\s*:", text)
        if text.strip() and key and _indent(text) < indent:
            ancestors.append(key.group(1))
            indent = _indent(text)
            if key.group(1) == "Resources":
                return ancestors[-2] if len(ancestors) >= 2 else ""
    return ""


_CFN_KEY = r"\s*[\"']?{}[\"']?\s*:"


def _cfn_scalar(lines: list[str], start: int, end: int, key: str) -> Optional[str]:
    """The first ``Key: value`` at the shallowest indentation between ``start`` and ``end``."""
    depth = min((_indent(line) for line in lines[start:end] if line.strip()), default=0)
    for line in lines[start:end]:
        found = re.match(_CFN_KEY.format(key) + r"\s*[\"']?([\w.-]+)", line)
        if found and _indent(line) == depth:
            return found.group(1)
    return None


def _cfn_size(lines: list[str], start: int, end: int, key: str) -> Optional[int]:
    for index in range(start, end):
        if re.match(_CFN_KEY.format(key), lines[index]):
            stop = _block_lines(lines, index)
            if _cfn_scalar(lines, index + 1, stop, "Type") == "CAPACITY_PERCENT":
                value = _cfn_scalar(lines, index + 1, stop, "Value")
                return _int(value)
    return None


def _cfn_progressive(ctx: ProbeContext, path: str, lines: list[str]) -> Iterator[Evidence]:
    """SageMaker ``DeploymentConfig`` canary/linear/rolling and shadow or weighted variants."""
    for index, line in enumerate(lines):
        if re.match(_CFN_KEY.format("TrafficRoutingConfiguration"), line):
            end = _block_lines(lines, index)
            mechanism = _SM_ROUTING.get(_cfn_scalar(lines, index + 1, end, "Type") or "")
            if mechanism:
                size_key = "CanarySize" if mechanism == "sagemaker_canary" else "LinearStepSize"
                yield _sagemaker_progressive(ctx, path, (index + 1, end), mechanism, _cfn_logical_id(lines, index),
                                             _cfn_size(lines, index + 1, end, size_key))
        elif re.match(_CFN_KEY.format("RollingUpdatePolicy"), line):
            end = _block_lines(lines, index)
            yield _sagemaker_progressive(ctx, path, (index + 1, end), "sagemaker_rolling", _cfn_logical_id(lines, index),
                                         _cfn_size(lines, index + 1, end, "MaximumBatchSize"))
        elif re.match(_CFN_KEY.format("ShadowProductionVariants"), line):
            end = _block_lines(lines, index)
            if any(re.search(r"VariantName", inner) for inner in lines[index + 1:end]):
                yield _sagemaker_progressive(ctx, path, (index + 1, end), "sagemaker_shadow",
                                             _cfn_logical_id(lines, index), None)
        elif re.match(_CFN_KEY.format("ProductionVariants"), line):
            end = _block_lines(lines, index)
            weights = [float(m.group(1)) for inner in lines[index + 1:end]
                       if (m := re.search(r"InitialVariantWeight[\"']?\s*:\s*[\"']?([\d.]+)", inner))]
            names = [inner for inner in lines[index + 1:end] if re.search(r"VariantName", inner)]
            if len(names) >= 2 and len(weights) >= 2 and sum(weights) > 0 and min(weights) > 0:
                yield _sagemaker_progressive(ctx, path, (index + 1, end), "sagemaker_variants",
                                             _cfn_logical_id(lines, index), round(100 * min(weights) / sum(weights)))


# -- boto3 ------------------------------------------------------------------------------------

_SM_CALLS = frozenset({"create_endpoint", "update_endpoint", "create_endpoint_config", "create_inference_experiment"})
_MAX_DEPTH = 6


class _Unresolved(str):
    """A value the probe could not read as a literal (an expression, an unknown name)."""


def _assignments(tree: ast.Module) -> dict[str, list[ast.Assign]]:
    """Simple ``name = value`` assignments anywhere in the file, in source order."""
    found: dict[str, list[ast.Assign]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, []).append(node)
    for nodes in found.values():
        nodes.sort(key=lambda n: n.lineno)
    return found


def _resolve(node: ast.AST, assigns: dict[str, list[ast.Assign]], before: int,
             depth: int = 0) -> tuple[Any, tuple[int, int]]:
    """A literal view of ``node`` (dicts, lists, constants; names followed to their last earlier
    assignment) and the lines it was read from."""
    lines = (node.lineno, getattr(node, "end_lineno", None) or node.lineno) if hasattr(node, "lineno") else (before, before)
    if depth > _MAX_DEPTH:
        return _Unresolved("..."), lines
    if isinstance(node, ast.Constant):
        return node.value, lines
    if isinstance(node, ast.Dict):
        return {k.value: _resolve(v, assigns, before, depth + 1)[0] for k, v in zip(node.keys, node.values)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)}, lines
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_resolve(e, assigns, before, depth + 1)[0] for e in node.elts], lines
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {k.arg: _resolve(k.value, assigns, before, depth + 1)[0] for k in node.keywords if k.arg}, lines
    if isinstance(node, ast.Name):
        earlier = [a for a in assigns.get(node.id, []) if a.lineno < before]
        if earlier:
            return _resolve(earlier[-1].value, assigns, earlier[-1].lineno, depth + 1)
    return _Unresolved(ast.unparse(node)[:60]), lines


def _size_percent(size: Any) -> Optional[int]:
    if isinstance(size, dict) and size.get("Type") == "CAPACITY_PERCENT":
        return _int(size.get("Value"))
    return None


def _sdk_findings(call: ast.Call, assigns: dict[str, list[ast.Assign]]) -> Iterator[tuple[str, Any, tuple[int, int]]]:
    """("progressive", (mechanism, percent), lines) and ("rollback", alarms, lines) of one call."""
    attr = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    kwargs = {k.arg: k.value for k in call.keywords if k.arg}
    if attr in ("create_endpoint", "update_endpoint") and "DeploymentConfig" in kwargs:
        config, lines = _resolve(kwargs["DeploymentConfig"], assigns, call.lineno)
        if not isinstance(config, dict):
            return
        routing = _dig(config, "BlueGreenUpdatePolicy", "TrafficRoutingConfiguration")
        mechanism = _SM_ROUTING.get(str(_dig(routing, "Type")))
        if mechanism:
            size = _dig(routing, "CanarySize" if mechanism == "sagemaker_canary" else "LinearStepSize")
            yield "progressive", (mechanism, _size_percent(size)), lines
        if isinstance(config.get("RollingUpdatePolicy"), dict):
            yield "progressive", ("sagemaker_rolling", _size_percent(_dig(config, "RollingUpdatePolicy", "MaximumBatchSize"))), lines
        alarms = _dig(config, "AutoRollbackConfiguration", "Alarms")
        if isinstance(config.get("AutoRollbackConfiguration"), dict):
            names = [str(a.get("AlarmName")) for a in alarms if isinstance(a, dict) and a.get("AlarmName")] \
                if isinstance(alarms, list) else []
            yield "rollback", names, lines
    elif attr == "create_endpoint_config":
        if "ShadowProductionVariants" in kwargs:
            shadow, lines = _resolve(kwargs["ShadowProductionVariants"], assigns, call.lineno)
            if isinstance(shadow, list) and shadow:
                yield "progressive", ("sagemaker_shadow", None), lines
        if "ProductionVariants" in kwargs:
            variants, lines = _resolve(kwargs["ProductionVariants"], assigns, call.lineno)
            weights = [w for v in variants if isinstance(v, dict) and isinstance(w := v.get("InitialVariantWeight"), (int, float))
                       and not isinstance(w, bool)] if isinstance(variants, list) else []
            if len(weights) >= 2 and sum(weights) > 0 and min(weights) > 0:
                yield "progressive", ("sagemaker_variants", round(100 * min(weights) / sum(weights))), lines
    elif attr == "create_inference_experiment":
        kind, _ = _resolve(kwargs["Type"], assigns, call.lineno) if "Type" in kwargs else (None, None)
        if kind == "ShadowMode" or "ShadowModeConfig" in kwargs:
            node = kwargs.get("ShadowModeConfig") or call
            yield "progressive", ("sagemaker_shadow", None), (node.lineno, getattr(node, "end_lineno", None) or node.lineno)


def _sdk_name(call: ast.Call, assigns: dict[str, list[ast.Assign]]) -> str:
    for key in ("EndpointName", "EndpointConfigName", "Name"):
        for keyword in call.keywords:
            if keyword.arg == key:
                value, _ = _resolve(keyword.value, assigns, call.lineno)
                return str(value)[:80] if isinstance(value, str) and not isinstance(value, _Unresolved) else ""
    return ""


def _sagemaker_sdk(ctx: ProbeContext) -> Iterator[Evidence]:
    """boto3 ``create_endpoint_config``/``create_endpoint``/``update_endpoint`` with traffic shifting,
    shadow variants or auto-rollback alarms. Dict arguments are read from the literal (or the
    variable's last assignment in the file); nothing is evaluated."""
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or pyfile.notebook or _is_test(path):
            continue
        if not any(c.attr in _SM_CALLS for c in pyfile.calls):
            continue
        text = ctx.facts.text(path) or ""
        if "sagemaker" not in text:
            continue  # another service's create_endpoint (e.g. a vector DB client)
        tree = _parse(ctx, path)
        if tree is None:
            continue
        assigns = _assignments(tree)
        calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                        and n.func.attr in _SM_CALLS), key=lambda n: (n.lineno, n.col_offset))
        for call in calls:
            name = _sdk_name(call, assigns)
            for what, value, lines in _sdk_findings(call, assigns):
                if what == "progressive":
                    mechanism, percent = value
                    yield _sagemaker_progressive(ctx, path, lines, mechanism, name, percent)
                else:
                    yield _sagemaker_rollback(ctx, path, lines, value)


# -- Azure ML managed online endpoints ---------------------------------------------------------


def _traffic(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): n for k, v in value.items() if (n := _int(v)) is not None}


def _azureml_endpoints(ctx: ProbeContext) -> Iterator[Evidence]:
    """An online endpoint YAML (CLI v2) splitting live traffic between deployments or mirroring it."""
    for path in ctx.paths:
        if not _YAML.search(path):
            continue
        text = ctx.facts.text(path)
        if text is None or not re.search(r"^(?:traffic|mirror_traffic):", text, re.M):
            continue
        if "OnlineEndpoint.schema.json" not in text and not re.search(r"^auth_mode:", text, re.M):
            continue
        doc = ctx.facts.yaml_doc(path)
        if not isinstance(doc, YMap):
            if ctx.facts.yaml(path) is None:
                yield ctx.unknown("serving.progressive", ctx.facts.problems.get(path, "malformed YAML"), path=path)
            continue
        name = str(doc.get("name") or posixpath.basename(path))
        split = _traffic(doc.get("traffic"))
        partial = [w for w in split.values() if 0 < w < 100]
        if len([w for w in split.values() if w > 0]) >= 2 and partial:
            yield _sagemaker_progressive(ctx, path, _key_span(doc, "traffic"), "azureml_traffic", name, min(partial))
        mirror = [w for w in _traffic(doc.get("mirror_traffic")).values() if w > 0]
        if mirror:
            yield _sagemaker_progressive(ctx, path, _key_span(doc, "mirror_traffic"), "azureml_mirror", name, max(mirror))


_AZ_UPDATE = lazy(r"\baz\s+ml\s+online-endpoint\s+update\b")
_AZ_FLAG = lazy(r"--(mirror-traffic|traffic)[\s=]+(\"[^\"]*\"|'[^']*'|\S+(?:\s+[\w-]+=\d+)*)")
_AZ_NAME = lazy(r"(?:--name|-n)[\s=]+[\"']?([\w${}.-]+)")


def _az_commands(lines: list[str], start: int, end: int) -> Iterator[tuple[int, int, str]]:
    """(first line, last line, command) of ``az ml online-endpoint update`` calls, continuations joined."""
    index = start
    while index < min(end, len(lines)):
        line = lines[index]
        if _AZ_UPDATE.search(line) and not line.lstrip().startswith("#"):
            first, command = index, line.strip()
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command = command[:-1].rstrip() + " " + lines[index].strip()
            yield first + 1, index + 1, command
        index += 1


def _az_split(ctx: ProbeContext, path: str, first: int, last: int, command: str,
              downgrades: list[str]) -> Iterator[Evidence]:
    name_match = _AZ_NAME.search(command)
    name = name_match.group(1) if name_match else ""
    for flag, value in _AZ_FLAG.findall(command):
        weights = [int(w) for w in re.findall(r"[\w-]+=(\d+)", value)]
        if flag == "traffic":
            partial = [w for w in weights if 0 < w < 100]
            if partial and len([w for w in weights if w > 0]) >= 2:
                yield _sagemaker_progressive(ctx, path, (first, last), "azureml_traffic", name, min(partial), downgrades)
        elif any(w > 0 for w in weights):
            yield _sagemaker_progressive(ctx, path, (first, last), "azureml_mirror", name, max(weights), downgrades)


def _azureml_cli(ctx: ProbeContext) -> Iterator[Evidence]:
    """``az ml online-endpoint update --traffic "blue=90 green=10"`` (or ``--mirror-traffic``) run by
    CI or by a shell script in the repository; a disabled CI job or step only mentions it."""
    for _, job, step in ctx.facts.ci.steps():
        if not _AZ_UPDATE.search(step.run):
            continue
        path = step.where(job)
        lines = ctx.facts.lines(path) or []
        disabled = job.disabled or step.disabled
        downgrades = [f"CI job or step disabled: {disabled}"] if disabled else []
        for first, last, command in _az_commands(lines, step.start_line - 1, step.end_line):
            yield from _az_split(ctx, path, first, last, command, downgrades)
    for path in ctx.paths:
        if path.endswith(".sh"):
            lines = ctx.facts.lines(path) or []
            for first, last, command in _az_commands(lines, 0, len(lines)):
                yield from _az_split(ctx, path, first, last, command, [])


# --------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    yield from _apps(ctx)
    yield from _containers(ctx)
    docs, unknowns = _k8s_docs(ctx)
    yield from unknowns
    yield from _workloads(ctx, docs)
    yield from _progressive(ctx, docs)
    yield from _auto_rollback(ctx, docs)
    yield from _iac(ctx)
    yield from _sagemaker_sdk(ctx)
    yield from _azureml_endpoints(ctx)
    yield from _azureml_cli(ctx)


PROBE = Probe(
    id="serving",
    title="Model serving: service code, images, workloads, IaC and progressive delivery",
    patterns=(
        "**/*.yaml", "**/*.yml",
        "**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile", "**/*.dockerfile", "**/Containerfile",
        "**/Containerfile.*", "**/*.sh",
        "**/score*.py", "**/model-settings.json", "**/config.pbtxt", "**/config.properties",
        "**/*.tf", "**/*.tfvars", "**/*.tfvars.json", "**/*.bicep", "**/*.bicepparam", "**/*parameters*.json",
        "**/cdk.json", "**/*.template", "**/*template*.json", "**/*.cfn.json", "**/cloudformation/**/*.json",
    ),
    kinds=(
        Kind("serving.app", ServingApp, "Serving code: a web/gRPC service with routes, or a model-server runtime config"),
        Kind("serving.container", ServingContainer, "A Dockerfile/Containerfile; serves_model when its command starts a model server"),
        Kind("serving.k8s_workload", K8sWorkload, "A Kubernetes workload (Deployment, StatefulSet, Rollout, InferenceService) with its probes"),
        Kind("serving.iac", ServingIac, "Infrastructure as code for serving (Helm, Kustomize, Terraform, CloudFormation, Bicep, Pulumi, CDK) with its environments"),
        Kind("serving.progressive", Progressive, "Progressive delivery or shadow traffic (canary, blue-green, weights, mirror; SageMaker, Azure ML)"),
        Kind("serving.auto_rollback", AutoRollback, "Automated rollback on metrics or alarms (Argo analysis, Flagger, SageMaker)"),
    ),
    collect=collect,
    python_tokens=("fastapi", "flask", "Flask", "grpc", "bentoml", "ray.serve", "ray import serve", "pyfunc",
                   "PythonModel", "torch_handler", "create_endpoint", "update_endpoint", "create_inference_experiment"),
    weight=4,  # every Kubernetes, Helm and IaC manifest is parsed
)
