"""CI pipelines (GitHub Actions, GitLab CI, Azure Pipelines, Jenkins, CircleCI, Bitbucket, Google Cloud
Build, AWS CodeBuild, Tekton): what they run, when, and whether a failure counts.

Reads only the normalised model (``ctx.facts.ci``; parsers in ``scanner/facts/ci_*.py``) plus the
Python index to see what test files import (RUBRIC §3.3 MD-b, MD-g, MD-h, MD-k, MD-o; §3.1 DM-g,
DM-j; §5.1). Commands are recognised per shell segment after stripping wrappers (``poetry run``,
``uv run``, ``docker compose run svc``, env assignments), so ``pip install pytest`` is not a test
run and ``python -m pytest tests/test_train.py`` is not training.

Strength logic, in short (RUBRIC §2.3 anti-gaming):

- ``ci.pipeline``: configured; a file with no jobs (empty or commented out) is a mention.
- ``ci.job.runs_tests`` / ``ci.job.ml_tests``: configured when the step is blocking, the job is
  not disabled and it runs on push or pull request; otherwise a mention with the reasons
  ("`continue-on-error: true` on step X", "job disabled by `if: false`", "runs only on manual
  dispatch").
- ``ci.job.validation``: configured unless non-blocking, disabled, never triggered or run only by
  hand.
- ``ci.job.training``, ``ci.job.deploy``, ``ci.job.rollback``: configured unless disabled or never
  triggered (training also when its failure is swallowed). A manual deploy or rollback is still
  configured: ``automatic`` and ``triggers`` say how it starts.
- ``ci.schedule``: configured per cron; GitLab keeps schedules in project settings, so a job
  waiting for one is a mention (cron unknown).
- ``ci.job.report``: a job that posts a model/metrics report to the pull request or commit with
  CML (``cml comment create``/``update``, ``cml send-comment``, ``cml check create``, ``cml pr
  create``; RUBRIC §3.6 CO-l, §3.2 ET-m). Recognised per shell segment, so ``echo "cml comment
  create"`` or a README is not a report. Configured when a posting command runs live on push,
  pull request or a schedule; a mention when the job is disabled, never triggered, manual only, or
  uses CML only to launch a runner (``cml runner launch``) or publish an asset (``cml publish``).
  A non-blocking posting step (``|| true``) is reported (``blocking: false``) but not downgraded:
  the report is still posted, it just cannot fail the build. ``compares`` says the job also diffs
  metrics/plots/params against a baseline (``dvc metrics diff``...).
- ``ci.non_blocking``: a mention per non-blocking gate or disabled job, so rules and readers see it.
- Unreadable CI files and references the parsers did not follow are ``unknown`` ``ci.pipeline``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from scanner.facts.ci import Job, Pipeline, Step, Trigger, trigger_types
from scanner.facts.commands import LAUNCHERS, Invocation, invocations
from scanner.facts.python import imports_of
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

# -- attribute models ------------------------------------------------------------------------


class CiPipeline(Attributes):
    system: str
    name: str
    jobs: int
    triggers: list[str]
    crons: list[str]


class CiRunsTests(Attributes):
    system: str
    job: str
    runner: str  # pytest | tox | nox | make | unittest | other
    command: str
    triggers: list[str]
    on_push_or_pr: bool
    blocking: bool
    disabled: bool


class CiMlTests(Attributes):
    system: str
    job: str
    test_paths: list[str]
    ml_test_files: int
    examples: list[str]  # a few of the ML test files, sorted
    triggers: list[str]
    on_push_or_pr: bool
    blocking: bool


class CiTraining(Attributes):
    system: str
    job: str
    command: str
    triggers: list[str]
    scheduled: bool
    crons: list[str]
    blocking: bool


class CiSchedule(Attributes):
    system: str
    pipeline: str
    cron: Optional[str]
    jobs: list[str]


class CiDeploy(Attributes):
    system: str
    job: str
    environment: Optional[str]
    tool: str
    command: Optional[str]
    triggers: list[str]
    automatic: bool
    production: bool


class CiRollback(Attributes):
    system: str
    job: str
    tool: str
    command: str
    triggers: list[str]


class CiValidation(Attributes):
    system: str
    job: str
    target: str  # data | model
    tool: str
    command: str
    triggers: list[str]
    blocking: bool


class CiReport(Attributes):
    system: str
    job: str
    tool: str  # cml
    actions: list[str]  # comment, check, pr, publish, runner, tensorboard
    command: str
    posts_report: bool  # a comment, check or pull request carries the report
    compares: bool  # the job also diffs metrics/plots/params against a baseline
    triggers: list[str]
    on_pull_request: bool
    blocking: bool


class CiNonBlocking(Attributes):
    system: str
    job: str
    step: Optional[str]
    reason: str
    command: Optional[str]
    affects: list[str]  # what the gate would have guarded: tests, training, validation, deploy, rollback, report


# -- command recognition ---------------------------------------------------------------------

_MAKE_TEST = lazy(r"^(?:tests?|check|unit-?tests?|tests?[-_]\w+|\w+[-_]tests?)$")
_OTHER_TESTS = lazy(
    r"\b(?:(?:npm|yarn|pnpm)\s+(?:run\s+)?test\b|go\s+test\b|cargo\s+test\b|mvn\b.*\btest\b|gradlew?\s+test\b"
    r"|hatch\s+test\b|just\s+test\b|(?:bash|sh|\./)\S*run[-_]?tests?\b|\S*/tests?\.sh\b)"
)


def test_runner(inv: Invocation) -> Optional[str]:
    """pytest | tox | nox | make | unittest | other, when the invocation runs a test suite."""
    if inv.program in ("pytest", "py.test"):
        return "pytest"
    if inv.program == "hatch" and inv.args[:1] == ["test"]:
        return "pytest"
    if inv.program in ("unittest", "tox", "nox"):
        return inv.program
    if inv.program == "python" and inv.script.endswith("setup.py") and "test" in inv.args[:1]:
        return "other"
    if inv.program in ("make", "gmake") and any(_MAKE_TEST.match(a) for a in inv.args if not a.startswith("-")):
        return "make"
    if inv.program == "python" and re.search(r"(?:^|/)(?:run_?)?tests?\.py$|run_tests", inv.script):
        return "other"
    if _OTHER_TESTS.search(inv.text):
        return "other"
    return None


_TRAIN_WORD = lazy(r"train", re.IGNORECASE)
_NOT_TRAINING = lazy(
    r"evaluat|eval(?:$|[_.-])|validat|test|predict|infer|serv|score|monitor|drift",  # safe: regex text, no call
    re.IGNORECASE)


def training_command(inv: Invocation) -> bool:
    """dvc repro / dvc exp run / mlflow run / kedro run / make train / a python train script."""
    args = [a for a in inv.args if not a.startswith("-")]
    if inv.program == "dvc":
        return args[:1] == ["repro"] or args[:2] == ["exp", "run"]
    if inv.program in ("mlflow", "kedro"):
        return args[:1] == ["run"]
    if inv.program in ("make", "gmake"):
        return any(_TRAIN_WORD.search(a) for a in args)
    if inv.program == "aws":
        return args[:2] == ["sagemaker", "create-training-job"]
    if inv.program == "az":
        return args[:3] == ["ml", "job", "create"]
    if inv.program == "gcloud":
        return args[:3] == ["ai", "custom-jobs", "create"]
    if inv.program == "python" or inv.program in LAUNCHERS:
        name = inv.module.replace(".", "/") if inv.module else inv.script
        leaf = posixpath.basename(name)
        # `pipelines/training/run.py` trains; `pipelines/training/evaluate.py` does not
        return bool(_TRAIN_WORD.search(name)) and not _NOT_TRAINING.search(leaf)
    return False


_DEPLOY_PATTERNS: tuple[tuple[str, "re.Pattern[str]"], ...] = tuple(
    (tool, lazy(rx))
    for tool, rx in (
        ("kustomize", r"\bkustomize\s+build\b.*\|\s*kubectl\s+apply\b|\bkubectl\s+apply\b.*\s-k\b|\bkustomize\s+edit\s+set\s+image\b"),
        ("argocd", r"\bargocd\s+app\s+(?:sync|set|create)\b"),
        ("helm", r"\bhelm\s+(?:upgrade|install)\b"),
        ("kubectl", r"\bkubectl(?:\s+(?:-n|--namespace|--context|--kubeconfig)[\s=]\S+)*\s+(?:apply|set\s+image|patch"
                    r"|replace|create\s+deployment|rollout\s+restart|argo\s+rollouts\s+(?:set\s+image|promote))\b"),
        ("sagemaker", r"\baws\s+sagemaker\s+(?:create-endpoint|update-endpoint|create-model)\b|\bsagemaker\b.*\bdeploy\b"),
        ("azureml", r"\baz\s+ml\s+(?:online|batch)-(?:deployment|endpoint)\s+(?:create|update)\b"),
        ("mlflow", r"\bmlflow\s+(?:deployments\s+(?:create|update)|sagemaker\s+deploy)\b"),
        ("bentoml", r"\bbentoml\s+(?:deploy|deployment\s+(?:create|update|apply))\b"),
        ("databricks", r"\bdatabricks\s+bundle\s+deploy\b"),
        # GTO: assigning a stage writes the git tag that the model's CD acts on (a promotion)
        ("gto", r"\bgto\s+(?:assign|promote)\b"),
        ("terraform", r"\b(?:terraform|tofu|terragrunt)\s+apply\b"),
        ("gcloud", r"\bgcloud\s+(?:run\s+deploy|ai\s+endpoints\s+deploy-model|app\s+deploy|functions\s+deploy)\b"),
        ("docker-push", r"\bdocker\s+(?:image\s+)?push\b|\bdocker\s+buildx\s+build\b.*--push\b"),
        ("other", r"\b(?:serverless|sls)\s+deploy\b|\bcdk\s+deploy\b|\bpulumi\s+up\b|\baz\s+webapp\s+deploy\b|\bfly\s+deploy\b"
                  r"|\bmake\s+(?:\S+\s+)*deploy[\w-]*\b|(?:^|[\s/])[\w.-]*deploy[\w.-]*\.(?:sh|py)\b|\bpython3?\s+-m\s+[\w.]*deploy\w*"),
    )
)
_DEPLOY_ACTIONS: tuple[tuple[str, "re.Pattern[str]"], ...] = (
    ("kubectl", lazy(r"^azure/k8s-deploy@", re.IGNORECASE)),
    ("gcloud", lazy(r"^google-github-actions/deploy-cloudrun@", re.IGNORECASE)),
    ("sagemaker", lazy(r"sagemaker", re.IGNORECASE)),
    ("other", lazy(r"^(?:aws-actions/amazon-ecs-deploy-task-definition|azure/webapps-deploy)@", re.IGNORECASE)),
)
_PRODUCTION = lazy(r"(?:^|[^a-z0-9])(?:prod|production|prd|live)(?:$|[^a-z0-9])", re.IGNORECASE)

_ROLLBACK_PATTERNS: tuple[tuple[str, "re.Pattern[str]"], ...] = tuple(
    (tool, lazy(rx))
    for tool, rx in (
        ("argo-rollouts", r"\bkubectl\s+argo\s+rollouts\s+(?:undo|abort)\b"),
        ("helm", r"\bhelm\s+rollback\b"),
        ("kubectl", r"\bkubectl\s+rollout\s+undo\b"),
        ("argocd", r"\bargocd\s+app\s+rollback\b"),
        ("gto", r"\bgto\s+(?:assign|promote)\b"),
    )
)
_ROLLBACK_NAME = lazy(r"roll[-_]?back", re.IGNORECASE)

_DATA_VALIDATION: tuple[tuple[str, "re.Pattern[str]"], ...] = tuple(
    (tool, lazy(rx))
    for tool, rx in (
        ("great_expectations", r"\b(?:great_expectations|gx)\b(?:\s+--v3-api)?\s+checkpoint\s+run\b"),
        ("soda", r"\bsoda\s+scan\b"),
        ("dbt", r"\bdbt\s+(?:test|build)\b"),
        ("datacontract", r"\bdatacontract\s+test\b"),
    )
)
_DATA_SCRIPT = lazy(r"validat\w*[/_.-]?\w*data|data\w*[/_.-]?\w*validat|expectation|pandera|data[-_]?quality|data[-_]?checks?",
                          re.IGNORECASE)
_MODEL_SCRIPT = lazy(
    r"evaluat|(?:^|[/_.-])eval(?:$|[/_.-])|validat\w*[/_.-]?model|model\w*[/_.-]?validat|model[-_]?gate",  # safe: regex
    re.IGNORECASE)

ML_LIBRARIES = ("sklearn", "torch", "tensorflow", "keras", "xgboost", "lightgbm", "catboost", "transformers",
                "jax", "flax", "pytorch_lightning", "lightning", "statsmodels", "onnxruntime", "prophet")
_ML_MODULE_PART = lazy(
    r"^(?:models?|modell?ing|train\w*|\w*_?training|trainer|features?|\w+_features?|feature_\w+|featurize\w*"
    r"|predict\w*|inference|preprocess\w*|estimators?|classifier\w*|regressor\w*)$"
)
_TEST_FILE = lazy(r"(?:^|/)(?:test_[^/]*|[^/]*_test)\.py$")


UNSEEN_WHEN_UNREADABLE = ("ci.pipeline", "ci.job.runs_tests", "ci.job.ml_tests", "ci.job.training", "ci.schedule",
                          "ci.job.deploy", "ci.job.rollback", "ci.job.validation", "ci.job.report")

# CML subcommands (v0.18+ `cml <command> <verb>` and the older `cml-<command>` binaries) -> action
_CML_ACTIONS = {"comment": "comment", "send-comment": "comment", "check": "check", "send-github-check": "check",
                "pr": "pr", "publish": "publish", "asset": "publish", "runner": "runner",
                "tensorboard": "tensorboard", "tensorboard-dev": "tensorboard"}
_CML_POSTS = frozenset({"comment", "check", "pr"})


def cml_action(inv: "Invocation") -> Optional[str]:
    """What a ``cml`` invocation does (comment, check, pr, publish, runner, tensorboard), or None."""
    program, args = inv.program, inv.args
    if program in ("npx", "pnpx") and "@dvcorg/cml" in args[:3]:
        program, args = "cml", args[args.index("@dvcorg/cml") + 1:]
    if program == "cml":
        sub = next((a for a in args if not a.startswith("-")), "")
    elif program.startswith("cml-"):
        sub = program[4:]
    else:
        return None
    return _CML_ACTIONS.get(sub)


def compares_to_baseline(inv: "Invocation") -> bool:
    """``dvc metrics diff`` / ``dvc plots diff`` / ``dvc params diff`` / ``dvc exp diff``."""
    args = [a for a in inv.args if not a.startswith("-")]
    return inv.program == "dvc" and args[:1] in (["metrics"], ["plots"], ["params"], ["exp"]) and args[1:2] == ["diff"]


# -- job views: one per job definition ---------------------------------------------------------


@dataclass
class JobView:
    """One job definition, merged over every pipeline that runs it (a reusable workflow called
    by several workflows is one definition with the union of their triggers)."""

    system: str
    pipeline: Pipeline
    job: Job
    label: str
    instances: list[Job] = field(default_factory=list)

    @property
    def disabled(self) -> Optional[str]:
        reasons = [j.disabled for j in self.instances]
        return reasons[0] if all(reasons) else None

    def step_types(self, index: int) -> list[str]:
        """Trigger types that reach step ``index`` in any live instance."""
        found: set[str] = set()
        for job in self.instances:
            if job.disabled or index >= len(job.steps):
                continue
            step = job.steps[index]
            if step.disabled:
                continue
            found.update(trigger_types(step.triggers if step.triggers is not None else job.triggers))
        return sorted(found)

    def job_types(self) -> list[str]:
        return sorted({t for job in self.instances if not job.disabled for t in job.trigger_types()})

    def crons(self) -> list[str]:
        return sorted({t.cron for job in self.instances if not job.disabled for t in job.triggers
                       if t.type == "schedule" and t.cron})


def job_views(pipelines: list[Pipeline]) -> list[JobView]:
    """Job instances grouped by definition *and* content: a reusable workflow called with
    different inputs (``run: ${{ inputs.run }}``) gives one view per distinct call."""
    definitions: dict[tuple[str, int, int], list[tuple[Pipeline, Job]]] = {}
    for pipeline in pipelines:
        for job in pipeline.jobs:
            definitions.setdefault((job.path, job.start_line, job.end_line), []).append((pipeline, job))
    groups: dict[tuple, list[tuple[Pipeline, Job]]] = {}
    for (path, start, end), members in definitions.items():
        if any(p.path != j.path for p, j in members):
            # called from another workflow: its own untriggered listing is only the template
            members = [(p, j) for p, j in members if p.path != j.path or p.triggers]
        for pipeline, job in members:
            content = tuple((s.path, s.start_line, s.end_line, s.run, s.uses, s.workdir) for s in job.steps)
            groups.setdefault((path, start, end, job.environment or "", content), []).append((pipeline, job))
    views: list[JobView] = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3], repr(k[4]))):
        members = groups[key]
        own = [m for m in members if m[0].path == m[1].path] or sorted(members, key=lambda m: m[1].id)
        pipeline, job = own[0]
        views.append(JobView(system=pipeline.system, pipeline=pipeline, job=job, label=job.id,
                             instances=[j for _, j in members]))
    return views


# -- collect -----------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    model = ctx.facts.ci
    for path, reason in sorted(model.unreadable.items()):
        # what the file would have shown cannot be seen: every job-level kind is unknown too,
        # so a criterion on (say) scheduled training reads "not verifiable", not "absent"
        for kind in UNSEEN_WHEN_UNREADABLE:
            yield ctx.unknown(kind, reason, path=path)
    for pipeline in model.pipelines:
        yield from _pipeline_evidence(ctx, pipeline)
    for view in job_views(model.pipelines):
        yield from _job_evidence(ctx, view)


def _pipeline_evidence(ctx: ProbeContext, pipeline: Pipeline) -> Iterator[Evidence]:
    attrs = CiPipeline(
        system=pipeline.system,
        name=pipeline.name,
        jobs=len(pipeline.jobs),
        triggers=trigger_types(pipeline.triggers),
        crons=sorted({t.cron for t in pipeline.triggers if t.cron}),
    )
    reasons = []
    if not pipeline.jobs:
        reasons.append("defines no jobs (empty or commented out)")
    elif all(job.disabled for job in pipeline.jobs):
        reasons.append("every job is disabled")
    yield ctx.evidence("ci.pipeline", attrs, path=pipeline.path, lines=(pipeline.start_line, pipeline.end_line),
                       subject=pipeline.path, strength=Strength.mention if reasons else Strength.configured,
                       downgrades=reasons)
    for reference, reason in pipeline.unfollowed:
        yield ctx.unknown("ci.pipeline", f"{reference}: {reason}", path=pipeline.path, subject=reference)
    yield from _schedules(ctx, pipeline)


def _schedules(ctx: ProbeContext, pipeline: Pipeline) -> Iterator[Evidence]:
    crons: dict[str, Trigger] = {}
    waiting: list[tuple[Job, Trigger]] = []
    for job in pipeline.jobs:
        for trigger in job.triggers:
            if trigger.type == "schedule" and not job.disabled:
                if trigger.cron:
                    crons.setdefault(trigger.cron, trigger)
                else:
                    waiting.append((job, trigger))
    for trigger in pipeline.triggers:
        if trigger.type == "schedule" and trigger.cron:
            crons.setdefault(trigger.cron, trigger)
    for cron, trigger in sorted(crons.items()):
        jobs = sorted({j.id for j in pipeline.jobs if not j.disabled
                       and any(t.type == "schedule" and t.cron == cron for t in j.triggers)})
        attrs = CiSchedule(system=pipeline.system, pipeline=pipeline.path, cron=cron, jobs=jobs)
        reasons = [] if jobs else ["no live job runs on this schedule"]
        yield ctx.evidence("ci.schedule", attrs, path=trigger.path or pipeline.path, lines=(trigger.line, trigger.line),
                           subject=f"{pipeline.path}:{cron}", strength=Strength.mention if reasons else Strength.configured,
                           downgrades=reasons)
    if waiting:
        job, trigger = waiting[0]
        attrs = CiSchedule(system=pipeline.system, pipeline=pipeline.path, cron=None,
                           jobs=sorted({j.id for j, _ in waiting}))
        reason = ("schedule and cron are set in the CI service, not in the repository"
                  if pipeline.system in ("gitlab_ci", "circleci") else "schedule trigger without a cron")
        yield ctx.evidence("ci.schedule", attrs, path=trigger.path or job.path, lines=(trigger.line, trigger.line),
                           subject=f"{pipeline.path}:schedule", strength=Strength.mention, downgrades=[reason])


@dataclass
class _Hit:
    """A command of one step that matched a category."""

    index: int
    step: Step
    command: str
    detail: str  # runner / tool / target


def _job_evidence(ctx: ProbeContext, view: JobView) -> Iterator[Evidence]:
    tests: list[tuple[_Hit, Invocation]] = []
    training: Optional[_Hit] = None
    deploy: Optional[_Hit] = None
    rollback: Optional[_Hit] = None
    validation: dict[str, tuple[_Hit, str]] = {}
    reports: list[_Hit] = []
    compares = False
    for index, step in enumerate(view.job.steps):
        for command in step.commands():
            invs = invocations(command)
            for inv in invs:
                action = cml_action(inv)
                if action:
                    reports.append(_Hit(index, step, command, action))
                compares = compares or compares_to_baseline(inv)
                runner = test_runner(inv)
                if runner:
                    tests.append((_Hit(index, step, command, runner), inv))
                elif training is None and training_command(inv):
                    training = _Hit(index, step, command, "")
            if deploy is None:
                tool = _deploy_tool(command)
                if tool:
                    deploy = _Hit(index, step, command, tool)
            if rollback is None:
                tool = _rollback_tool(command, invs, f"{view.job.id} {view.job.name} {step.name}")
                if tool:
                    rollback = _Hit(index, step, command, tool)
            for target, tool in _validation(ctx, command, invs, step):
                validation.setdefault(target, (_Hit(index, step, command, tool), tool))
        if deploy is None and step.uses:
            tool = _deploy_action(step)
            if tool:
                deploy = _Hit(index, step, step.uses, tool)
    if tests:
        yield _tests_evidence(ctx, view, tests[0][0])
        ml = _ml_tests_evidence(ctx, view, tests)
        if ml is not None:
            yield ml
    if training:
        yield _training_evidence(ctx, view, training)
    if deploy or view.job.environment:
        yield _deploy_evidence(ctx, view, deploy)
    if rollback:
        yield _rollback_evidence(ctx, view, rollback)
    for target in sorted(validation):
        hit, tool = validation[target]
        yield _validation_evidence(ctx, view, hit, target, tool)
    if reports:
        yield _report_evidence(ctx, view, reports, compares)
    yield from _non_blocking_evidence(ctx, view, tests, training, deploy, rollback, validation, reports)


# -- gates and triggers ------------------------------------------------------------------------


def _blocking_reasons(view: JobView, hit: _Hit) -> list[str]:
    """Why a failure of this command cannot fail the pipeline."""
    reasons = []
    if view.job.non_blocking:
        reasons.append(f"{view.job.non_blocking} on job {view.label}")
    why = hit.step.command_non_blocking(hit.command) if hit.command in hit.step.commands() else hit.step.non_blocking
    if why:
        reasons.append(f"{why} on step {hit.step.name}")
    return reasons


def _liveness_reasons(view: JobView, hit: _Hit, types: list[str]) -> list[str]:
    """Why the step never runs (disabled, or nothing triggers it)."""
    if view.disabled:
        return [f"job disabled by {view.disabled}"]
    if hit.step.disabled:
        return [f"step {hit.step.name} disabled by {hit.step.disabled}"]
    if not types:
        return ["never triggered: no trigger of the pipeline reaches this job"]
    return []


def _push_pr_reasons(types: list[str]) -> list[str]:
    if not types or {"push", "pull_request"} & set(types):
        return []
    if types == ["manual"]:
        return ["runs only on manual dispatch"]
    return [f"runs only on {', '.join(types)}, not on push or pull request"]


def _cite(ctx: ProbeContext, kind: str, attrs: Attributes, view: JobView, hit: Optional[_Hit],
          reasons: list[str], subject: str) -> Evidence:
    if hit is None:
        path, lines = view.job.path, (view.job.start_line, view.job.end_line)
    else:
        path, lines = hit.step.where(view.job), (hit.step.start_line, hit.step.end_line)
    return ctx.evidence(kind, attrs, path=path, lines=lines, subject=subject,
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def _subject(view: JobView, *parts: str) -> str:
    return ":".join((view.job.path, view.label, *parts))


# -- kinds -------------------------------------------------------------------------------------


def _tests_evidence(ctx: ProbeContext, view: JobView, hit: _Hit) -> Evidence:
    types = view.step_types(hit.index)
    blocking = _blocking_reasons(view, hit)
    reasons = _liveness_reasons(view, hit, types) + blocking + _push_pr_reasons(types)
    attrs = CiRunsTests(
        system=view.system, job=view.label, runner=hit.detail, command=hit.command[:200], triggers=types,
        on_push_or_pr=bool({"push", "pull_request"} & set(types)), blocking=not blocking,
        disabled=bool(view.disabled or hit.step.disabled),
    )
    return _cite(ctx, "ci.job.runs_tests", attrs, view, hit, reasons, _subject(view))


def _ml_tests_evidence(ctx: ProbeContext, view: JobView, tests: list[tuple[_Hit, Invocation]]) -> Optional[Evidence]:
    prefixes = ctx.memo("module_prefixes", lambda: module_prefixes(ctx.facts.python.modules))
    test_modules = ctx.memo("test_modules", lambda: [m for m in ctx.facts.python.modules if _TEST_FILE.search(m)])
    for hit, inv in tests:
        targets = _test_targets(ctx, inv, hit.step.workdir)
        module_set = ctx.memo("module_set", lambda: frozenset(ctx.facts.python.modules))
        explicit = [t for t in targets if t in module_set and t not in test_modules]  # `pytest checks/x.py`
        files = _test_files(test_modules, targets) + explicit
        ml_files = sorted(f for f in files if _is_ml_test(ctx, prefixes, f))
        if not ml_files:
            continue
        types = view.step_types(hit.index)
        blocking = _blocking_reasons(view, hit)
        reasons = _liveness_reasons(view, hit, types) + blocking + _push_pr_reasons(types)
        attrs = CiMlTests(
            system=view.system, job=view.label, test_paths=sorted(t or "." for t in targets),
            ml_test_files=len(ml_files), examples=ml_files[:5], triggers=types,
            on_push_or_pr=bool({"push", "pull_request"} & set(types)), blocking=not blocking,
        )
        return _cite(ctx, "ci.job.ml_tests", attrs, view, hit, reasons, _subject(view))
    return None


def _training_evidence(ctx: ProbeContext, view: JobView, hit: _Hit) -> Evidence:
    types = view.step_types(hit.index)
    blocking = _blocking_reasons(view, hit)
    reasons = _liveness_reasons(view, hit, types) + blocking
    attrs = CiTraining(
        system=view.system, job=view.label, command=hit.command[:200], triggers=types,
        scheduled="schedule" in types, crons=view.crons() if "schedule" in types else [], blocking=not blocking,
    )
    return _cite(ctx, "ci.job.training", attrs, view, hit, reasons, _subject(view))


def _deploy_evidence(ctx: ProbeContext, view: JobView, hit: Optional[_Hit]) -> Evidence:
    types = view.step_types(hit.index) if hit else view.job_types()
    if hit:
        reasons = _liveness_reasons(view, hit, types)
    else:
        reasons = [f"job disabled by {view.disabled}"] if view.disabled else (
            [] if types else ["never triggered: no trigger of the pipeline reaches this job"])
        # an environment alone is often only a home for secrets (`environment: training`)
        reasons.append("targets an environment, but no deploy command was recognised")
    environment = view.job.environment
    attrs = CiDeploy(
        system=view.system, job=view.label, environment=environment, tool=hit.detail if hit else "other",
        command=hit.command[:200] if hit else None, triggers=types,
        automatic=bool({"push", "tag", "release", "dispatch", "schedule"} & set(types)),
        production=bool(environment and _PRODUCTION.search(environment)),
    )
    return _cite(ctx, "ci.job.deploy", attrs, view, None, reasons, _subject(view))


def _rollback_evidence(ctx: ProbeContext, view: JobView, hit: _Hit) -> Evidence:
    types = view.step_types(hit.index)
    reasons = _liveness_reasons(view, hit, types)
    attrs = CiRollback(system=view.system, job=view.label, tool=hit.detail, command=hit.command[:200], triggers=types)
    return _cite(ctx, "ci.job.rollback", attrs, view, hit, reasons, _subject(view))


def _validation_evidence(ctx: ProbeContext, view: JobView, hit: _Hit, target: str, tool: str) -> Evidence:
    types = view.step_types(hit.index)
    blocking = _blocking_reasons(view, hit)
    reasons = _liveness_reasons(view, hit, types) + blocking
    if types == ["manual"]:
        reasons.append("runs only on manual dispatch")
    attrs = CiValidation(system=view.system, job=view.label, target=target, tool=tool, command=hit.command[:200],
                         triggers=types, blocking=not blocking)
    return _cite(ctx, "ci.job.validation", attrs, view, hit, reasons, _subject(view, target))


def _report_evidence(ctx: ProbeContext, view: JobView, reports: list[_Hit], compares: bool) -> Evidence:
    posting = [h for h in reports if h.detail in _CML_POSTS]
    hit = posting[0] if posting else reports[0]
    types = view.step_types(hit.index)
    reasons = _liveness_reasons(view, hit, types)
    if not posting:
        reasons.append(f"CML only runs `{' / '.join(sorted({h.detail for h in reports}))}` here; no report is posted")
    elif types == ["manual"]:
        reasons.append("runs only on manual dispatch")
    attrs = CiReport(system=view.system, job=view.label, tool="cml", actions=sorted({h.detail for h in reports}),
                     command=hit.command[:200], posts_report=bool(posting), compares=compares, triggers=types,
                     on_pull_request="pull_request" in types, blocking=not _blocking_reasons(view, hit))
    return _cite(ctx, "ci.job.report", attrs, view, hit, reasons, _subject(view))


def _non_blocking_evidence(ctx: ProbeContext, view: JobView, tests: list[tuple[_Hit, Invocation]],
                           training: Optional[_Hit], deploy: Optional[_Hit], rollback: Optional[_Hit],
                           validation: dict[str, tuple[_Hit, str]], reports: list[_Hit]) -> Iterator[Evidence]:
    affects: dict[int, set[str]] = {}  # step index -> what its commands do
    by_command: dict[tuple[int, str], set[str]] = {}
    for category, hits in (("tests", [h for h, _ in tests]), ("training", [training]), ("deploy", [deploy]),
                           ("rollback", [rollback]), ("validation", [h for h, _ in validation.values()]),
                           ("report", list(reports))):
        for hit in hits:
            if hit is not None:
                affects.setdefault(hit.index, set()).add(category)
                by_command.setdefault((hit.index, hit.command), set()).add(category)
    everything = sorted(set().union(*affects.values())) if affects else []
    job = view.job
    gates: list[tuple[Optional[Step], Optional[str], str, list[str]]] = []
    if view.disabled:
        gates.append((None, None, f"job disabled by {view.disabled}", everything))
    if job.non_blocking:
        gates.append((None, None, job.non_blocking, everything))
    for index, step in enumerate(job.steps):
        touched = sorted(affects.get(index, set()))
        if step.disabled and not view.disabled:
            gates.append((step, None, f"step disabled by {step.disabled}", touched))
        if step.non_blocking:
            gates.append((step, None, step.non_blocking, touched))
            continue
        for command in step.commands():
            why = step.command_non_blocking(command)
            if why:
                gates.append((step, command, why, sorted(by_command.get((index, command), set()))))
    seen: set[tuple[str, str, str]] = set()
    for step, command, reason, touched in gates:
        key = (step.name if step else "", command or "", reason)
        if key in seen:
            continue
        seen.add(key)
        attrs = CiNonBlocking(system=view.system, job=view.label, step=step.name if step else None, reason=reason,
                              command=command[:200] if command else None, affects=touched)
        path, lines = (step.where(job), (step.start_line, step.end_line)) if step else (job.path, (job.start_line, job.end_line))
        yield ctx.evidence("ci.non_blocking", attrs, path=path, lines=lines,
                           subject=_subject(view, step.name if step else "", command or "", reason),
                           strength=Strength.mention)


# -- classifiers that need the tree ------------------------------------------------------------


def _deploy_tool(command: str) -> Optional[str]:
    for tool, pattern in _DEPLOY_PATTERNS:
        if pattern.search(command):
            return tool
    return None


def _deploy_action(step: Step) -> Optional[str]:
    if re.match(r"^docker/build-push-action@", step.uses, re.IGNORECASE):
        push = step.with_.get("push")
        return "docker-push" if push is True or str(push).strip().lower() == "true" else None
    for tool, pattern in _DEPLOY_ACTIONS:
        if pattern.search(step.uses):
            return tool
    return None


_ROLLBACK_CONTEXT = lazy(r"roll[-_ ]?back|revert|restore|previous|undo", re.IGNORECASE)


def _rollback_tool(command: str, invs: list[Invocation], context: str) -> Optional[str]:
    """The rollback tool a command uses. ``gto assign`` is also how a model is *promoted*, so it
    counts only in a rollback context (job or step named so, or the command says so)."""
    for tool, pattern in _ROLLBACK_PATTERNS:
        if pattern.search(command) and (tool != "gto" or _ROLLBACK_CONTEXT.search(f"{context} {command}")):
            return tool
    if any(_is_rollback_script(inv) for inv in invs):
        return "script"
    return None


def _is_rollback_script(inv: Invocation) -> bool:
    """``python scripts/rollback.py``, ``./rollback.sh``, ``bash ops/roll-back.sh``, ``make rollback``."""
    names = [inv.script, inv.module, inv.program]
    if inv.program in ("bash", "sh", "make", "just"):
        names += [a for a in inv.args[:2] if not a.startswith("-")]
    return any(_ROLLBACK_NAME.search(name) for name in names if name)


def _validation(ctx: ProbeContext, command: str, invs: list[Invocation], step: Step) -> list[tuple[str, str]]:
    """(target, tool) pairs for data/model validation run by this command."""
    found: list[tuple[str, str]] = []
    for tool, pattern in _DATA_VALIDATION:
        if pattern.search(command):
            found.append(("data", tool))
    for inv in invs:
        if inv.program != "python" or not (inv.script or inv.module):
            continue
        name = inv.script or inv.module.replace(".", "/")
        if test_runner(inv) or training_command(inv):
            continue
        resolved = _resolve_script(ctx, inv, step.workdir)
        content = _script_validation(ctx, resolved) if resolved else []
        found += content
        if not content and _DATA_SCRIPT.search(name):
            found.append(("data", "script"))
        elif not content and _MODEL_SCRIPT.search(name):
            found.append(("model", "script"))
    return found


def _resolve_script(ctx: ProbeContext, inv: Invocation, workdir: str) -> Optional[str]:
    modules = set(ctx.facts.python.modules)
    candidates: list[str] = []
    if inv.script:
        candidates.append(posixpath.normpath(posixpath.join(workdir or ".", inv.script)))
    elif inv.module:
        base = inv.module.replace(".", "/")
        for root in (workdir, "src", ""):
            candidates += [posixpath.normpath(posixpath.join(root or ".", base + ".py")),
                           posixpath.normpath(posixpath.join(root or ".", base, "__main__.py"))]
    return next((c for c in candidates if c in modules), None)


def _script_validation(ctx: ProbeContext, path: str) -> list[tuple[str, str]]:
    pyfile = ctx.facts.python.files.get(path)
    if pyfile is None or not pyfile.parsed:
        return []
    found: list[tuple[str, str]] = []
    names = {c.name for c in pyfile.calls}
    attrs = {c.attr for c in pyfile.calls}
    if "mlflow.validate_evaluation_results" in names or any(
            c.name in ("mlflow.evaluate", "mlflow.models.evaluate") and "validation_thresholds" in c.keywords
            for c in pyfile.calls):
        found.append(("model", "mlflow"))
    if pyfile.imports_module("great_expectations") and ({"run_checkpoint", "run"} & attrs):
        found.append(("data", "great_expectations"))
    elif pyfile.imports_module("pandera") and "validate" in attrs:
        found.append(("data", "pandera"))
    return found


def _test_targets(ctx: ProbeContext, inv: Invocation, workdir: str) -> list[str]:
    """Repository-relative paths a test command collects from ("" = the whole tree)."""
    raw: list[str] = []
    if inv.program in ("pytest", "py.test"):
        raw = _pytest_positionals(inv.args)
    elif inv.program == "unittest":
        raw = _unittest_targets(inv.args)
    targets = [posixpath.normpath(posixpath.join(workdir or ".", t.split("::", 1)[0])) for t in raw]
    targets = ["" if t == "." else t for t in targets if not t.startswith("..")]
    if targets:
        return sorted(set(targets))
    configured = _configured_testpaths(ctx, workdir)
    return configured or [workdir]


_PYTEST_VALUE_OPTIONS = {
    "-k", "-m", "-c", "-p", "-o", "-n", "-W", "-r", "--rootdir", "--confcutdir", "--basetemp", "--junitxml",
    "--junit-xml", "--maxfail", "--durations", "--ignore", "--ignore-glob", "--deselect", "--log-level", "--tb",
    "--cov-report", "--cov-config", "--cov-fail-under", "--timeout", "--dist", "--numprocesses", "--html",
    "--json-report-file", "--alluredir", "--log-file", "--import-mode", "--capture", "--color", "--override-ini",
    "--randomly-seed", "--reruns", "--cov", "--benchmark-json", "--splits", "--group", "--log-cli-level",
}


def _pytest_positionals(args: list[str]) -> list[str]:
    found: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            continue
        if arg.startswith("-"):
            takes_value = arg in _PYTEST_VALUE_OPTIONS and "=" not in arg
            if takes_value and arg == "--cov" and (index + 1 >= len(args) or args[index + 1].startswith("-")):
                takes_value = False
            index += 2 if takes_value else 1
            continue
        if "$" not in arg and "{" not in arg:
            found.append(arg.rstrip("/"))
        index += 1
    return found


def _unittest_targets(args: list[str]) -> list[str]:
    if args[:1] == ["discover"]:
        for flag in ("-s", "--start-directory"):
            if flag in args and args.index(flag) + 1 < len(args):
                return [args[args.index(flag) + 1]]
        rest = [a for a in args[1:] if not a.startswith("-")]
        return rest[:1]
    return [a.replace(".", "/") + ".py" if not a.endswith(".py") and "/" not in a else a
            for a in args if not a.startswith("-")]


_TESTPATHS = lazy(r"^\s*testpaths\s*=\s*(.+)$", re.MULTILINE)


def _configured_testpaths(ctx: ProbeContext, workdir: str) -> list[str]:
    """pytest ``testpaths`` from pytest.ini / pyproject.toml / tox.ini / setup.cfg, if set."""
    for name in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
        path = posixpath.join(workdir, name) if workdir else name
        if path not in ctx.snapshot:
            continue
        text = ctx.facts.text(path) or ""
        match = _TESTPATHS.search(text)
        if match:
            values = re.findall(r"[\w./-]+", match.group(1).replace("[", " ").replace("]", " "))
            return [posixpath.normpath(posixpath.join(workdir or ".", v)) for v in values if v]
    return []


def _test_files(test_modules: list[str], targets: list[str]) -> list[str]:
    """The test files (already filtered by name) that a pytest invocation's targets select."""
    found = []
    for module in test_modules:
        for target in targets:
            if module == target or target == "" or module.startswith(target + "/"):
                found.append(module)
                break
    return found


