"""Azure Pipelines (``azure-pipelines.yml`` and its local templates) as :class:`~scanner.facts.ci.Pipeline`.

What the normalisation decides, and why:

- Claimed by path: ``azure-pipelines*.yml`` / ``.azure-pipelines*.yml`` anywhere, and YAML files
  under ``.pipelines/`` or ``.azure-pipelines/`` (except ``template(s)/`` folders, which hold
  templates, not pipelines). Other YAML is looked at only where pipelines are usually kept
  (:data:`AZURE_HINT_PATH`: under ``.azure*/``, ``azure*/``, ``.ado/``, ``.azuredevops/``,
  ``.vsts*/``, ``devops/``, ``pipelines/``, ``ci/``, ``cicd/``, ``build/``, or named
  ``*pipeline*``/``*vsts*``), never in vendored trees, so a 20,000-file repository is not parsed
  for this. There it counts only when :func:`sniff` says so: top-level ``trigger``/``pr``/
  ``schedules``/``extends`` and ``stages``/``jobs``/``steps`` keys at column 0 (a text check before
  any parsing), then a mapping with a *list* of ``stages``/``jobs``/``steps`` (GitHub's ``jobs`` is
  a mapping) whose items are Azure's (``- stage``, ``- job``/``- deployment``, ``- script``/
  ``- task``..., or ``- template``), and nothing of GitHub (``on``/``runs-on``), GitLab, Kubernetes
  or Bitbucket. A config file that merely has ``trigger:`` and a ``jobs:`` list is not a pipeline.
- Triggers: ``trigger`` absent -> push on every branch (Azure's default); ``trigger: none`` -> no
  push; a branch list or ``branches``/``tags``/``paths`` mapping -> push and/or tag. ``pr`` absent
  -> pull_request (Azure's default for GitHub/Bitbucket repositories; Azure Repos use a branch
  policy, which is also pull-request validation); ``pr: none`` -> none. Each ``schedules`` cron ->
  schedule (cron kept). ``resources: pipelines``/``repositories`` with a trigger -> dispatch. A
  pipeline nothing starts can still be queued by hand: it gets ``manual``.
- Structure: ``stages`` -> ``jobs`` -> ``steps``; top-level ``jobs``/``steps`` are an implicit stage
  and job (Azure names that job ``Job``). Job ids are ``Stage.Job`` when a stage is named.
  ``- job``, ``- deployment`` (its ``strategy`` lifecycle hooks' steps, in order; ``environment``
  as a name, ``name.resource`` or ``{name: ...}``).
- Steps: ``script``/``bash``/``pwsh``/``powershell`` -> ``run``; ``task: X@N`` -> ``uses`` (with
  ``inputs`` as ``with_``), and the inline or file script of shell-like tasks (Bash, CmdLine,
  PowerShell, PythonScript, AzureCLI) also as ``run``; ``checkout``/``download``/``publish`` -> uses.
- Templates: ``- template: x.yml`` at stage, job and step level and ``extends: template:`` are
  read from this repository (relative to the including file, ``/`` = repository root), depth- and
  cycle-bounded; ``${{ parameters.x }}`` is substituted from the caller's ``parameters`` or the
  template's defaults. ``x.yml@repo`` (another repository), expressions in the path and missing
  files are listed in ``Pipeline.unfollowed``. ``${{ if }}``/``${{ each }}`` insertions are
  included unconditionally (an over-approximation). A file that other pipelines use as a template
  has no triggers of its own (its callers' reach its jobs); a steps-only template has no jobs.
- Conditions (``condition:`` on stages, jobs, steps): ``false`` disables; ``eq``/``ne``/``in``/
  ``notIn`` on ``Build.Reason`` and ``eq``/``startsWith`` on ``Build.SourceBranch`` narrow the
  triggers; ``and``/``or``/``not`` combine; status functions (``succeeded()``...) do not constrain.
- ``continueOnError: true`` on a job or step, and a step whose every command swallows failures,
  are non-blocking; ``enabled: false`` disables a step.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

from ..patterns import lazy
from .ci import (
    YAML_SUFFIXES,
    ALL_TRIGGER_TYPES,
    Job,
    Pipeline,
    Step,
    Trigger,
    narrow,
    pipeline_doc,
    register,
    shell_non_blocking,
)
from .yamldoc import YList, YMap, as_list, get_key

if TYPE_CHECKING:
    from . import Facts

SYSTEM = "azure_pipelines"
AZURE_PATH = (
    r"(?!\.github/)(?!\.gitlab)"
    r"(?:(?:.*/)?\.?azure-pipelines[\w.-]*\.ya?ml"
    r"|\.(?:azure-)?pipelines/(?!(?:[^/]+/)*templates?/)(?:[^/]+/)*[^/]+\.ya?ml)"
)
_AZURE_RX = lazy(AZURE_PATH)
MAX_TEMPLATE_DEPTH = 20  # Azure's own nesting limit
MAX_TEMPLATE_FILES = 100  # Azure's own file limit
MAX_CONDITION_CHARS = 4000

_SHELL_KEYS = ("script", "bash", "pwsh", "powershell")
_STEP_REFS = ("checkout", "download", "publish", "downloadBuild", "getPackage", "reviewApp")
_HOOKS = ("preDeploy", "deploy", "routeTraffic", "postRouteTraffic")
# shell-like tasks: (task name prefix, program that runs a file, input keys holding inline script / file)
_SCRIPT_TASKS = {
    "bash": ("bash", ("script",), ("filePath",)),
    "cmdline": ("", ("script",), ()),
    "powershell": ("pwsh", ("script",), ("filePath",)),
    "pythonscript": ("python", ("script",), ("scriptPath",)),
    "azurecli": ("bash", ("inlineScript",), ("scriptPath",)),
    "azurepowershell": ("pwsh", ("Inline",), ("ScriptPath",)),
}
_REASONS: dict[str, frozenset] = {
    "pullrequest": frozenset({"pull_request"}),
    "schedule": frozenset({"schedule"}),
    "manual": frozenset({"manual"}),
    "individualci": frozenset({"push", "tag"}),
    "batchedci": frozenset({"push", "tag"}),
    "buildcompletion": frozenset({"dispatch"}),
    "resourcetrigger": frozenset({"dispatch"}),
}
_PARAM_REF = lazy(r"\$\{\{\s*parameters\.([\w-]+)\s*\}\}")
_EXPR_WRAPPER = lazy(r"^\s*(?:\$\{\{|\$\[)\s*|\s*(?:\}\}|\])\s*$")


# -- recognising a pipeline -------------------------------------------------------------------


def is_pipeline_doc(doc: Any) -> bool:
    """Whether a YAML mapping is shaped like an Azure pipeline (lists of stages/jobs/steps
    plus a trigger key), and like nothing else we know."""
    if not isinstance(doc, dict):
        return False
    if any(k in doc for k in ("on", True, "runs-on", "apiVersion", "kind", "pipelines", "workflows", "image")):
        return False
    body = [doc.get(k) for k in ("stages", "jobs", "steps") if k in doc]
    extends = doc.get("extends")
    if not (body and all(isinstance(b, list) for b in body)) and not (isinstance(extends, dict) and "template" in extends):
        return False
    return any(k in doc for k in ("trigger", "pr", "schedules", "extends"))


_ITEM_KEYS = {
    "stages": ("stage", "template"),
    "jobs": ("job", "deployment", "template"),
    "steps": (*_SHELL_KEYS, "task", *_STEP_REFS, "template"),
}
_TOP_TRIGGER = lazy(r"^(?:trigger|pr|schedules|extends)[ \t]*:", re.MULTILINE)
_TOP_BODY = lazy(r"^(?:stages|jobs|steps|extends)[ \t]*:", re.MULTILINE)


def _azure_items(doc: dict) -> bool:
    """Every item of the top-level stages/jobs/steps lists is an Azure stage/job/step (or a
    template reference or a ``${{ }}`` insertion)."""
    for key, wanted in _ITEM_KEYS.items():
        for item in doc.get(key) or []:
            if not isinstance(item, dict):
                return False
            first = next(iter(item), None)
            if not (isinstance(first, str) and first.startswith("${{")) and not any(k in item for k in wanted):
                return False
    return True


def sniff(facts: "Facts", path: str) -> bool:
    """Whether a YAML file outside the usual Azure paths is an Azure pipeline anyway: a cheap
    text check of the top-level keys first, then the parsed shape."""
    if not path.endswith((".yml", ".yaml")) or path.startswith((".github/", ".gitlab")) or path == ".gitlab-ci.yml":
        return False
    text = facts.text(path)
    if text is None or not _TOP_TRIGGER.search(text) or not _TOP_BODY.search(text):
        return False
    docs = facts.yaml(path)
    return bool(docs) and len(docs) == 1 and is_pipeline_doc(docs[0]) and _azure_items(docs[0])


# Where pipelines with other names are usually kept; only :func:`sniff` makes such a file a pipeline.
AZURE_HINT_PATH = (
    r"(?!\.github/)(?!\.gitlab)(?!(?:.*/)?(?:node_modules|vendor|third_party|site-packages)/)"
    r"(?:(?:.*/)?(?:\.azure[\w.-]*|azure[\w.-]*|\.ado|\.azuredevops|\.vsts[\w.-]*|\.?devops|pipelines|\.?ci|cicd|build)"
    r"/(?:[^/]+/)*[^/]+\.ya?ml"
    r"|(?:.*/)?[^/]*(?:[Pp]ipeline|vsts)[^/]*\.ya?ml)"
)
_HINT_RX = lazy(AZURE_HINT_PATH)


@register(AZURE_PATH, suffixes=YAML_SUFFIXES)
def parse_azure(facts: "Facts", path: str) -> Optional[Pipeline]:
    """One Azure pipeline file; None when it is not valid YAML or not a mapping."""
    doc = pipeline_doc(facts, path, SYSTEM)
    if not isinstance(doc, YMap):
        return doc
    called = path in _template_targets(facts)
    triggers = () if called else pipeline_triggers(doc, path)
    start, end = doc.span
    pipeline = Pipeline(system=SYSTEM, path=path, name=path, start_line=start, end_line=end,
                        triggers=triggers, env=_variables(doc.get("variables")))
    if called and "jobs" not in doc and "stages" not in doc:
        return pipeline  # a steps template: its steps belong to the jobs that include it
    builder = _Builder(facts, pipeline)
    pipeline.jobs = builder.build(path, doc)
    return pipeline


register(AZURE_HINT_PATH, sniff=sniff, suffixes=YAML_SUFFIXES)(parse_azure)


# -- triggers ---------------------------------------------------------------------------------


def pipeline_triggers(doc: YMap, path: str) -> tuple[Trigger, ...]:
    """Every way the pipeline starts (see the module docstring for the defaults)."""
    found: list[Trigger] = []
    first = doc.span[0]
    found += _ci_trigger(doc, first)
    found += _pr_trigger(doc, first)
    schedules = doc.get("schedules")
    if isinstance(schedules, YList):
        for index, item in enumerate(schedules):
            if isinstance(item, YMap) and item.get("cron") is not None:
                found.append(Trigger(type="schedule", cron=str(item["cron"]), branches=_include(item.get("branches")),
                                     line=item.key_span("cron")[0]))
    resources = doc.get("resources")
    if isinstance(resources, YMap):
        for kind in ("pipelines", "repositories", "containers", "packages", "webhooks"):
            items = resources.get(kind)
            if isinstance(items, list) and any(isinstance(i, dict) and _resource_triggers(kind, i) for i in items):
                found.append(Trigger(type="dispatch", line=resources.key_span(kind)[0]))
    if not found:
        key = next((k for k in ("trigger", "pr") if k in doc), None)
        found.append(Trigger(type="manual", line=doc.key_span(key)[0] if key else first))
    return tuple(Trigger(type=t.type, cron=t.cron, branches=t.branches, paths=t.paths, line=t.line, path=path)
                 for t in found)


def _resource_triggers(kind: str, item: dict) -> bool:
    trigger = item.get("trigger")
    if kind == "webhooks":
        return True
    return trigger is not None and not _is_none(trigger)


def _is_none(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "none")


def _ci_trigger(doc: YMap, first: int) -> list[Trigger]:
    if "trigger" not in doc:
        return [Trigger(type="push", line=first)]
    value, line = doc["trigger"], doc.key_span("trigger")[0]
    if _is_none(value):
        return []
    if not isinstance(value, dict):
        return [Trigger(type="push", branches=_strings(value), line=line)]
    has_tags = bool(_include(value.get("tags")))
    has_branches = "branches" in value
    found: list[Trigger] = []
    if has_branches or not has_tags:
        found.append(Trigger(type="push", branches=_include(value.get("branches")),
                             paths=_include(value.get("paths")), line=line))
    if has_tags:
        found.append(Trigger(type="tag", branches=_include(value.get("tags")), line=line))
    return found


def _pr_trigger(doc: YMap, first: int) -> list[Trigger]:
    if "pr" not in doc:
        return [Trigger(type="pull_request", line=first)]
    value, line = doc["pr"], doc.key_span("pr")[0]
    if _is_none(value):
        return []
    if isinstance(value, dict):
        return [Trigger(type="pull_request", branches=_include(value.get("branches")),
                        paths=_include(value.get("paths")), line=line)]
    return [Trigger(type="pull_request", branches=_strings(value), line=line)]


def _include(value: Any) -> tuple[str, ...]:
    if isinstance(value, dict):
        value = value.get("include")
    return _strings(value)


# -- conditions ---------------------------------------------------------------------------------

Node = Union[tuple, str, bool, None]


def parse_condition(text: str) -> Node:
    """An Azure condition as a tree: ("call", name, [args]) / ("str", s) / ("var", name) / bool.
    None when it cannot be read (which means: does not constrain)."""
    text = _EXPR_WRAPPER.sub("", text.strip()[:MAX_CONDITION_CHARS])
    try:
        node, pos = _parse_node(text, 0, 0)
    except (IndexError, ValueError, RecursionError):
        return None
    return node if text[pos:].strip() == "" else None


def _parse_node(text: str, pos: int, depth: int) -> tuple[Node, int]:
    if depth > 40:
        raise RecursionError
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if text[pos] == "'":
        end = pos + 1
        value: list[str] = []
        while True:
            if text[end] == "'" and text[end + 1:end + 2] == "'":
                value.append("'")
                end += 2
            elif text[end] == "'":
                return ("str", "".join(value)), end + 1
            else:
                value.append(text[end])
                end += 1
    match = re.compile(r"[A-Za-z_][\w.]*(?:\[\s*'[^']*'\s*\])?|-?\d+(?:\.\d+)?").match(text, pos)
    if not match:
        raise ValueError(text[pos:pos + 20])
    word, pos = match.group(0), match.end()
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos < len(text) and text[pos] == "(":
        args: list[Node] = []
        pos += 1
        while True:
            while text[pos].isspace():
                pos += 1
            if text[pos] == ")":
                return ("call", word.lower(), args), pos + 1
            arg, pos = _parse_node(text, pos, depth + 1)
            args.append(arg)
            while text[pos].isspace():
                pos += 1
            if text[pos] == ",":
                pos += 1
    if word.lower() in ("true", "false"):
        return word.lower() == "true", pos
    bracket = re.fullmatch(r"variables\[\s*'([^']*)'\s*\]", word)
    name = bracket.group(1) if bracket else re.sub(r"^variables\.", "", word)
    return ("var", name.lower()), pos


def condition_allows(value: Any, universe: frozenset) -> Optional[frozenset]:
    """Which trigger types a condition allows: None = any, empty = never."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None if value else frozenset()
    node = parse_condition(str(value))
    return _allows(node, universe)


