"""Cloud build services and Tekton as :class:`~scanner.facts.ci.Pipeline`: Google Cloud Build
(``cloudbuild.yaml``), AWS CodeBuild (``buildspec.yml``) and Tekton (``tekton.dev`` manifests).

Google Cloud Build, what the normalisation decides:

- Claimed: ``cloudbuild*.y[a]ml`` anywhere, when its document has ``steps`` (a trigger export
  with ``filename:`` is not a build). JSON build configs are not read.
- One job ``build`` (the lines of ``steps:``); each step is a :class:`Step` whose ``uses`` is the
  builder image (``name``). Its shell: ``script``; or ``entrypoint`` + ``args`` (``bash -c '...'``
  gives the script itself); or, without an entrypoint, ``gcr.io/cloud-builders/<tool>`` runs
  ``<tool> args`` and any other image runs its ``args`` as written (their first word is the
  program for images without an entrypoint, such as ``python``).
- ``allowFailure: true`` and ``allowExitCodes`` with a non-zero code make the step non-blocking.
- Triggers live in the cloud project (console, ``gcloud builds triggers``, Terraform), not in the
  file. Every build gets ``dispatch`` (a build trigger or ``gcloud builds submit`` starts it);
  substitutions only a pull-request trigger sets (``$_PR_NUMBER``, ``$_HEAD_BRANCH``,
  ``$_BASE_BRANCH``) add ``pull_request`` and ``$TAG_NAME`` adds ``tag``, cited where used. So
  tests in a Cloud Build config count as push/PR gates only when the file shows it.

AWS CodeBuild, what the normalisation decides:

- Claimed: ``*buildspec*.y[a]ml`` anywhere. One job ``build`` (the lines of ``phases:``); each
  phase's ``commands`` is a step named after the phase, and its ``finally`` block another step
  (condition ``finally``: it runs whether the commands failed or not).
- ``on-failure: CONTINUE`` on a phase makes its steps non-blocking (the build goes on to the next
  phase); a step whose every command swallows failures (``|| true``) is non-blocking too.
- Triggers (webhook filter groups, CodePipeline, EventBridge) live in the AWS project: ``dispatch``,
  plus ``pull_request`` when the file tests ``CODEBUILD_WEBHOOK_EVENT`` against a
  ``PULL_REQUEST_*`` event, cited where it does.

Tekton, what the normalisation decides:

- Where: Tekton manifests live anywhere, so paths are only hints: any YAML under ``.tekton/``,
  under a directory or with a file name containing ``tekton``, or under ``ci/``/``.ci/``/``cicd/``.
  Of those, only files whose text says ``tekton.dev`` (or, for CronJobs, ``tkn`` / ``://el-``) are
  parsed (at most 2,000 hinted files); a repo of 20,000 files is not parsed for Tekton. Manifests
  elsewhere (say ``deploy/pipeline.yaml``) are not seen.
- One repository-wide index of every Pipeline, Task, PipelineRun, TaskRun, TriggerTemplate,
  EventListener, Trigger and CronJob among those files cross-references them by name.
- A file is a CI pipeline (claimed) when it defines a ``Pipeline``, a run with an inline spec or a
  reference this repository cannot resolve, a ``TriggerTemplate`` with an inline spec, or a
  ``Task`` no in-repo Pipeline uses. Runs, listeners and templates that only point at an in-repo
  Pipeline add triggers to it instead; a Task used by a Pipeline is read through that Pipeline.
- Jobs: each task (and ``finally`` task) of a Pipeline is a job ``<pipeline>/<task>`` cited at the
  pipeline task; its steps are the referenced Task's steps (``taskRef`` by name, or ``taskSpec``),
  cited in the Task's file. A ``taskRef`` to a resolver, bundle or a Task not in the repository is
  listed in ``Pipeline.unfollowed``. Step ``script`` (a shell script; a ``#!`` script in another
  language is not shell) or ``command`` + ``args`` (``sh -c '...'`` gives the script) -> run;
  ``image`` -> uses. ``onError: continue`` on a step or pipeline task -> non-blocking.
- Triggers: a PipelineRun in ``.tekton/`` with Pipelines-as-Code annotations (``on-event``,
  ``on-target-branch``, ``on-cel-expression``) -> those events; any other committed PipelineRun or
  TaskRun -> manual (applied by hand). A TriggerTemplate instantiating the run, reached by an
  EventListener (or ``Trigger``) whose interceptor filters GitHub/GitLab/Bitbucket event types (or
  a CEL filter on the event header) -> push / pull_request / tag; a listener without such a filter
  -> dispatch (any webhook call). A CronJob whose container runs ``tkn pipeline start <name>`` or
  calls a listener's ``el-<name>`` service -> schedule with its cron. A Pipeline or Task nothing in
  the repository starts can still be started by hand: manual.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ..patterns import lazy
from .ci import YAML_SUFFIXES, Job, Pipeline, Step, Trigger, register, shell_non_blocking
from .yamldoc import YList, YMap, as_list

if TYPE_CHECKING:
    from . import Facts

CLOUD_BUILD = "google_cloud_build"
CODEBUILD = "aws_codebuild"
TEKTON = "tekton"

_EXCLUDED = r"(?!(?:.*/)?(?:node_modules|vendor|third_party|site-packages)/)(?!\.github/)(?!\.gitlab/)"
CLOUD_BUILD_PATH = _EXCLUDED + r"(?:.*/)?cloudbuild[\w.-]*\.ya?ml"
BUILDSPEC_PATH = _EXCLUDED + r"(?:.*/)?[\w.-]*buildspec[\w.-]*\.ya?ml"
TEKTON_PATH = _EXCLUDED + (
    r"(?:.*/)?(?:\.tekton/(?:[^/]+/)*[^/]+"
    r"|[^/]*[Tt]ekton[^/]*/(?:[^/]+/)*[^/]+"
    r"|[^/]*[Tt]ekton[^/]*"
    r"|(?:\.?ci|\.?cicd|ci-cd)/(?:[^/]+/)*[^/]+)\.ya?ml"
)
_TEKTON_RX = lazy(TEKTON_PATH)
MAX_TEKTON_FILES = 2000
MAX_DOCS = 500  # documents per file
_SHELLS = frozenset({"sh", "bash", "zsh", "ash", "dash", "ksh"})


# -- small readers ----------------------------------------------------------------------------


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value) if _scalar(v)]


def _join(words: list[str]) -> str:
    """A command line from argv words; only words that would split are quoted."""
    return " ".join(shlex.quote(w) if re.search(r"\s|[;&|<>]", w) or not w else w for w in words)


def _shell_script(argv: list[str]) -> Optional[str]:
    """The script of ``sh -c '<script>'`` / ``bash -ec '<script>'``, or None."""
    if len(argv) < 3 or posixpath.basename(argv[0]) not in _SHELLS:
        return None
    for index, word in enumerate(argv[1:-1], 1):
        if re.fullmatch(r"-[a-z]*c[a-z]*", word):
            return argv[index + 1]
        if not word.startswith("-"):
            return None
    return None


def _all_swallowed(step: Step) -> Optional[str]:
    commands = step.commands()
    reasons = [shell_non_blocking(c) for c in commands]
    return reasons[0] if commands and all(reasons) else None


def _first_line(run: str) -> str:
    return next((line.strip() for line in run.splitlines() if line.strip()), "")[:80]


def _workdir(value: Any, prefixes: str) -> str:
    """A repository-relative directory ("" = root) from a step's working directory."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = re.sub(prefixes, "", value.strip())
    if "$" in text:
        return ""
    joined = posixpath.normpath(text or ".")
    return "" if joined == "." or joined.startswith(("..", "/")) else joined


