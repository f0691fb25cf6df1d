"""CircleCI (``.circleci/config.yml``) and Bitbucket Pipelines (``bitbucket-pipelines.yml``) as
:class:`~scanner.facts.ci.Pipeline`.

CircleCI, what the normalisation decides:

- One :class:`Job` per job entry of each workflow (id ``workflow/job``), cited at the job's
  definition under ``jobs:``; reusable ``commands:`` are expanded into their steps (bounded), orb
  commands (``python/install-packages``) and ``checkout`` are ``uses``. ``run`` (string or
  ``command``) is the shell.
- A workflow with ``triggers: - schedule: cron`` runs only on that schedule; any other workflow runs
  on every pushed branch, which includes pull-request branches: push + pull_request. ``filters``:
  ``tags.only`` adds tag, ``branches.ignore: /.*/`` removes push/pull_request, ``branches.only``
  keeps push only for those branches (pull requests from other branches are not built).
  ``when: false``/``unless: true`` on a workflow disables it; a ``when`` that tests
  ``pipeline.trigger_source`` / ``scheduled_pipeline`` means schedule (cron in project settings).
- A ``type: approval`` job is a person clicking: the jobs that ``requires`` it (transitively) get
  the single trigger manual.

Bitbucket, what the normalisation decides:

- ``pipelines.default`` -> push, ``branches.<glob>`` -> push (that branch glob), ``tags.<glob>`` ->
  tag, ``pull-requests.<glob>`` -> pull_request, ``custom.<name>`` -> manual (a run from the UI;
  schedules are configured in the UI, not in the file). Each ``step`` (also inside ``parallel`` and
  ``stage``) is a job ``section/pattern/step-name``; ``script`` is its shell, ``after-script`` is a
  non-blocking step (its failure does not fail the step). ``deployment:`` -> environment;
  ``trigger: manual`` on a step (or stage) makes it and every later step of that pipeline manual.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Optional

from .ci import YAML_SUFFIXES, Job, Pipeline, Step, Trigger, pipeline_doc, register, shell_non_blocking
from .yamldoc import YList, YMap, as_list

if TYPE_CHECKING:
    from . import Facts

MAX_COMMAND_DEPTH = 10


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in as_list(value) if isinstance(v, (str, int, float)) and not isinstance(v, bool))


def _swallowed(step: Step) -> Optional[str]:
    commands = step.commands()
    reasons = [shell_non_blocking(c) for c in commands]
    return reasons[0] if commands and all(reasons) else None


def _first_line(run: str) -> str:
    return next((line.strip() for line in run.splitlines() if line.strip()), "")[:80]


# -- CircleCI ---------------------------------------------------------------------------------------

CIRCLECI = "circleci"


@register(r"\.circleci/config\.ya?ml", suffixes=YAML_SUFFIXES)
def parse_circleci(facts: "Facts", path: str) -> Optional[Pipeline]:
    doc = pipeline_doc(facts, path, CIRCLECI)
    if not isinstance(doc, YMap):
        return doc
    pipeline = Pipeline(system=CIRCLECI, path=path, name=path, start_line=doc.span[0], end_line=doc.span[1])
    definitions = doc.get("jobs") if isinstance(doc.get("jobs"), YMap) else YMap()
    commands = doc.get("commands") if isinstance(doc.get("commands"), dict) else {}
    workflows = doc.get("workflows")
    if not isinstance(workflows, YMap):  # CircleCI 2.0 without workflows runs the job `build` on push
        workflows = YMap({"default": {"jobs": ["build"]}}) if "build" in definitions else YMap()
        workflows.key_spans = {}
    found: dict[str, Trigger] = {}
    for name, workflow in workflows.items():
        if not isinstance(workflow, dict) or name == "version":
            continue
        line = workflows.key_span(name)[0] if name in getattr(workflows, "key_spans", {}) else doc.span[0]
        triggers, disabled = _circle_workflow_triggers(workflow, line, path)
        pipeline.jobs += _circle_jobs(path, str(name), workflow, definitions, commands, triggers, disabled)
        for trigger in triggers:
            found.setdefault(trigger.cron or trigger.type, trigger)
    pipeline.triggers = tuple(found[k] for k in sorted(found))
    return pipeline


def _circle_workflow_triggers(workflow: dict, line: int, path: str) -> tuple[tuple[Trigger, ...], Optional[str]]:
    when, unless = workflow.get("when"), workflow.get("unless")
    if when is False or unless is True:
        return (), "`when: false`" if when is False else "`unless: true`"
    crons: list[Trigger] = []
    triggers = workflow.get("triggers")
    if isinstance(triggers, YList):
        for index, item in enumerate(triggers):
            schedule = item.get("schedule") if isinstance(item, dict) else None
            if isinstance(schedule, YMap) and schedule.get("cron") is not None:
                crons.append(Trigger(type="schedule", cron=str(schedule["cron"]), line=schedule.key_span("cron")[0],
                                     path=path))
    if crons:
        return tuple(crons), None
    if when is not None and re.search(r"scheduled_pipeline|trigger_source|schedule\.name", str(when)):
        return (Trigger(type="schedule", line=line, path=path),), None
    return (Trigger(type="push", line=line, path=path), Trigger(type="pull_request", line=line, path=path)), None


def _circle_filters(filters: Any, triggers: tuple[Trigger, ...]) -> tuple[Trigger, ...]:
    if not isinstance(filters, dict) or any(t.type == "schedule" for t in triggers):
        return triggers
    branches = filters.get("branches") if isinstance(filters.get("branches"), dict) else {}
    tags = filters.get("tags") if isinstance(filters.get("tags"), dict) else {}
    out = list(triggers)
    if str(branches.get("ignore", "")).strip() in ("/.*/", ".*"):
        out = []
    elif branches.get("only") is not None:
        only = _strings(branches.get("only"))
        out = [Trigger(type="push", branches=only, line=t.line, path=t.path) for t in out if t.type == "push"]
    if tags.get("only") is not None and triggers:
        out.append(Trigger(type="tag", branches=_strings(tags.get("only")), line=triggers[0].line, path=triggers[0].path))
    return tuple(out)


def _circle_jobs(path: str, workflow: str, spec: dict, definitions: YMap, commands: dict,
                 triggers: tuple[Trigger, ...], disabled: Optional[str]) -> list[Job]:
    entries: list[tuple[str, dict]] = []
    for entry in as_list(spec.get("jobs")):
        if isinstance(entry, str):
            entries.append((entry, {}))
        elif isinstance(entry, dict) and len(entry) == 1:
            name, config = next(iter(entry.items()))
            entries.append((str(name), config if isinstance(config, dict) else {}))
    approvals = {(c.get("name") or n) for n, c in entries if c.get("type") == "approval"}
    gated: set[str] = set(approvals)
    for _ in range(len(entries)):  # transitive `requires` of an approval, bounded by the entries
        for name, config in entries:
            if set(_strings(config.get("requires"))) & gated:
                gated.add(str(config.get("name") or name))
    jobs: list[Job] = []
    for name, config in entries:
        if config.get("type") == "approval":
            continue
        alias = str(config.get("name") or name)
        definition = definitions.get(name)
        if not isinstance(definition, YMap):
            continue  # an orb job (python/test): defined outside the repository
        start, end = definitions.key_span(name)
        job_triggers = _circle_filters(config.get("filters"), triggers)
        if alias in gated and job_triggers:
            job_triggers = (Trigger(type="manual", line=start, path=path),)
        job = Job(id=f"{workflow}/{alias}", name=alias, path=path, start_line=start, end_line=end,
                  triggers=job_triggers, disabled=disabled, needs=_strings(config.get("requires")),
                  env={str(k): str(v) for k, v in (definition.get("environment") or {}).items()}
                  if isinstance(definition.get("environment"), dict) else {},
                  image=_circle_image(definition))
        job.steps = _circle_steps(path, definition.get("steps"), commands, 0)
        jobs.append(job)
    return jobs


def _circle_image(definition: dict) -> str:
    docker = definition.get("docker")
    first = docker[0] if isinstance(docker, list) and docker else None
    return str(first.get("image", "")) if isinstance(first, dict) else ""


def _circle_steps(path: str, steps: Any, commands: dict, depth: int,
                  at: Optional[tuple[int, int]] = None) -> list[Step]:
    """Steps of a job; a reusable command's steps are cited where the command defines them."""
    found: list[Step] = []
    if not isinstance(steps, YList) or depth > MAX_COMMAND_DEPTH:
        return found
    for index, item in enumerate(steps):
        start, end = steps.item_span(index)
        name, config = (item, {}) if isinstance(item, str) else next(iter(item.items())) if isinstance(item, dict) and len(item) == 1 else (None, {})
        if name is None:
            continue
        name = str(name)
        if name == "run":
            command = config.get("command") if isinstance(config, dict) else config
            run = str(command or "")
            step = Step(name=str(config.get("name")) if isinstance(config, dict) and config.get("name") else _first_line(run) or "run",
                        start_line=start, end_line=end, run=run, path=path,
                        workdir=str(config.get("working_directory", "")) if isinstance(config, dict) else "")
            step.non_blocking = _swallowed(step)
            found.append(step)
        elif name in commands and isinstance(commands[name], dict):
            found += _circle_steps(path, commands[name].get("steps"), commands, depth + 1)
        else:
            found.append(Step(name=name, start_line=start, end_line=end, uses=name,
                              with_=dict(config) if isinstance(config, dict) else {}, path=path))
    return found