def _allows(node: Node, universe: frozenset) -> Optional[frozenset]:
    if isinstance(node, bool):
        return None if node else frozenset()
    if not isinstance(node, tuple) or node[0] != "call":
        return None
    name, args = node[1], node[2]
    if name == "and":
        known = [p for p in (_allows(a, universe) for a in args) if p is not None]
        return frozenset.intersection(*known) if known else None
    if name == "or":
        parts = [_allows(a, universe) for a in args]
        return None if not parts or any(p is None for p in parts) else frozenset().union(*parts)
    if name == "not" and len(args) == 1:
        inner = args[0]
        if isinstance(inner, bool):
            return frozenset() if inner else None
        flipped = {"eq": "ne", "ne": "eq", "in": "notin", "notin": "in"}
        if isinstance(inner, tuple) and inner[0] == "call" and inner[1] in flipped:
            return _compare(flipped[inner[1]], inner[2], universe)
        return None
    return _compare(name, args, universe)


def _compare(name: str, args: list, universe: frozenset) -> Optional[frozenset]:
    variables = [a[1] for a in args if isinstance(a, tuple) and a[0] == "var"]
    values = [a[1].lower() for a in args if isinstance(a, tuple) and a[0] == "str"]
    if len(variables) != 1 or not values:
        return None
    variable = variables[0]
    if variable == "build.reason" and name in ("eq", "ne", "in", "notin"):
        kinds = frozenset().union(*[_REASONS.get(v, frozenset()) for v in values])
        return kinds if name in ("eq", "in") else universe - kinds
    if variable == "build.sourcebranch" and name in ("eq", "startswith"):
        value = values[0]
        if value.startswith("refs/tags"):
            return frozenset({"tag", "release"})
        if value.startswith("refs/pull"):
            return frozenset({"pull_request"})
        if value.startswith("refs/heads"):
            return universe - {"pull_request", "tag", "release"}
    return None