def _line_hints(facts: "Facts", path: str, hints: tuple[tuple[str, "re.Pattern[str]"], ...]) -> list[Trigger]:
    """Triggers implied by variables only some events set, cited on the first line using each."""
    found: list[Trigger] = []
    lines = facts.lines(path) or []
    for kind, pattern in hints:
        for number, line in enumerate(lines, 1):
            if not line.lstrip().startswith("#") and pattern.search(line):
                found.append(Trigger(type=kind, line=number, path=path))  # type: ignore[arg-type]
                break
    return found


def _first_doc(facts: "Facts", path: str) -> tuple[bool, Any]:
    """(parsed, first document)."""
    docs = facts.yaml(path)
    if docs is None:
        return False, None
    return True, docs[0] if docs else None


# -- Google Cloud Build -------------------------------------------------------------------------

_CLOUD_BUILD_HINTS = (
    ("pull_request", lazy(r"\$\{?_(?:PR_NUMBER|HEAD_BRANCH|BASE_BRANCH|HEAD_REPO_URL)\b")),
    ("tag", lazy(r"\$\{?TAG_NAME\b")),
)
_BUILDER = lazy(r"(?:^|/)cloud-builders/(?:[^/]+/)*([\w-]+)(?:[:@]|$)")
_ENTRYPOINT_IMAGES = {"hashicorp/terraform": "terraform"}


def _is_cloud_build(facts: "Facts", path: str) -> bool:
    """A build config has ``steps``; a malformed file is claimed so that it is reported."""
    parsed, doc = _first_doc(facts, path)
    return not parsed or (isinstance(doc, dict) and "steps" in doc)