# -- Bitbucket Pipelines -------------------------------------------------------------------------------

BITBUCKET = "bitbucket_pipelines"
_SECTIONS = {"default": "push", "branches": "push", "tags": "tag", "pull-requests": "pull_request", "custom": "manual"}


@register(r"bitbucket-pipelines\.ya?ml", suffixes=YAML_SUFFIXES)
def parse_bitbucket(facts: "Facts", path: str) -> Optional[Pipeline]:
    doc = pipeline_doc(facts, path, BITBUCKET)
    if not isinstance(doc, YMap):
        return doc
    pipeline = Pipeline(system=BITBUCKET, path=path, name=path, start_line=doc.span[0], end_line=doc.span[1])
    sections = doc.get("pipelines")
    if not isinstance(sections, YMap):
        return pipeline
    image = doc.get("image")
    image = str(image.get("name", "")) if isinstance(image, dict) else str(image or "")
    found: dict[str, Trigger] = {}
    for section, body in sections.items():
        kind = _SECTIONS.get(str(section))
        if kind is None:
            continue
        line = sections.key_span(section)[0]
        if section == "default":
            runs = [("default", body, line)]
        elif isinstance(body, YMap):
            runs = [(f"{section}/{pattern}", items, body.key_span(pattern)[0]) for pattern, items in body.items()]
        else:
            continue
        for label, items, at in runs:
            pattern = label.split("/", 1)[1] if "/" in label else ""
            trigger = Trigger(type=kind, branches=(pattern,) if pattern and kind != "manual" else (),  # type: ignore[arg-type]
                              line=at, path=path)
            found.setdefault(kind, trigger)
            pipeline.jobs += _bitbucket_steps(path, label, items, trigger, image)
    pipeline.triggers = tuple(found[k] for k in sorted(found))
    return pipeline