def _condition(value: Any, triggers: tuple[Trigger, ...]) -> tuple[Optional[frozenset], Optional[str], str]:
    """(allowed trigger types or None, why it can never run or None, the condition as text)."""
    if value is None:
        return None, None, ""
    raw = str(value).lower() if isinstance(value, bool) else str(value).strip()
    universe = frozenset(t.type for t in triggers) or ALL_TRIGGER_TYPES
    allowed = condition_allows(value, universe)
    if allowed is None:
        return None, None, raw
    if not allowed:
        return allowed, f"`condition: {raw}`", raw
    if triggers and not narrow(triggers, allowed):
        return allowed, f"`condition: {raw}` matches none of the pipeline's triggers", raw
    return allowed, None, raw


# -- templates ----------------------------------------------------------------------------------

Params = dict[str, str]


@dataclass
class _Item:
    """A stage, job or step mapping, with the file it is written in and the parameters in scope."""

    spec: YMap
    path: str
    span: tuple[int, int]
    params: Params = field(default_factory=dict)


def _resolve(reference: str, including: str) -> tuple[Optional[str], str]:
    """(repository path of a local template, or None with the reason it is not followed)."""
    ref = reference.strip()
    if "@" in ref:
        return None, "template from another repository; not followed"
    if "${{" in ref or "$(" in ref:
        return None, "template path uses expressions; not resolved"
    joined = ref.lstrip("/") if ref.startswith("/") else posixpath.join(posixpath.dirname(including), ref)
    target = posixpath.normpath(joined)
    if target.startswith(("..", "/")):
        return None, "template path leaves the repository"
    return target, ""