def _is_ml_test(ctx: ProbeContext, prefixes: frozenset[str], path: str) -> bool:
    pyfile = ctx.facts.python.files.get(path)
    if pyfile is None or not pyfile.parsed:
        return False
    if any(pyfile.imports_module(lib) for lib in ML_LIBRARIES):
        return True
    return any(_project_ml_module(prefixes, imp.module) for imp in pyfile.imports)


def _project_ml_module(prefixes: frozenset[str], module: str) -> bool:
    """An import of this repository's model/training/feature code (``from src.models import train``)."""
    parts = module.split(".")
    if not any(_ML_MODULE_PART.match(p) for p in parts):
        return False
    return parts[0] in prefixes


def module_prefixes(modules: list[str]) -> frozenset[str]:
    """Top-level importable names of the repository (packages and modules, also under src/)."""
    names: set[str] = set()
    for path in modules:
        parts = path.split("/")
        if parts[0] == "src" and len(parts) > 1:
            parts = parts[1:]
        names.add(parts[0][:-3] if parts[0].endswith(".py") else parts[0])
    return frozenset(names)


PROBE = Probe(
    id="ci",
    title="CI pipelines: tests, ML tests, training, schedules, deploys, rollbacks and validation gates",
    patterns=(".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml",
              # every file a CI parser claims, so that adding one changes this probe's inputs
              "**/azure-pipelines*.yml", "**/azure-pipelines*.yaml", "**/.azure-pipelines*.yml",
              "**/.azure-pipelines*.yaml", ".pipelines/**/*.yml", ".pipelines/**/*.yaml",
              ".azure-pipelines/**/*.yml", ".azure-pipelines/**/*.yaml",
              "**/Jenkinsfile", "**/Jenkinsfile.*", "**/*.jenkinsfile", "**/*.Jenkinsfile",
              ".circleci/config.yml", ".circleci/config.yaml", "bitbucket-pipelines.yml", "bitbucket-pipelines.yaml",
              "**/cloudbuild*.yaml", "**/cloudbuild*.yml", "**/*buildspec*.yml", "**/*buildspec*.yaml",
              ".tekton/**/*.yaml", ".tekton/**/*.yml", "**/*tekton*.yaml", "**/*tekton*.yml",
              "**/*[Tt]ekton*/**/*.yaml", "**/*[Tt]ekton*/**/*.yml"),
    # Files claimed by content (Azure pipelines under ci/, Tekton under ci/...) are CI-model inputs
    # too: the model, and so this probe's input digest, covers every path `is_ci_path` accepts.
    kinds=(
        Kind("ci.pipeline", CiPipeline, "A CI pipeline definition with its jobs and triggers"),
        Kind("ci.job.runs_tests", CiRunsTests, "A CI job running a test suite (pytest, tox, nox, make test, unittest)"),
        Kind("ci.job.ml_tests", CiMlTests, "A CI test job whose tests import ML libraries or the project's model code"),
        Kind("ci.job.training", CiTraining, "A CI job that trains or runs the ML pipeline (dvc repro, train script, ...)"),
        Kind("ci.schedule", CiSchedule, "A CI schedule (cron) and the jobs it starts"),
        Kind("ci.job.deploy", CiDeploy, "A CI job that deploys (kubectl, helm, cloud ML endpoints, ...) or targets an environment"),
        Kind("ci.job.rollback", CiRollback, "A CI job that rolls a deployment or model stage back"),
        Kind("ci.job.validation", CiValidation, "A CI step validating data or a model before it moves on"),
        Kind("ci.job.report", CiReport, "A CI job posting a model/metrics report to the pull request or commit (CML)"),
        Kind("ci.non_blocking", CiNonBlocking, "A CI gate that cannot fail (continue-on-error, allow_failure, || true, disabled)"),
    ),
    collect=collect,
    python_tokens=(
        *imports_of(*ML_LIBRARIES, "mlflow", "great_expectations", "pandera"),
        # tests importing the project's own model/training/feature modules
        r"from[ \t]+[\w.]*(?:train|model|feature|predict|pipeline|inference)",
        r"import[ \t]+[\w.]*(?:train|model|feature|predict|pipeline|inference)",
    ),
)