@register(CLOUD_BUILD_PATH, sniff=_is_cloud_build, suffixes=YAML_SUFFIXES)
def parse_cloud_build(facts: "Facts", path: str) -> Optional[Pipeline]:
    parsed, doc = _first_doc(facts, path)
    if not parsed or not isinstance(doc, YMap):
        return None
    triggers = (Trigger(type="dispatch", line=doc.span[0], path=path),
                *_line_hints(facts, path, _CLOUD_BUILD_HINTS))
    pipeline = Pipeline(system=CLOUD_BUILD, path=path, name=path, start_line=doc.span[0], end_line=doc.span[1],
                        triggers=triggers)
    steps = doc.get("steps")
    if not isinstance(steps, YList):
        return pipeline
    options = doc.get("options") if isinstance(doc.get("options"), dict) else {}
    start, end = doc.key_span("steps")
    job = Job(id="build", name="build", path=path, start_line=start, end_line=end, triggers=triggers,
              env=_env_list(options.get("env")))
    for index, spec in enumerate(steps):
        if isinstance(spec, YMap):
            job.steps.append(_cloud_build_step(spec, steps.item_span(index), path, index))
    pipeline.jobs = [job]
    return pipeline


def _env_list(value: Any) -> dict:
    """``["KEY=value", ...]`` as a mapping."""
    out: dict = {}
    for item in _strings(value):
        key, sep, val = item.partition("=")
        if sep:
            out[key] = val
    return out


def _cloud_build_step(spec: YMap, span: tuple[int, int], path: str, index: int) -> Step:
    image = str(spec.get("name") or "")
    args = _strings(spec.get("args"))
    entrypoint = spec.get("entrypoint")
    script = spec.get("script")
    if isinstance(script, str):
        run = script
    elif isinstance(entrypoint, str) and entrypoint.strip():
        argv = [entrypoint.strip(), *args]
        run = _shell_script(argv) or _join(argv)
    else:
        builder = _BUILDER.search(image)
        program = builder.group(1) if builder else _ENTRYPOINT_IMAGES.get(image.split(":", 1)[0], "")
        argv = [program, *args] if program else args
        run = _shell_script(argv) or _join(argv)
    step = Step(name=str(spec.get("id") or _first_line(run) or image or f"step {index + 1}"),
                start_line=span[0], end_line=span[1], run=run, uses=image, path=path,
                env=_env_list(spec.get("env")), workdir=_workdir(spec.get("dir"), r"^/workspace/?"))
    step.non_blocking = _cloud_build_non_blocking(spec) or _all_swallowed(step)
    return step


def _cloud_build_non_blocking(spec: YMap) -> Optional[str]:
    codes = [c for c in as_list(spec.get("allowExitCodes")) if _scalar(c)]
    if any(str(c).strip() not in ("0", "") for c in codes):
        return f"`allowExitCodes: [{', '.join(str(c) for c in codes)}]` lets the step fail"
    failure = spec.get("allowFailure")
    if failure is True or str(failure).strip().lower() == "true":
        return "`allowFailure: true`"
    return None


# -- AWS CodeBuild ----------------------------------------------------------------------------

_PHASES = ("install", "pre_build", "build", "post_build")
_CODEBUILD_HINTS = (
    ("pull_request", lazy(r"PULL_REQUEST_(?:CREATED|UPDATED|REOPENED|MERGED)|CODEBUILD_WEBHOOK_TRIGGER\b.*pr/")),
)


@register(BUILDSPEC_PATH, suffixes=YAML_SUFFIXES)
def parse_buildspec(facts: "Facts", path: str) -> Optional[Pipeline]:
    parsed, doc = _first_doc(facts, path)
    if not parsed:
        return None
    if doc is None:
        return Pipeline(system=CODEBUILD, path=path, name=path, start_line=1, end_line=1)
    if not isinstance(doc, YMap):
        return None
    triggers = (Trigger(type="dispatch", line=doc.span[0], path=path), *_line_hints(facts, path, _CODEBUILD_HINTS))
    pipeline = Pipeline(system=CODEBUILD, path=path, name=path, start_line=doc.span[0], end_line=doc.span[1],
                        triggers=triggers)
    phases = doc.get("phases")
    if not isinstance(phases, YMap):
        return pipeline
    env = doc.get("env") if isinstance(doc.get("env"), dict) else {}
    variables = env.get("variables") if isinstance(env.get("variables"), dict) else {}
    start, end = doc.key_span("phases")
    job = Job(id="build", name="build", path=path, start_line=start, end_line=end, triggers=triggers,
              env={str(k): str(v) for k, v in variables.items() if _scalar(v)})
    for phase in _PHASES:
        spec = phases.get(phase)
        if isinstance(spec, YMap):
            job.steps += _phase_steps(spec, phase, path)
    pipeline.jobs = [job]
    return pipeline