def _substitute(value: Any, params: Params) -> Any:
    if not params or not isinstance(value, str):
        return value
    return _PARAM_REF.sub(lambda m: params.get(m.group(1), m.group(0)), value)


def _template_params(doc: YMap, given: Any, outer: Params) -> Params:
    """A template's parameters: its declared defaults, overridden by the caller's values."""
    values: Params = {}
    declared = doc.get("parameters")
    if isinstance(declared, list):
        for item in declared:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and _scalar(item.get("default")):
                values[item["name"]] = _text(item["default"])
    elif isinstance(declared, dict):
        values.update({str(k): _text(v) for k, v in declared.items() if _scalar(v)})
    if isinstance(given, dict):
        values.update({str(k): _substitute(_text(v), outer) for k, v in given.items() if _scalar(v)})
    return values


class _Builder:
    """Expands templates and turns one pipeline's stages/jobs/steps into jobs."""

    def __init__(self, facts: "Facts", pipeline: Pipeline):
        self.facts = facts
        self.pipeline = pipeline
        self.files = 0
        self.unnamed = 0

    def build(self, path: str, doc: YMap) -> list[Job]:
        root, root_path, params = doc, path, {}
        extends = doc.get("extends")
        if isinstance(extends, dict) and isinstance(extends.get("template"), str):
            loaded = self._load(extends["template"], path, 0, (path,))
            if loaded is None:
                return []
            root_path, root = loaded
            params = _template_params(root, extends.get("parameters"), {})
        stack = (path, root_path)
        triggers = self.pipeline.triggers
        if "stages" in root:
            jobs: list[Job] = []
            for stage in self.expand(root.get("stages"), "stages", root_path, params, 0, stack):
                jobs += self.stage(stage, triggers, stack)
            return jobs
        if "jobs" in root:
            return self.jobs(root.get("jobs"), root_path, params, "", triggers, None, stack)
        if "steps" in root:
            start, end = root.key_span("steps")
            job = Job(id="Job", name="Job", path=root_path, start_line=start, end_line=end, triggers=triggers,
                      env=self.pipeline.env, image=_image(root.get("container")))
            job.steps = self.steps(root.get("steps"), root_path, params, triggers, "", stack)
            return [job]
        return []

    # templates

    def _load(self, reference: str, including: str, depth: int, stack: tuple[str, ...]) -> Optional[tuple[str, YMap]]:
        target, reason = _resolve(reference, including)
        if target is not None and target not in self.facts.snapshot:
            reason = "local template not found in the repository"
        elif target is not None and (target in stack or depth >= MAX_TEMPLATE_DEPTH or self.files >= MAX_TEMPLATE_FILES):
            reason = "template nesting too deep, too many files or recursive; not followed"
        elif target is not None:
            docs = self.facts.yaml(target)
            doc = docs[0] if docs else None
            if isinstance(doc, YMap):
                self.files += 1
                return target, doc
            reason = self.facts.problems.get(target, "template is not a YAML mapping")
        entry = (reference, reason)
        if entry not in self.pipeline.unfollowed:
            self.pipeline.unfollowed.append(entry)
        return None

    def expand(self, value: Any, key: str, path: str, params: Params, depth: int, stack: tuple[str, ...]) -> list[_Item]:
        """The items of a stages/jobs/steps list, template references replaced by their items."""
        found: list[_Item] = []
        if not isinstance(value, YList) or depth > MAX_TEMPLATE_DEPTH:
            return found
        for index, spec in enumerate(value):
            if not isinstance(spec, YMap):
                continue
            first = next(iter(spec), None)
            if len(spec) == 1 and isinstance(first, str) and first.startswith("${{"):
                found += self.expand(spec[first], key, path, params, depth + 1, stack)  # conditional insertion
                continue
            reference = spec.get("template")
            if isinstance(reference, str):
                loaded = self._load(_substitute(reference, params), path, depth, stack)
                if loaded is not None:
                    target, doc = loaded
                    inner = _template_params(doc, spec.get("parameters"), params)
                    found += self.expand(doc.get(key), key, target, inner, depth + 1, stack + (target,))
                continue
            found.append(_Item(spec, path, value.item_span(index), params))
        return found

    # stages and jobs

    def stage(self, item: _Item, triggers: tuple[Trigger, ...], stack: tuple[str, ...]) -> list[Job]:
        spec = item.spec
        name = self.name(item, "stage")
        allowed, disabled, _ = _condition(_substitute(spec.get("condition"), item.params), triggers)
        stage_triggers = narrow(triggers, allowed)
        return self.jobs(spec.get("jobs"), item.path, item.params, name, stage_triggers, disabled, stack)

    def jobs(self, value: Any, path: str, params: Params, stage: str, triggers: tuple[Trigger, ...],
             stage_disabled: Optional[str], stack: tuple[str, ...]) -> list[Job]:
        found: list[Job] = []
        for item in self.expand(value, "jobs", path, params, 0, stack):
            job = self.job(item, stage, triggers, stage_disabled, stack)
            if job is not None:
                found.append(job)
        return found

    def job(self, item: _Item, stage: str, triggers: tuple[Trigger, ...], stage_disabled: Optional[str],
            stack: tuple[str, ...]) -> Optional[Job]:
        spec, params = item.spec, item.params
        kind = "deployment" if "deployment" in spec else "job" if "job" in spec else None
        if kind is None:
            return None
        name = _substitute(self.name(item, kind), params)
        if not name:
            self.unnamed += 1
            name = "Job" if self.unnamed == 1 else f"Job{self.unnamed - 1}"
        allowed, disabled, _ = _condition(_substitute(spec.get("condition"), params), triggers)
        job_triggers = narrow(triggers, allowed)
        job = Job(
            id=f"{stage}.{name}" if stage else name,
            name=str(spec.get("displayName") or name),
            path=item.path,
            start_line=item.span[0],
            end_line=item.span[1],
            triggers=job_triggers,
            environment=_environment(_substitute(_environment(spec.get("environment")), params)),
            non_blocking=_continue_on_error(spec),
            disabled=stage_disabled or disabled,
            needs=tuple(f"{stage}.{n}" if stage else n for n in _strings(spec.get("dependsOn"))),
            env={**self.pipeline.env, **_variables(spec.get("variables"))},
            image=_image(spec.get("container")),
        )
        if kind == "deployment":
            job.steps = self.deployment_steps(spec.get("strategy"), item.path, params, job_triggers, stack)
        else:
            job.steps = self.steps(spec.get("steps"), item.path, params, job_triggers, _workdir(spec.get("workspace")), stack)
        return job

    def name(self, item: _Item, key: str) -> str:
        """A stage/job name as written: YAML 1.1 reads ``job: Off`` or ``stage: yes`` as a boolean."""
        value = item.spec.get(key)
        if not isinstance(value, bool):
            return _name(value)
        lines = self.facts.lines(item.path) or []
        start, end = item.spec.key_span(key)
        for number in range(start, min(end, len(lines)) + 1):
            match = re.search(rf"\b{key}\s*:\s*[\"']?([\w.-]+)", lines[number - 1])
            if match:
                return match.group(1)
        return str(value).lower()

    def deployment_steps(self, strategy: Any, path: str, params: Params, triggers: tuple[Trigger, ...],
                         stack: tuple[str, ...]) -> list[Step]:
        """Steps of every lifecycle hook of a deployment strategy, in the order they run."""
        steps: list[Step] = []
        if not isinstance(strategy, dict):
            return steps
        for body in strategy.values():  # runOnce | rolling | canary
            if not isinstance(body, dict):
                continue
            for hook in _HOOKS:
                hook_spec = body.get(hook)
                if isinstance(hook_spec, dict):
                    steps += self.steps(hook_spec.get("steps"), path, params, triggers, "", stack)
            outcome = get_key(body, "on", True)[1]
            if isinstance(outcome, dict):
                for when in ("failure", "success"):
                    hook_spec = outcome.get(when)
                    if isinstance(hook_spec, dict):
                        for step in self.steps(hook_spec.get("steps"), path, params, triggers, "", stack):
                            step.condition = step.condition or f"on: {when}"
                            steps.append(step)
        return steps

    # steps

    def steps(self, value: Any, path: str, params: Params, triggers: tuple[Trigger, ...], workdir: str,
              stack: tuple[str, ...]) -> list[Step]:
        found: list[Step] = []
        for index, item in enumerate(self.expand(value, "steps", path, params, 0, stack)):
            step = _step(item, triggers, workdir, index)
            if step is not None:
                found.append(step)
        return found