def _bitbucket_steps(path: str, label: str, items: Any, trigger: Trigger, image: str) -> list[Job]:
    """Jobs for the steps of one pipeline, in order; a manual step makes the rest wait too."""
    jobs: list[Job] = []
    manual = False
    if isinstance(items, dict) and "steps" in items:  # a custom pipeline with variables
        items = items.get("steps")
    for step_spec, span, stage in _bitbucket_flatten(items):
        manual = manual or step_spec.get("trigger") == "manual" or (stage or {}).get("trigger") == "manual"
        name = str(step_spec.get("name") or f"step {len(jobs) + 1}")
        triggers = (Trigger(type="manual", line=span[0], path=path),) if manual and trigger.type != "manual" else (trigger,)
        environment = step_spec.get("deployment") or (stage or {}).get("deployment")
        step_image = step_spec.get("image")
        job = Job(id=f"{label}/{name}", name=name, path=path, start_line=span[0], end_line=span[1], triggers=triggers,
                  environment=str(environment) if isinstance(environment, str) else None,
                  image=str(step_image.get("name", "")) if isinstance(step_image, dict) else str(step_image or image))
        for key in ("script", "after-script"):
            value = step_spec.get(key)
            if not isinstance(value, YList):
                continue
            start, end = step_spec.key_span(key)
            lines = [str(v) for v in value if isinstance(v, (str, int, float))]
            pipes = [f"pipe: {v.get('pipe')}" for v in value if isinstance(v, dict) and v.get("pipe")]
            step = Step(name=f"{name}: {key}", start_line=start, end_line=end, run="\n".join(lines),
                        uses=", ".join(pipes), path=path)
            step.non_blocking = ("`after-script` failures do not fail the step" if key == "after-script"
                                 else _swallowed(step))
            job.steps.append(step)
        jobs.append(job)
    return jobs


def _bitbucket_flatten(items: Any) -> list[tuple[dict, tuple[int, int], Optional[dict]]]:
    """(step mapping, its lines, its stage or None) for every step, through parallel and stage."""
    found: list[tuple[dict, tuple[int, int], Optional[dict]]] = []
    if not isinstance(items, YList):
        return found
    for index, item in enumerate(items):
        if not isinstance(item, YMap):
            continue
        if isinstance(item.get("step"), YMap):
            # the step mapping's own lines: an aliased step (`- step: *tests`) is cited, and merged
            # over its uses, where the anchor defines it
            found.append((item["step"], item["step"].span, None))
        parallel = item.get("parallel")
        if isinstance(parallel, dict):
            parallel = parallel.get("steps")
        if isinstance(parallel, YList):
            found += _bitbucket_flatten(parallel)
        stage = item.get("stage")
        if isinstance(stage, YMap):
            found += [(s, span, stage) for s, span, _ in _bitbucket_flatten(stage.get("steps"))]
    return found