def _phase_steps(spec: YMap, phase: str, path: str) -> list[Step]:
    steps: list[Step] = []
    on_failure = str(spec.get("on-failure") or "").strip().upper()
    continues = f"`on-failure: CONTINUE` on phase {phase}" if on_failure == "CONTINUE" else None
    for key, name, condition in (("commands", phase, ""), ("finally", f"{phase}: finally", "finally")):
        commands = spec.get(key)
        if not isinstance(commands, YList):
            continue
        start, end = spec.key_span(key)
        step = Step(name=name, start_line=start, end_line=end, run="\n".join(_strings(commands)), path=path,
                    condition=condition)
        step.non_blocking = continues or _all_swallowed(step)
        steps.append(step)
    return steps


# -- Tekton: the repository-wide index ----------------------------------------------------------


@dataclass
class _Resource:
    path: str
    kind: str
    name: str
    doc: YMap


@dataclass
class _TektonIndex:
    resources: list[_Resource] = field(default_factory=list)
    malformed: set[str] = field(default_factory=set)
    by_name: dict[tuple[str, str], _Resource] = field(default_factory=dict)
    used_tasks: set[str] = field(default_factory=set)  # Task names some in-repo Pipeline uses
    triggers: dict[tuple[str, str], list[Trigger]] = field(default_factory=dict)  # (kind, name) -> triggers
    templates: dict[str, list[Trigger]] = field(default_factory=dict)  # TriggerTemplate name -> listeners' triggers
    claimed: dict[str, list[_Resource]] = field(default_factory=dict)  # path -> the resources that make it a pipeline

    def add_triggers(self, kind: str, name: str, found: list[Trigger]) -> None:
        self.triggers.setdefault((kind, name), []).extend(found)


_CRON_STARTS = lazy(r"\btkn\b|://el-[\w-]")  # a CronJob's `tkn pipeline start` / call to a listener
_INDEXES: "weakref.WeakKeyDictionary[Any, _TektonIndex]" = weakref.WeakKeyDictionary()
_TEKTON_KINDS = frozenset({"Pipeline", "Task", "ClusterTask", "PipelineRun", "TaskRun", "TriggerTemplate",
                           "EventListener", "Trigger", "StepAction"})
_RUN_REF = {"PipelineRun": ("pipelineRef", "pipelineSpec", "Pipeline"), "TaskRun": ("taskRef", "taskSpec", "Task")}


def _tekton_index(facts: "Facts") -> _TektonIndex:
    if facts in _INDEXES:
        return _INDEXES[facts]
    index = _TektonIndex()
    candidates = [p for p in facts.snapshot.paths() if _TEKTON_RX.fullmatch(p)][:MAX_TEKTON_FILES]
    for path in candidates:
        text = facts.text(path)
        if text is None:
            continue
        if "tekton.dev" not in text and not _CRON_STARTS.search(text):
            continue
        docs = facts.yaml(path)
        if docs is None:
            if "tekton.dev" in text or path.startswith(".tekton/") or "/.tekton/" in path:
                index.malformed.add(path)
            continue
        for doc in docs[:MAX_DOCS]:
            resource = _resource(path, doc)
            if resource is not None:
                index.resources.append(resource)
                index.by_name.setdefault((_base_kind(resource.kind), resource.name), resource)
    _cross_reference(index)
    _INDEXES[facts] = index
    return index


def _base_kind(kind: str) -> str:
    return "Task" if kind == "ClusterTask" else kind


def _resource(path: str, doc: Any) -> Optional[_Resource]:
    if not isinstance(doc, YMap):
        return None
    kind, api = str(doc.get("kind") or ""), str(doc.get("apiVersion") or "")
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = str(metadata.get("name") or metadata.get("generateName") or "")
    if kind in _TEKTON_KINDS and "tekton.dev" in api:
        return _Resource(path, kind, name, doc)
    if kind == "CronJob":
        return _Resource(path, kind, name, doc)
    return None


def _spec(doc: Any) -> YMap:
    spec = doc.get("spec") if isinstance(doc, dict) else None
    return spec if isinstance(spec, YMap) else YMap()


def _ref_name(ref: Any) -> Optional[str]:
    """The in-repo name a ``taskRef``/``pipelineRef``/template ``ref`` points at (None for
    resolvers and bundles, which live elsewhere)."""
    if isinstance(ref, str):
        return ref
    if not isinstance(ref, dict) or ref.get("resolver") or ref.get("bundle"):
        return None
    name = ref.get("name")
    return str(name) if _scalar(name) else None