def _step(item: _Item, triggers: tuple[Trigger, ...], workdir: str, index: int) -> Optional[Step]:
    spec, params = item.spec, item.params
    run, uses, inputs = "", "", {}
    shell = next((k for k in _SHELL_KEYS if k in spec), None)
    if shell is not None:
        run = _substitute(_text(spec.get(shell)), params)
    elif isinstance(spec.get("task"), str):
        uses = _substitute(spec["task"], params).strip()
        inputs = {str(k): _substitute(_text(v), params) for k, v in spec.get("inputs", {}).items()} \
            if isinstance(spec.get("inputs"), dict) else {}
        run = _task_script(uses, inputs)
    else:
        ref = next((k for k in _STEP_REFS if k in spec), None)
        if ref is None:
            return None
        uses = f"{ref}: {_text(spec.get(ref))}"
    allowed, disabled, condition = _condition(_substitute(spec.get("condition"), params), triggers)
    if spec.get("enabled") is False:
        disabled = "`enabled: false`"
    step = Step(
        name=_step_name(spec, run, uses, index),
        start_line=item.span[0],
        end_line=item.span[1],
        run=run,
        uses=uses,
        with_=inputs,
        env={str(k): _text(v) for k, v in spec.get("env", {}).items() if _scalar(v)} if isinstance(spec.get("env"), dict) else {},
        condition=condition,
        path=item.path,
        disabled=disabled,
        triggers=narrow(triggers, allowed) if allowed is not None else None,
        workdir=_workdir(_substitute(spec.get("workingDirectory"), params)) or workdir,
    )
    step.non_blocking = _continue_on_error(spec) or _all_swallowed(step)
    return step


