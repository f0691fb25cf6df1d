"""GitHub Actions workflows (``.github/workflows/*.yml``) as :class:`~scanner.facts.ci.Pipeline`.

What the normalisation decides, and why:

- ``on:`` may be a string, a list or a mapping, and YAML 1.1 loads the bare key ``on`` as ``True``.
  Events map to trigger types: ``push`` (with only ``tags:`` -> ``tag``; with ``branches`` and
  ``tags`` -> both), ``pull_request``/``pull_request_target``/``merge_group`` -> ``pull_request``,
  each ``schedule`` cron -> ``schedule``, ``workflow_dispatch`` -> ``manual``,
  ``repository_dispatch``/``workflow_call``/``workflow_run`` (and other machine events) ->
  ``dispatch``, ``release`` -> ``release``.
- A job's ``if:`` narrows the workflow's triggers when it tests ``github.event_name`` or
  ``github.ref``; ``if: false`` (or ``${{ false }}``, or a test no trigger can satisfy) disables it.
- A job calling a reusable workflow of this repository (``uses: ./.github/workflows/x.yml``) is
  replaced by the called workflow's jobs, with the caller's triggers (bounded depth, no cycles).
  A workflow that is only ``workflow_call``-ed from inside the repository loses that trigger: its
  real triggers are its callers'. Reusable workflows of other repositories are not followed; the
  call is kept as a one-step job and listed in ``Pipeline.unfollowed``.
- ``continue-on-error: true`` on a job or step, and a step whose every command swallows failures
  (``|| true``), make it non-blocking. An expression (``${{ matrix.experimental }}``) does not:
  it usually spares only some matrix entries.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional

from ..patterns import lazy
from .ci import (
    YAML_SUFFIXES,
    ALL_TRIGGER_TYPES,
    Job,
    Pipeline,
    Step,
    Trigger,
    eval_condition,
    narrow,
    pipeline_doc,
    register,
    shell_non_blocking,
)
from .yamldoc import YList, YMap, as_list, get_key

if TYPE_CHECKING:
    from . import Facts

WORKFLOW_PATH = r"\.github/workflows/[^/]+\.ya?ml"
_WORKFLOW_RX = lazy(WORKFLOW_PATH)
MAX_CALL_DEPTH = 4  # GitHub allows four levels of nested reusable workflows

_EVENTS: dict[str, str] = {
    "push": "push",
    "create": "push",
    "pull_request": "pull_request",
    "pull_request_target": "pull_request",
    "merge_group": "pull_request",
    "schedule": "schedule",
    "workflow_dispatch": "manual",
    "issue_comment": "manual",  # ChatOps: a person writes "/deploy"
    "release": "release",
}
_DISPATCH_DEFAULT = "dispatch"  # repository_dispatch, workflow_call, workflow_run, registry_package, ...

# Which trigger types a `github.event_name == '<event>'` test keeps. A push may have been
# normalised to "tag", so the push event keeps both.
_EVENT_KEEPS: dict[str, frozenset] = {
    "push": frozenset({"push", "tag"}),
    "create": frozenset({"push", "tag"}),
}

_FALSE = lazy(r"^(?:false|0|''|\"\")$", re.IGNORECASE)
_TRUE = lazy(r"^(?:true|1)$", re.IGNORECASE)
_EXPR_WRAPPER = lazy(r"\$\{\{|\}\}")


@register(WORKFLOW_PATH, suffixes=YAML_SUFFIXES)
def parse_workflow(facts: "Facts", path: str) -> Optional[Pipeline]:
    """One workflow file as a pipeline; None when it is not valid YAML or not a workflow."""
    doc = pipeline_doc(facts, path, "github_actions")
    if not isinstance(doc, YMap):
        return doc
    jobs_spec = doc.get("jobs")
    if jobs_spec is not None and not isinstance(jobs_spec, YMap):
        return None
    triggers = workflow_triggers(doc, path, drop_workflow_call=_called_in_repo(facts, path))
    start, end = doc.span
    pipeline = Pipeline(
        system="github_actions",
        path=path,
        name=str(doc.get("name") or path),
        start_line=start,
        end_line=end,
        triggers=triggers,
        env=_str_dict(doc.get("env")),
    )
    if isinstance(jobs_spec, YMap):
        pipeline.jobs = _jobs(facts, path, doc, triggers, pipeline, depth=0, stack=(path,), prefix="", caller_name="")
    return pipeline


# -- triggers ----------------------------------------------------------------------------


def workflow_triggers(doc: YMap, path: str, drop_workflow_call: bool = False) -> tuple[Trigger, ...]:
    """Every way the workflow starts, one Trigger per event (per cron for schedules).

    ``drop_workflow_call``: the workflow is called from inside the repository, so being callable
    is not a trigger of its own (its callers' triggers reach its jobs through the callers).
    """
    key, on = get_key(doc, "on", True)
    if key is None:
        return ()
    events: list[tuple[str, Any, int]] = []
    if isinstance(on, str):
        events.append((on, None, doc.key_span(key)[0]))
    elif isinstance(on, YList):
        events += [(str(event), None, on.item_span(i)[0]) for i, event in enumerate(on)]
    elif isinstance(on, YMap):
        events += [(str(event), config, on.key_span(event)[0]) for event, config in on.items()]
    found: list[Trigger] = []
    for event, config, line in events:
        if not (drop_workflow_call and event == "workflow_call"):
            found += _event_triggers(event, config, line)
    # a called workflow's jobs carry these triggers too, so say which file the line is in
    return tuple(replace(t, path=path) for t in found)


def _event_triggers(event: str, config: Any, line: int) -> list[Trigger]:
    if event == "schedule":
        return _schedule_triggers(config, line)
    if event == "push":
        return _push_triggers(config, line)
    kind = _EVENTS.get(event, _DISPATCH_DEFAULT)
    branches = _strings(config.get("branches")) if isinstance(config, dict) else ()
    paths = _strings(config.get("paths")) if isinstance(config, dict) else ()
    return [Trigger(type=kind, branches=branches, paths=paths, line=line)]  # type: ignore[arg-type]


def _push_triggers(config: Any, line: int) -> list[Trigger]:
    if not isinstance(config, dict):
        return [Trigger(type="push", line=line)]
    has_tags = "tags" in config or "tags-ignore" in config
    has_branches = "branches" in config or "branches-ignore" in config
    found: list[Trigger] = []
    if has_branches or not has_tags:
        found.append(Trigger(type="push", branches=_strings(config.get("branches")),
                             paths=_strings(config.get("paths")), line=line))
    if has_tags:
        found.append(Trigger(type="tag", branches=_strings(config.get("tags")), line=line))
    return found


def _schedule_triggers(config: Any, line: int) -> list[Trigger]:
    found: list[Trigger] = []
    if isinstance(config, YList):
        for index, item in enumerate(config):
            cron = item.get("cron") if isinstance(item, dict) else None
            if cron is not None:
                found.append(Trigger(type="schedule", cron=str(cron), line=config.item_span(index)[0]))
    if not found:
        found.append(Trigger(type="schedule", line=line))
    return found


# -- conditions --------------------------------------------------------------------------


def _condition_atom(universe: frozenset) -> Any:
    """An atom evaluator for GitHub expressions, relative to the triggers in play."""

    def atom(text: str) -> Optional[frozenset]:
        text = text.strip()
        if _FALSE.match(text):
            return frozenset()
        if _TRUE.match(text):
            return None
        event = re.fullmatch(r"(?:github\.event_name\s*(==|!=)\s*'([\w-]+)'|'([\w-]+)'\s*(==|!=)\s*github\.event_name)", text)
        if event:
            op = event.group(1) or event.group(4)
            name = event.group(2) or event.group(3)
            keeps = _EVENT_KEEPS.get(name, frozenset({_EVENTS.get(name, _DISPATCH_DEFAULT)}))
            return keeps if op == "==" else universe - keeps
        if re.search(r"startsWith\(\s*github\.ref\s*,\s*'refs/tags/?'\s*\)|github\.ref_type\s*==\s*'tag'", text):
            return frozenset({"tag", "release"})
        if re.search(r"startsWith\(\s*github\.ref\s*,\s*'refs/heads/|github\.ref\s*==\s*'refs/heads/|github\.ref_type\s*==\s*'branch'", text):
            return universe - {"pull_request", "tag", "release"}
        return None

    return atom


def _condition(value: Any, triggers: tuple[Trigger, ...]) -> tuple[Optional[frozenset], Optional[str], str]:
    """(allowed trigger types or None, why it can never run or None, the condition as text)."""
    if value is None:
        return None, None, ""
    if isinstance(value, bool):
        return (None, None, "true") if value else (frozenset(), "`if: false`", "false")
    raw = str(value).strip()
    expr = _EXPR_WRAPPER.sub(" ", raw).strip()
    universe = frozenset(t.type for t in triggers) or ALL_TRIGGER_TYPES
    allowed = eval_condition(expr, _condition_atom(universe))
    if allowed is None:
        return None, None, raw
    if not allowed:
        if _FALSE.match(expr):
            return allowed, "`if: false`", raw
        if re.search(r"(?<![\w.])false(?![\w.])", expr) and "github.event_name" not in expr:
            return allowed, f"`if: {raw}` is always false", raw
    if triggers and not narrow(triggers, allowed):
        return allowed, f"`if: {raw}` matches none of the workflow's triggers", raw
    return allowed, None, raw


# -- jobs --------------------------------------------------------------------------------

# A reusable workflow's input: its value, and where the caller wrote it (file, lines) if it did.
Inputs = dict[str, tuple[str, Optional[tuple[str, tuple[int, int]]]]]
_INPUT_REF = lazy(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def _substitute(value: Any, inputs: Inputs) -> Any:
    """``${{ inputs.x }}`` replaced by the caller's value, where the caller gave one."""
    if not inputs or not isinstance(value, str):
        return value
    return _INPUT_REF.sub(lambda m: inputs[m.group(1)][0] if m.group(1) in inputs else m.group(0), value)


def _jobs(
    facts: "Facts",
    path: str,
    doc: YMap,
    triggers: tuple[Trigger, ...],
    pipeline: Pipeline,
    *,
    depth: int,
    stack: tuple[str, ...],
    prefix: str,
    caller_name: str,
    caller_disabled: Optional[str] = None,
    inputs: Optional[Inputs] = None,
) -> list[Job]:
    jobs_spec = doc.get("jobs")
    if not isinstance(jobs_spec, YMap):
        return []
    inputs = inputs or {}
    defaults_dir = _workdir(doc.get("defaults"), inputs)
    workflow_env = _str_dict(doc.get("env"))
    found: list[Job] = []
    for job_id, spec in jobs_spec.items():
        if not isinstance(spec, YMap):
            continue
        start, end = jobs_spec.key_span(job_id)
        job_id = _key_text(facts, path, job_id, start)
        allowed, disabled, _ = _condition(_substitute(get_key(spec, "if")[1], inputs), triggers)
        job_triggers = narrow(triggers, allowed)
        disabled = caller_disabled or disabled
        qualified = f"{prefix}{job_id}"
        name = str(spec.get("name") or job_id)
        uses = spec.get("uses")
        if isinstance(uses, str):
            call = _Call(path=path, spec=spec, span=(start, end), qualified=qualified, name=name,
                         triggers=job_triggers, disabled=disabled, inputs=inputs)
            found += _called_jobs(facts, uses, call, pipeline, depth, stack)
            continue
        job = Job(
            id=qualified,
            name=f"{caller_name} / {name}" if caller_name else name,
            path=path,
            start_line=start,
            end_line=end,
            triggers=job_triggers,
            environment=_environment(_substitute(_environment(spec.get("environment")), inputs)),
            non_blocking=_continue_on_error(spec),
            disabled=disabled,
            needs=tuple(f"{prefix}{n}" for n in _strings(spec.get("needs"))),
            env={**workflow_env, **_str_dict(spec.get("env"))},
            image=_image(spec.get("container")),
        )
        job_dir = _workdir(spec.get("defaults"), inputs) or defaults_dir
        job.steps = _steps(path, spec.get("steps"), job_triggers, job_dir, inputs)
        found.append(job)
    return found


@dataclass
class _Call:
    """A job of ``path`` that calls a reusable workflow, as the called jobs inherit it."""

    path: str
    spec: YMap
    span: tuple[int, int]
    qualified: str
    name: str
    triggers: tuple[Trigger, ...]
    disabled: Optional[str]
    inputs: Inputs


def _called_jobs(facts: "Facts", uses: str, call: _Call, pipeline: Pipeline, depth: int,
                 stack: tuple[str, ...]) -> list[Job]:
    """The jobs of a reusable workflow called by one job, with the caller's triggers and inputs."""
    uses = uses.strip()
    target = posixpath.normpath(uses[2:].split("@", 1)[0]) if uses.startswith("./") else None
    reason = ""
    if target is None:
        reason = "reusable workflow of another repository; not followed"
    elif not _WORKFLOW_RX.fullmatch(target) or target not in facts.snapshot:
        reason = "reusable workflow not found in the repository"
    elif target in stack or depth + 1 > MAX_CALL_DEPTH:
        reason = "reusable workflow call too deep or recursive; not followed"
    else:
        called = facts.yaml(target)
        called_doc = called[0] if called else None
        if isinstance(called_doc, YMap):
            return _jobs(facts, target, called_doc, call.triggers, pipeline, depth=depth + 1,
                         stack=stack + (target,), prefix=f"{call.qualified}/", caller_name=call.name,
                         caller_disabled=call.disabled, inputs=_call_inputs(called_doc, call))
        reason = facts.problems.get(target, "reusable workflow is not a workflow mapping")
    pipeline.unfollowed.append((uses, reason))
    step = Step(name=f"uses {uses}", start_line=call.span[0], end_line=call.span[1], uses=uses,
                with_=_plain_dict(call.spec.get("with")), path=call.path)
    return [Job(id=call.qualified, name=call.name, path=call.path, start_line=call.span[0], end_line=call.span[1],
                steps=[step], triggers=call.triggers, disabled=call.disabled, needs=_strings(call.spec.get("needs")))]


def _call_inputs(called_doc: YMap, call: _Call) -> Inputs:
    """The called workflow's ``inputs``: declared defaults, overridden by the caller's ``with:``."""
    values: Inputs = {}
    on = get_key(called_doc, "on", True)[1]
    declared = on.get("workflow_call") if isinstance(on, dict) else None
    declared = declared.get("inputs") if isinstance(declared, dict) else None
    if isinstance(declared, dict):
        for name, spec in declared.items():
            if isinstance(spec, dict) and _is_scalar(spec.get("default")):
                values[str(name)] = (_scalar_text(spec["default"]), None)
    given = call.spec.get("with")
    if isinstance(given, YMap):
        for name, value in given.items():
            if _is_scalar(value):
                text = _substitute(_scalar_text(value), call.inputs)
                values[str(name)] = (text, (call.path, given.key_span(name)))
    return values


def _steps(path: str, steps: Any, triggers: tuple[Trigger, ...], job_dir: str, inputs: Inputs) -> list[Step]:
    found: list[Step] = []
    if not isinstance(steps, YList):
        return found
    for index, spec in enumerate(steps):
        if not isinstance(spec, YMap):
            continue
        start, end = steps.item_span(index)
        raw_run = spec.get("run")
        raw_run = str(raw_run) if raw_run is not None else ""
        run = _substitute(raw_run, inputs)
        uses = str(spec.get("uses") or "")
        allowed, disabled, condition = _condition(_substitute(get_key(spec, "if")[1], inputs), triggers)
        step = Step(
            name=_step_name(spec, run, uses, index),
            start_line=start,
            end_line=end,
            run=run,
            uses=uses,
            with_=_plain_dict(spec.get("with")),
            env=_str_dict(spec.get("env")),
            condition=condition,
            path=path,
            disabled=disabled,
            triggers=narrow(triggers, allowed) if allowed is not None else None,
            workdir=_join_dir(job_dir, _substitute(spec.get("working-directory"), inputs)),
        )
        whole = _INPUT_REF.fullmatch(raw_run.strip())
        where = inputs.get(whole.group(1), ("", None))[1] if whole else None
        if where is not None:  # `run: ${{ inputs.run }}`: the command is written in the caller
            step.path, (step.start_line, step.end_line) = where
        step.non_blocking = _continue_on_error(spec) or _all_commands_swallowed(step)
        found.append(step)
    return found


def _all_commands_swallowed(step: Step) -> Optional[str]:
    """A step fails only through its commands; when every one swallows failures, it cannot."""
    commands = step.commands()
    reasons = [shell_non_blocking(c) for c in commands]
    if commands and all(reasons):
        return reasons[0]
    return None


def _step_name(spec: YMap, run: str, uses: str, index: int) -> str:
    if spec.get("name") is not None:
        return str(spec.get("name"))
    if uses:
        return uses
    first = next((line.strip() for line in run.splitlines() if line.strip()), "")
    return first[:80] or f"step {index + 1}"


# -- reusable-workflow callers -----------------------------------------------------------

_CALLERS: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def _called_in_repo(facts: "Facts", path: str) -> bool:
    """Whether another workflow of this repository calls ``path`` as a reusable workflow."""
    if facts not in _CALLERS:
        called: set[str] = set()
        for other in facts.snapshot.paths():
            if not other.startswith(".github/workflows/") or not _WORKFLOW_RX.fullmatch(other):
                continue
            docs = facts.yaml(other)
            jobs = docs[0].get("jobs") if docs and isinstance(docs[0], YMap) else None
            if not isinstance(jobs, dict):
                continue
            for spec in jobs.values():
                uses = spec.get("uses") if isinstance(spec, dict) else None
                if isinstance(uses, str) and uses.strip().startswith("./"):
                    target = posixpath.normpath(uses.strip()[2:].split("@", 1)[0])
                    if target != other:
                        called.add(target)
        _CALLERS[facts] = called
    return path in _CALLERS[facts]


# -- small readers -----------------------------------------------------------------------


def _key_text(facts: "Facts", path: str, key: Any, line: int) -> str:
    """A mapping key as written: YAML 1.1 turns ``off:``/``yes:`` into booleans, GitHub does not."""
    if isinstance(key, str):
        return key
    lines = facts.lines(path) or []
    if 1 <= line <= len(lines):
        match = re.match(r"\s*([\"']?)([^:#\"']+)\1\s*:", lines[line - 1])
        if match:
            return match.group(2).strip()
    return str(key)


def _continue_on_error(spec: YMap) -> Optional[str]:
    value = spec.get("continue-on-error")
    if value is True or (isinstance(value, str) and _TRUE.match(_EXPR_WRAPPER.sub("", value).strip())):
        return "`continue-on-error: true`"
    return None


def _environment(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        value = value.get("name")
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _image(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("image")
    return str(value) if isinstance(value, (str, int, float)) else ""


def _workdir(defaults: Any, inputs: Inputs) -> str:
    run = defaults.get("run") if isinstance(defaults, dict) else None
    value = run.get("working-directory") if isinstance(run, dict) else None
    return _join_dir("", _substitute(value, inputs))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _scalar_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _join_dir(base: str, value: Any) -> str:
    """``working-directory`` joined onto ``base``, repository-relative ("" = the root)."""
    if not isinstance(value, str) or not value.strip() or "${{" in value:
        return base
    joined = posixpath.normpath(posixpath.join(base or ".", value.strip()))
    if joined == "." or joined.startswith("..") or joined.startswith("/"):
        return "" if joined == "." else base
    return joined


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in as_list(value) if isinstance(v, (str, int, float)))


def _str_dict(value: Any) -> dict:
    if not isinstance(value, dict):
        return {}
    return {str(k): ("" if v is None else str(v)) for k, v in value.items() if not isinstance(v, (dict, list))}


def _plain_dict(value: Any) -> dict:
    return dict(value) if isinstance(value, dict) else {}