def _pipeline_tasks(spec: Any) -> list[tuple[YMap, tuple[int, int], bool]]:
    """(pipeline task, its lines, is a ``finally`` task) of a Pipeline spec."""
    found: list[tuple[YMap, tuple[int, int], bool]] = []
    if not isinstance(spec, dict):
        return found
    for key, final in (("tasks", False), ("finally", True)):
        tasks = spec.get(key)
        if isinstance(tasks, YList):
            found += [(t, tasks.item_span(i), final) for i, t in enumerate(tasks) if isinstance(t, YMap)]
    return found


def _cross_reference(index: _TektonIndex) -> None:
    """Which Tasks Pipelines use, what starts each Pipeline/Task, and which files are pipelines."""
    for res in index.resources:
        if res.kind == "Pipeline":
            specs = [_spec(res.doc)]
        elif res.kind == "PipelineRun":
            specs = [_spec(res.doc).get("pipelineSpec")]
        else:
            specs = [_spec(t).get("pipelineSpec") for t, _ in _template_runs(res)] if res.kind == "TriggerTemplate" else []
        for spec in specs:
            for task, _, _ in _pipeline_tasks(spec):
                name = _ref_name(task.get("taskRef"))
                if name:
                    index.used_tasks.add(name)
    templates = index.templates = _listener_triggers(index)
    for res in index.resources:
        if res.kind in _RUN_REF:
            _run_triggers(index, res, res.doc, _standalone_run_triggers(res))
        elif res.kind == "TriggerTemplate":
            for run, _ in _template_runs(res):
                _run_triggers(index, res, run, templates.get(res.name, []))
        elif res.kind == "CronJob":
            _cron_triggers(index, res)
    for res in index.resources:
        if _claims(index, res):
            index.claimed.setdefault(res.path, []).append(res)
    for path in index.malformed:
        index.claimed.setdefault(path, [])


def _run_triggers(index: _TektonIndex, res: _Resource, run: YMap, found: list[Trigger]) -> None:
    ref_key, _, target = _RUN_REF.get(str(run.get("kind") or res.kind), ("", "", ""))
    name = _ref_name(_spec(run).get(ref_key)) if ref_key else None
    if name and (target, name) in index.by_name:
        index.add_triggers(target, name, found)


def _template_runs(res: _Resource) -> list[tuple[YMap, tuple[int, int]]]:
    """The PipelineRuns/TaskRuns a TriggerTemplate creates, with their lines."""
    items = _spec(res.doc).get("resourcetemplates")
    if not isinstance(items, YList):
        return []
    return [(item, items.item_span(i)) for i, item in enumerate(items)
            if isinstance(item, YMap) and item.get("kind") in _RUN_REF]


def _claims(index: _TektonIndex, res: _Resource) -> bool:
    if res.kind == "Pipeline":
        return True
    if res.kind in ("Task", "ClusterTask"):
        return res.name not in index.used_tasks
    if res.kind in _RUN_REF:
        ref_key, spec_key, target = _RUN_REF[res.kind]
        spec = _spec(res.doc)
        name = _ref_name(spec.get(ref_key))
        return isinstance(spec.get(spec_key), dict) or not name or (target, name) not in index.by_name
    if res.kind == "TriggerTemplate":
        return any(isinstance(_spec(run).get(_RUN_REF[str(run.get("kind"))][1]), dict) for run, _ in _template_runs(res))
    return False


# -- Tekton: triggers ------------------------------------------------------------------------------

_PAC = "pipelinesascode.tekton.dev/"
_EVENT_TYPES = {
    "push": "push", "push hook": "push", "repo:refs_changed": "push", "repo:push": "push",
    "pull_request": "pull_request", "merge request hook": "pull_request", "pr:opened": "pull_request",
    "pr:from_ref_updated": "pull_request", "pullrequest:created": "pull_request",
    "pullrequest:updated": "pull_request", "tag push hook": "tag", "release": "release",
    "incoming": "dispatch", "retest-comment": "manual", "ok-to-test-comment": "manual",
}


def _event_kinds(values: list[str]) -> list[str]:
    return sorted({_EVENT_TYPES[v.strip().lower()] for v in values if v.strip().lower() in _EVENT_TYPES})


def _bracket_list(value: Any) -> list[str]:
    """PAC annotation lists: ``"[pull_request, push]"`` or a YAML list."""
    if isinstance(value, list):
        return _strings(value)
    return [w.strip(" '\"") for w in str(value or "").strip().strip("[]").split(",") if w.strip(" '\"")]