def _task_script(task: str, inputs: dict) -> str:
    """The commands a shell-like task runs: its inline script, or ``<program> <file>``."""
    name = task.split("@", 1)[0].strip().lower()
    known = _SCRIPT_TASKS.get(name)
    if known is None:
        return ""
    program, inline_keys, file_keys = known
    lowered = {k.lower(): v for k, v in inputs.items()}
    target = str(lowered.get("targettype") or lowered.get("scripttype") or lowered.get("scriptsource")
                 or lowered.get("scriptlocation") or "").lower()
    for key in inline_keys:
        if lowered.get(key.lower()) and target not in ("filepath", "scriptpath"):
            return str(lowered[key.lower()])
    for key in file_keys:
        if lowered.get(key.lower()):
            return f"{program} {lowered[key.lower()]}".strip()
    return ""


def _all_swallowed(step: Step) -> Optional[str]:
    commands = step.commands()
    reasons = [shell_non_blocking(c) for c in commands]
    return reasons[0] if commands and all(reasons) else None


def _step_name(spec: YMap, run: str, uses: str, index: int) -> str:
    for key in ("displayName", "name"):
        if spec.get(key) is not None:
            return str(spec[key])
    if uses:
        return uses
    first = next((line.strip() for line in run.splitlines() if line.strip()), "")
    return first[:80] or f"step {index + 1}"


