"""Feature stores and whether CI applies their definitions (RUBRIC §3.1 DM-m; §5.7).

One ``feature_store.repo`` per feature repository:

- Feast: a ``feature_store.yaml`` plus the ``FeatureView``/``Entity``/``FeatureService``
  definitions in the Python files that import feast under its directory (``Field(name=...)`` in
  view schemas gives the feature names); applied when a CI step runs ``feast apply`` (``feast plan``
  only previews).
- Tecton: files importing tecton (feature views, entities, services); applied by ``tecton apply``.
- Hopsworks (``get_or_create_feature_group(..., version=)``), Databricks Feature Engineering
  (``FeatureEngineeringClient``/``FeatureLookup``), SageMaker ``FeatureGroup``, Vertex AI
  ``FeatureOnlineStore``/``FeatureView``: code that creates feature tables, applied when a CI step
  runs that file.
- Azure ML managed feature store: ``featureset_spec.yaml``; applied by ``az ml feature-set
  create|update`` in CI.

A repository that CI never applies is only a description of features: ``mention`` with the
downgrade "not applied by CI". A non-blocking or disabled apply step does not count.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Literal, Optional

from scanner.facts.ci import ci_blocking_reasons
from scanner.facts.python import imports_of
from scanner.facts.yamldoc import YMap, as_list
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from .great_expectations import resolve, script_refs

if TYPE_CHECKING:
    from scanner.facts.python import Call, PyFile

Tool = Literal["feast", "tecton", "hopsworks", "databricks", "sagemaker", "vertex", "azureml"]
MAX_FEATURES = 200
NOT_APPLIED = "not applied by CI"


class FeatureStoreRepo(Attributes):
    tool: Tool
    feature_views: int
    entities: int
    services: int
    features: list[str]
    applied_in_ci: bool


@dataclass
class Repo:
    """A feature repository: its definitions, and where to cite it."""

    tool: Tool
    path: str
    span: tuple[int, int]
    root: str  # directory the definitions live under ("" = repository root)
    feature_views: int = 0
    entities: int = 0
    services: int = 0
    features: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


# -- Python definitions ------------------------------------------------------------------------------

_VIEW_CALLS = frozenset({"FeatureView", "BatchFeatureView", "StreamFeatureView", "OnDemandFeatureView",
                         "on_demand_feature_view", "stream_feature_view", "batch_feature_view", "realtime_feature_view"})
_FIELD_CALLS = frozenset({"Field", "Feature", "Attribute"})


def _literal_name(call: "Call", key: str = "name") -> Optional[str]:
    named = call.kwarg(key)
    if isinstance(named, str):
        return named
    first = call.literal_args[0] if call.literal_args else None
    return first if isinstance(first, str) else None


def _count_definitions(repo: Repo, pyfile: "PyFile", package: str) -> None:
    calls = [c for c in pyfile.calls if c.name.startswith(package)]
    repo.feature_views += sum(c.attr in _VIEW_CALLS for c in calls)
    repo.entities += sum(c.attr == "Entity" for c in calls)
    repo.services += sum(c.attr == "FeatureService" for c in calls)
    for call in calls:
        if call.attr in _FIELD_CALLS:
            name = _literal_name(call)
            if name:
                repo.features.add(name)
    if any(c.attr in _VIEW_CALLS | {"Entity", "FeatureService"} for c in calls):
        repo.files.append(pyfile.path)


def feast_repos(ctx: ProbeContext) -> list[Repo]:
    """Feast repositories (``feature_store.yaml`` + definitions); probes/coverage.py reads the
    feature names from here. Memoised per scan."""
    return ctx.memo("feature_store.feast", lambda: _feast(ctx))


def _feast(ctx: ProbeContext) -> list[Repo]:
    repos: list[Repo] = []
    for path in ctx.paths:
        if posixpath.basename(path) != "feature_store.yaml":
            continue
        doc = ctx.facts.yaml_doc(path)
        root = posixpath.dirname(path)
        if not isinstance(doc, YMap) or "project" not in doc:
            reason = ctx.facts.problems.get(path) or "feature_store.yaml without a `project:`"
            repos.append(Repo(tool="feast", path=path, span=(0, 0), root=root, reasons=[f"unknown: {reason}"]))
            continue
        repos.append(Repo(tool="feast", path=path, span=doc.span, root=root))
    feast_files = {p: f for p, f in sorted(ctx.facts.python.files.items())
                   if f.imports_module("feast") and not f.notebook}
    for repo in repos:
        inside = [f for p, f in feast_files.items() if not repo.root or p.startswith(repo.root + "/")]
        for pyfile in inside or (list(feast_files.values()) if len(repos) == 1 else []):
            _count_definitions(repo, pyfile, "feast")
    return repos


_CODE_TOOLS: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = (
    # tool, import prefixes, calls that create or register feature tables
    ("hopsworks", ("hopsworks", "hsfs"), frozenset({"get_or_create_feature_group", "create_feature_group",
                                                   "get_or_create_feature_view", "create_feature_view"})),
    ("databricks", ("databricks.feature_engineering", "databricks.feature_store"),
     frozenset({"create_table", "create_feature_table", "FeatureLookup", "FeatureFunction"})),
    ("sagemaker", ("sagemaker.feature_store",), frozenset({"FeatureGroup"})),
    ("vertex", ("google.cloud.aiplatform", "vertexai"),
     frozenset({"FeatureOnlineStore", "FeatureView", "FeatureGroup", "create_feature_view", "create_bigtable_store",
                "create_optimized_store"})),
)


def _code_repo(tool: str, pyfile: "PyFile", prefixes: tuple[str, ...], calls_of: frozenset[str]) -> Optional[tuple[Repo, list["Call"]]]:
    if not any(pyfile.imports_module(p) for p in prefixes):
        return None
    calls = [c for c in pyfile.calls if c.attr in calls_of]
    if tool in ("sagemaker", "vertex"):
        calls = [c for c in calls if c.name.startswith(prefixes) or c.attr.startswith("create_")]
    if not calls:
        return None
    repo = Repo(tool=tool, path=pyfile.path, span=(min(c.line for c in calls), max(c.end_line for c in calls)),  # type: ignore[arg-type]
                root=posixpath.dirname(pyfile.path), files=[pyfile.path])
    if tool == "hopsworks":
        groups = [c for c in calls if "feature_group" in c.attr]
        repo.feature_views = len(calls)
        if groups and not all("version" in c.keywords for c in groups):
            repo.reasons.append("feature group without a pinned `version=`")
    elif tool == "databricks":
        repo.feature_views = sum(c.attr in ("create_table", "create_feature_table") for c in calls)
        # FeatureLookup(feature_names=[...]) lists are not literals in the shared index: names unknown
    elif tool == "sagemaker":
        repo.feature_views = len(calls)
        repo.features.update(n for c in pyfile.calls if c.attr == "FeatureDefinition"
                             for n in [_literal_name(c, "feature_name")] if n)
    else:
        repo.feature_views = sum(c.attr in ("FeatureView", "create_feature_view") for c in calls)
    return repo, calls


# -- Azure ML featureset specs -------------------------------------------------------------------------


def _azure_spec(ctx: ProbeContext, path: str) -> Optional[Repo | str]:
    doc = ctx.facts.yaml_doc(path)
    if doc is None and ctx.facts.problems.get(path):
        return ctx.facts.problems[path]
    if not isinstance(doc, YMap) or "features" not in doc:
        return None
    repo = Repo(tool="azureml", path=path, span=doc.key_span("features"), root=posixpath.dirname(path), files=[path])
    for item in as_list(doc.get("features")):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            repo.features.add(item["name"])
    repo.feature_views = 1
    repo.entities = len(as_list(doc.get("index_columns")))
    return repo


# -- CI ------------------------------------------------------------------------------------------------

_APPLY = {
    "feast": lazy(r"(?<![\w./-])feast\s+(?:\S+\s+)*?apply\b"),
    "tecton": lazy(r"(?<![\w./-])tecton\s+(?:\S+\s+)*?apply\b"),
    "azureml": lazy(r"(?<![\w./-])az\s+ml\s+feature-set\s+(?:create|update)\b"),
}
_PLAN = {
    "feast": lazy(r"(?<![\w./-])feast\s+(?:\S+\s+)*?plan\b"),
    "tecton": lazy(r"(?<![\w./-])tecton\s+(?:\S+\s+)*?plan\b"),
}


def _ci_applies(ctx: ProbeContext, repo: Repo, several: bool, modules: set[str],
                by_suffix: dict[str, list[str]]) -> tuple[bool, list[str]]:
    """(applied by a CI step that can fail the job, reasons it does not count)."""
    reasons: list[str] = []
    planned = False
    for _pipeline, job, step in ctx.facts.ci.steps():
        for line in step.commands():
            apply, plan = _APPLY.get(repo.tool), _PLAN.get(repo.tool)
            targets = repo.files if repo.tool not in _APPLY else []
            hits_file = any(resolve(ref, modules, by_suffix) in targets for ref in script_refs(line, step.workdir))
            if not hits_file and not (apply and apply.search(line)):
                planned = planned or bool(plan and plan.search(line))
                continue
            if several and not hits_file and repo.root and repo.root not in line and repo.root != step.workdir:
                continue  # another repository's apply
            blocking = ci_blocking_reasons(job, step, line)
            if not blocking:
                return True, []
            reasons += [f"apply step in job {job.id}: {why}" for why in blocking]
    if planned and not reasons:
        reasons.append(f"CI only runs `{repo.tool} plan`; nothing applies the definitions")
    return False, reasons


# -- probe -----------------------------------------------------------------------------------------------


def _all_repos(ctx: ProbeContext) -> Iterator[Repo | tuple[str, str]]:
    for repo in feast_repos(ctx):
        yield (repo.path, repo.reasons[0][len("unknown: "):]) if repo.reasons and repo.reasons[0].startswith("unknown: ") else repo
    tecton: Optional[Repo] = None
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        if pyfile.notebook:
            continue
        if pyfile.imports_module("tecton"):
            defs = [c for c in pyfile.calls if c.name.startswith("tecton") and c.attr in _VIEW_CALLS | {"Entity", "FeatureService"}]
            if defs:
                if tecton is None:
                    tecton = Repo(tool="tecton", path=path, span=(defs[0].line, defs[-1].end_line), root="")
                _count_definitions(tecton, pyfile, "tecton")
        for tool, prefixes, calls_of in _CODE_TOOLS:
            found = _code_repo(tool, pyfile, prefixes, calls_of)
            if found:
                yield found[0]
    if tecton:
        yield tecton
    for path in ctx.paths:
        if posixpath.basename(path).lower() in ("featureset_spec.yaml", "featureset_spec.yml"):
            spec = _azure_spec(ctx, path)
            if isinstance(spec, str):
                yield (path, spec)
            elif spec:
                yield spec


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    modules = set(ctx.facts.python.modules)
    by_suffix: dict[str, list[str]] = {}
    for module in sorted(modules):
        by_suffix.setdefault(posixpath.basename(module), []).append(module)
    repos = list(_all_repos(ctx))
    for path, reason in sorted(ctx.facts.ci.unreadable.items()):
        text = ctx.facts.text(path) or ""
        if any(rx.search(text) for rx in _APPLY.values()):
            yield ctx.unknown("feature_store.repo", f"CI file not readable: {reason}", path=path)
    counts: dict[str, int] = {}
    for repo in repos:
        if isinstance(repo, Repo):
            counts[repo.tool] = counts.get(repo.tool, 0) + 1
    for repo in repos:
        if isinstance(repo, tuple):
            yield ctx.unknown("feature_store.repo", repo[1], path=repo[0])
            continue
        applied, why = _ci_applies(ctx, repo, counts.get(repo.tool, 0) > 1, modules, by_suffix)
        reasons = list(repo.reasons)
        if not applied:
            reasons = [NOT_APPLIED] + why + reasons
        if repo.tool == "feast" and not repo.files:
            reasons.append("no FeatureView/Entity/FeatureService definitions found")
        attrs = FeatureStoreRepo(
            tool=repo.tool, feature_views=repo.feature_views, entities=repo.entities, services=repo.services,
            features=sorted(repo.features)[:MAX_FEATURES], applied_in_ci=applied,
        )
        yield ctx.evidence("feature_store.repo", attrs, path=repo.path, lines=repo.span, subject=f"{repo.tool}:{repo.path}",
                           strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


PROBE = Probe(
    id="feature_store",
    title="Feature stores (Feast, Tecton, Hopsworks, Databricks, SageMaker, Vertex, Azure ML) and CI apply",
    patterns=("**/feature_store.yaml", "**/featureset_spec.yaml", "**/featureset_spec.yml"),
    kinds=(
        Kind("feature_store.repo", FeatureStoreRepo, "Feature definitions in a feature store, and whether CI applies them"),
    ),
    collect=collect,
    python_tokens=(
        *imports_of("feast", "tecton", "hopsworks", "hsfs", "databricks.feature_engineering",
                    "databricks.feature_store", "sagemaker.feature_store", "google.cloud.aiplatform", "vertexai"),
        r"from[ \t]+google\.cloud[ \t]+import[ \t]+aiplatform\b",
    ),
)