def _standalone_run_triggers(res: _Resource) -> list[Trigger]:
    """A committed PipelineRun/TaskRun: Pipelines-as-Code events in ``.tekton/``, else manual."""
    metadata = res.doc.get("metadata") if isinstance(res.doc.get("metadata"), YMap) else YMap()
    annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), YMap) else YMap()
    home = res.doc.key_span("kind")[0] if "kind" in res.doc else res.doc.span[0]
    in_tekton_dir = res.path.startswith(".tekton/") or "/.tekton/" in res.path
    found: list[Trigger] = []
    if in_tekton_dir and annotations:
        branches = tuple(_bracket_list(annotations.get(_PAC + "on-target-branch")))
        event_key, cel_key = _PAC + "on-event", _PAC + "on-cel-expression"
        kinds: list[str] = []
        line = home
        if event_key in annotations:
            kinds, line = _event_kinds(_bracket_list(annotations[event_key])), annotations.key_span(event_key)[0]
        elif cel_key in annotations:
            kinds = _event_kinds(re.findall(r"event(?:_type)?\s*==\s*['\"]([\w:-]+)['\"]", str(annotations[cel_key])))
            line = annotations.key_span(cel_key)[0]
        for kind in kinds:
            tag = kind == "push" and branches and all(b.startswith("refs/tags") for b in branches)
            found.append(Trigger(type="tag" if tag else kind, branches=branches, line=line, path=res.path))  # type: ignore[arg-type]
        if found or event_key in annotations or cel_key in annotations:
            return found
    return [Trigger(type="manual", line=home, path=res.path)]


def _interceptor_kinds(interceptor: Any) -> list[tuple[str, int]]:
    """(trigger type, line) that one interceptor filters on; empty when it does not filter events."""
    if not isinstance(interceptor, YMap):
        return []
    found: list[tuple[str, int]] = []
    for old in ("github", "gitlab", "bitbucket"):  # v1alpha1: `- github: {eventTypes: [...]}`
        body = interceptor.get(old)
        if isinstance(body, YMap) and isinstance(body.get("eventTypes"), YList):
            line = body.key_span("eventTypes")[0]
            found += [(k, line) for k in _event_kinds(_strings(body["eventTypes"]))]
    params = interceptor.get("params")
    for param in as_list(params):
        if not isinstance(param, YMap):
            continue
        line = param.span[0]
        if param.get("name") == "eventTypes":
            found += [(k, line) for k in _event_kinds(_strings(param.get("value")))]
        elif param.get("name") == "filter":
            found += [(k, line) for k in _cel_kinds(str(param.get("value") or ""))]
    cel = interceptor.get("cel")
    if isinstance(cel, YMap) and isinstance(cel.get("filter"), str):
        found += [(k, cel.key_span("filter")[0]) for k in _cel_kinds(cel["filter"])]
    return found


def _cel_kinds(expression: str) -> list[str]:
    values = re.findall(r"(?:X-GitHub-Event|X-Gitlab-Event|X-Event-Key)['\"]\s*(?:\]\s*==\s*\[?|,\s*)['\"]([\w: -]+)['\"]",
                        expression, re.IGNORECASE)
    values += re.findall(r"object_kind\s*==\s*['\"](\w+)['\"]", expression)
    values = [{"merge_request": "Merge Request Hook", "tag_push": "Tag Push Hook"}.get(v, v) for v in values]
    return _event_kinds(values)


def _template_name(value: Any) -> Optional[str]:
    """``template: {ref: x}`` (v1beta1), ``template: {name: x}`` (v1alpha1) or ``template: x``;
    None for an inline template spec."""
    if isinstance(value, dict):
        value = value.get("ref") or value.get("name")
    return str(value) if _scalar(value) else None


def _listener_triggers(index: _TektonIndex) -> dict[str, list[Trigger]]:
    """TriggerTemplate name -> the triggers of every EventListener (or Trigger) that uses it."""
    found: dict[str, list[Trigger]] = {}
    for res in index.resources:
        if res.kind == "EventListener":
            entries = _spec(res.doc).get("triggers")
            items = [(e, entries.item_span(i)) for i, e in enumerate(entries)] if isinstance(entries, YList) else []
        elif res.kind == "Trigger":
            items = [(_spec(res.doc), res.doc.span)]
        else:
            continue
        for entry, span in items:
            if not isinstance(entry, YMap) or (res.kind == "EventListener" and entry.get("triggerRef")):
                continue  # a referenced Trigger resource is read on its own
            template = _template_name(entry.get("template"))
            if not template:
                continue
            kinds = [k for i in as_list(entry.get("interceptors")) for k in _interceptor_kinds(i)]
            triggers = [Trigger(type=k, line=line, path=res.path) for k, line in kinds]  # type: ignore[arg-type]
            found.setdefault(template, []).extend(triggers or [Trigger(type="dispatch", line=span[0], path=res.path)])
    return found