# -- which files are templates --------------------------------------------------------------------

_TARGETS: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def _template_targets(facts: "Facts") -> set[str]:
    """Every local file some Azure pipeline of the repository uses as a template."""
    if facts not in _TARGETS:
        found: set[str] = set()
        for path in facts.snapshot.paths():
            if _AZURE_RX.fullmatch(path) or (_HINT_RX.fullmatch(path) and sniff(facts, path)):
                docs = facts.yaml(path)
                if docs and isinstance(docs[0], dict):
                    _references(docs[0], path, found, 0)
        _TARGETS[facts] = found
    return _TARGETS[facts]


def _references(value: Any, path: str, found: set[str], depth: int) -> None:
    if depth > 60:
        return
    if isinstance(value, dict):
        reference = value.get("template")
        if isinstance(reference, str):
            target, _ = _resolve(reference, path)
            if target is not None and target != path:
                found.add(target)
        for child in value.values():
            _references(child, path, found, depth + 1)
    elif isinstance(value, list):
        for child in value:
            _references(child, path, found, depth + 1)


# -- small readers --------------------------------------------------------------------------------


def _continue_on_error(spec: dict) -> Optional[str]:
    value = spec.get("continueOnError")
    if value is True or (isinstance(value, str) and value.strip().lower() == "true"):
        return "`continueOnError: true`"
    return None


def _environment(value: Any) -> Optional[str]:
    """``production``, ``production.my-namespace`` (environment.resource) or ``{name: production}``."""
    if isinstance(value, dict):
        value = value.get("name")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    return text.split(".", 1)[0] if "${{" not in text else text


def _image(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("image")
    return str(value) if isinstance(value, (str, int, float)) else ""


def _variables(value: Any) -> dict:
    """``variables:`` as a mapping, or as a list of ``{name, value}`` (groups/templates skipped)."""
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items() if _scalar(v) or v is None}
    out: dict = {}
    for item in as_list(value):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and _scalar(item.get("value")):
            out[item["name"]] = _text(item["value"])
    return out


def _workdir(value: Any) -> str:
    """A repository-relative working directory ("" = root), pipeline variables for the root dropped."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = re.sub(r"^\$\((?:System\.DefaultWorkingDirectory|Build\.SourcesDirectory|Pipeline\.Workspace)\)/?", "",
                  value.strip())
    if "$" in text:
        return ""
    joined = posixpath.normpath(text or ".")
    return "" if joined == "." or joined.startswith(("..", "/")) else joined


def _name(value: Any) -> str:
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in as_list(value) if isinstance(v, (str, int, float)) and not isinstance(v, bool))