def _cron_triggers(index: _TektonIndex, res: _Resource) -> None:
    """A Kubernetes CronJob that starts a pipeline: ``tkn pipeline start x`` or a call to ``el-<listener>``."""
    spec = _spec(res.doc)
    cron = spec.get("schedule")
    if not isinstance(cron, str):
        return
    trigger = Trigger(type="schedule", cron=" ".join(cron.split()), line=spec.key_span("schedule")[0], path=res.path)
    text = " ".join(_container_words(spec))
    for kind, name in re.findall(r"\btkn\s+(pipeline|task)\s+start\s+([\w.-]+)", text):
        target = "Pipeline" if kind == "pipeline" else "Task"
        if (target, name) in index.by_name:
            index.add_triggers(target, name, [trigger])
    listeners = set(re.findall(r"\bel-([a-z0-9][\w-]*)", text))
    for listener in (r for r in index.resources if r.kind == "EventListener" and r.name in listeners):
        entries = _spec(listener.doc).get("triggers")
        for entry in as_list(entries):
            name = _template_name(entry.get("template")) if isinstance(entry, dict) else None
            for tt in (r for r in index.resources if r.kind == "TriggerTemplate" and r.name == name):
                for run, _ in _template_runs(tt):
                    _run_triggers(index, tt, run, [trigger])


def _container_words(value: Any, depth: int = 0) -> list[str]:
    """Every ``command``/``args`` word of a CronJob's pod template (bounded walk)."""
    words: list[str] = []
    if depth > 12:
        return words
    if isinstance(value, dict):
        for key, child in value.items():
            if key in ("command", "args"):
                words += _strings(child)
            else:
                words += _container_words(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            words += _container_words(child, depth + 1)
    return words


# -- Tekton: the parser -------------------------------------------------------------------------------


def _is_tekton(facts: "Facts", path: str) -> bool:
    return path in _tekton_index(facts).claimed


@register(TEKTON_PATH, sniff=_is_tekton, suffixes=YAML_SUFFIXES)
def parse_tekton(facts: "Facts", path: str) -> Optional[Pipeline]:
    index = _tekton_index(facts)
    if path in index.malformed:
        return None
    own = index.claimed.get(path, [])
    if not own:
        return None
    start = min(r.doc.span[0] for r in own)
    end = max(r.doc.span[1] for r in own)
    pipeline = Pipeline(system=TEKTON, path=path, name=", ".join(f"{r.kind}/{r.name}" for r in own),
                        start_line=start, end_line=end)
    for res in own:
        pipeline.jobs += _resource_jobs(index, pipeline, res)
    seen: dict[tuple, Trigger] = {}
    for job in pipeline.jobs:
        for trigger in job.triggers:
            seen.setdefault((trigger.type, trigger.cron, trigger.path, trigger.line), trigger)
    pipeline.triggers = tuple(seen[k] for k in sorted(seen, key=lambda k: (k[0], k[1] or "", k[2], k[3])))
    return pipeline


def _own_triggers(index: _TektonIndex, res: _Resource, kind: str) -> tuple[Trigger, ...]:
    found = index.triggers.get((kind, res.name), [])
    if found:
        return tuple(found)
    home = res.doc.key_span("kind")[0] if "kind" in res.doc else res.doc.span[0]
    return (Trigger(type="manual", line=home, path=res.path),)


def _resource_jobs(index: _TektonIndex, pipeline: Pipeline, res: _Resource) -> list[Job]:
    if res.kind == "Pipeline":
        return _pipeline_jobs(index, pipeline, res.name, _spec(res.doc), _own_triggers(index, res, "Pipeline"))
    if res.kind in ("Task", "ClusterTask"):
        job = Job(id=f"task/{res.name}", name=res.name, path=res.path, start_line=res.doc.span[0],
                  end_line=res.doc.span[1], triggers=_own_triggers(index, res, "Task"))
        job.steps = _task_steps(res.path, _spec(res.doc))
        return [job]
    if res.kind in _RUN_REF:
        return _run_jobs(index, pipeline, res, res.doc, res.doc.span, tuple(_standalone_run_triggers(res)))
    if res.kind == "TriggerTemplate":
        triggers = tuple(index.templates.get(res.name, [])) or _own_triggers(index, res, "TriggerTemplate")
        jobs: list[Job] = []
        for run, span in _template_runs(res):
            jobs += _run_jobs(index, pipeline, res, run, span, triggers)
        return jobs
    return []


def _run_jobs(index: _TektonIndex, pipeline: Pipeline, res: _Resource, run: YMap, span: tuple[int, int],
              triggers: tuple[Trigger, ...]) -> list[Job]:
    kind = str(run.get("kind") or res.kind)
    ref_key, spec_key, target = _RUN_REF[kind]
    spec = _spec(run)
    name = res.name or kind
    inline = spec.get(spec_key)
    if isinstance(inline, YMap) and kind == "PipelineRun":
        return _pipeline_jobs(index, pipeline, name, inline, triggers)
    if isinstance(inline, YMap):
        job = Job(id=f"taskrun/{name}", name=name, path=res.path, start_line=span[0], end_line=span[1], triggers=triggers)
        job.steps = _task_steps(res.path, inline)
        return [job]
    ref = spec.get(ref_key)
    ref_name = _ref_name(ref)
    if not ref_name or (target, ref_name) not in index.by_name:
        _unfollowed(pipeline, f"{ref_key}: {_describe_ref(ref)}", f"{target.lower()} defined outside the repository")
    return []


def _describe_ref(ref: Any) -> str:
    if isinstance(ref, dict):
        if ref.get("resolver"):
            params = {str(p.get("name")): str(p.get("value")) for p in as_list(ref.get("params")) if isinstance(p, dict)}
            detail = params.get("name") or params.get("pathInRepo") or params.get("url") or ""
            return f"{ref['resolver']} resolver {detail}".strip()
        if ref.get("bundle"):
            return f"bundle {ref['bundle']} {ref.get('name', '')}".strip()
        return str(ref.get("name", ""))
    return str(ref or "")


def _unfollowed(pipeline: Pipeline, reference: str, reason: str) -> None:
    entry = (reference, reason)
    if entry not in pipeline.unfollowed:
        pipeline.unfollowed.append(entry)


def _pipeline_jobs(index: _TektonIndex, pipeline: Pipeline, name: str, spec: Any,
                   triggers: tuple[Trigger, ...]) -> list[Job]:
    jobs: list[Job] = []
    for task, span, final in _pipeline_tasks(spec):
        task_name = str(task.get("name") or f"task{len(jobs) + 1}")
        error = str(task.get("onError") or "").strip().lower()
        job = Job(id=f"{name}/{task_name}", name=task_name, path=pipeline.path, start_line=span[0], end_line=span[1],
                  triggers=triggers, needs=tuple(_strings(task.get("runAfter"))),
                  non_blocking="`onError: continue` on pipeline task" if error == "continue" else None)
        inline = task.get("taskSpec")
        if isinstance(inline, YMap):
            job.steps = _task_steps(pipeline.path, inline)
        else:
            ref = task.get("taskRef")
            ref_name = _ref_name(ref)
            target = index.by_name.get(("Task", ref_name)) if ref_name else None
            if target is None:
                _unfollowed(pipeline, f"taskRef: {_describe_ref(ref)}", "task defined outside the repository")
            else:
                job.steps = _task_steps(target.path, _spec(target.doc))
        if final:
            for step in job.steps:
                step.condition = step.condition or "finally"
        jobs.append(job)
    return jobs


def _task_steps(path: str, spec: Any) -> list[Step]:
    steps: list[Step] = []
    items = spec.get("steps") if isinstance(spec, dict) else None
    if not isinstance(items, YList):
        return steps
    for index, item in enumerate(items):
        if isinstance(item, YMap):
            steps.append(_tekton_step(item, items.item_span(index), path, index))
    return steps


def _tekton_step(spec: YMap, span: tuple[int, int], path: str, index: int) -> Step:
    image = str(spec.get("image") or "")
    run = ""
    script = spec.get("script")
    if isinstance(script, str):
        shebang = re.match(r"#!\s*(\S+)(?:\s+(\S+))?", script.lstrip())
        program = ""
        if shebang:
            program = posixpath.basename(shebang.group(2) if shebang.group(1).endswith("/env") and shebang.group(2)
                                         else shebang.group(1))
        run = script if not program or program in _SHELLS else ""
    else:
        argv = _strings(spec.get("command")) + _strings(spec.get("args"))
        run = _shell_script(argv) or _join(argv)
    ref = spec.get("ref")
    uses = f"stepaction: {_describe_ref(ref)}" if isinstance(ref, dict) else image
    env = {str(e.get("name")): str(e.get("value")) for e in as_list(spec.get("env"))
           if isinstance(e, dict) and e.get("name") and _scalar(e.get("value"))}
    step = Step(name=str(spec.get("name") or _first_line(run) or image or f"step {index + 1}"),
                start_line=span[0], end_line=span[1], run=run, uses=uses, path=path, env=env,
                workdir=_workdir(spec.get("workingDir"), r"^\$\(workspaces\.[\w-]+\.path\)/?"))
    error = str(spec.get("onError") or "").strip().lower()
    step.non_blocking = "`onError: continue`" if error == "continue" else _all_swallowed(step)
    return step
