"""Pipeline integration tests in CI: the ML pipeline run end to end on small or sample data as a
test (RUBRIC §3.3 MD-g, criterion MD-3.6; ML Test Score Infra 3).

A plain ``dvc repro`` in CI is training (probes/ci.py reports it as ``ci.job.training``); it is a
*test* of the pipeline when the run is pointed at test or sample inputs. Recognised, per CI step
(the normalised CI model):

- ``dvc repro`` / ``dvc exp run`` with a test/sample marker in the step (``-S data.sample_frac=0.01``,
  ``cp params.ci.yaml params.yaml``, ``DATA_PATH=tests/data/sample.csv``);
- ``kedro run --env=test`` (any test-like environment), ``kedro run --pipeline`` with a marker;
- ``python flow.py run --sample ...`` where ``flow.py`` defines a Metaflow ``FlowSpec``;
- ``zenml pipeline run`` with a marker (``-c configs/ci.yaml``);
- ``pytest tests/integration`` / ``tests/e2e`` / ``-m integration|e2e`` whose test files import the
  project's pipeline or training code, or a pipeline runner (``KedroSession``, Metaflow ``Runner``),
  through the Python index;
- ``make integration-test`` / ``make e2e`` / ``make smoke-test``, resolved through the Makefile's
  recipe to one of the above.

Strength: ``pipeline_test.run`` is configured when the step can fail the pipeline, something
triggers it and (for pytest) the selected tests reach the pipeline; otherwise a mention with the
reason (non-blocking, disabled, never triggered, manual only, tests that do not reach the pipeline,
a make target the Makefile does not define). Unreadable CI files give ``unknown``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Iterator, Literal, Optional

from probes.service_tests import pytest_paths
from scanner.facts.ci import Job, Pipeline, Step, ci_blocking_reasons, shell_lines, step_triggers
from scanner.facts.commands import Invocation, invocations
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

Tool = Literal["dvc", "kedro", "metaflow", "zenml", "pytest", "make"]


class PipelineTestRun(Attributes):
    system: str
    job: str
    tool: Tool
    make_target: Optional[str]  # when the CI step runs it through `make <target>`
    command: str
    marker: str  # what makes the run a test on small data (a flag, an env, a test path)
    test_files: list[str]  # pytest: the selected test files that reach the pipeline (a few, sorted)
    reaches_pipeline: bool
    triggers: list[str]
    blocking: bool


_MARKER = lazy(
    r"(?<![A-Za-z])(?:sample[sd]?|small|tiny|subset|smoke|fixtures?|tests?|testing|ci|integration|e2e"
    r"|dry[-_]?run|fast[-_]?dev[-_]?run|max[-_]?rows|limit)(?![A-Za-z])", re.IGNORECASE)
# integration/e2e/smoke test directories, or test files named for the pipeline (not `pipelines/`:
# a monorepo's unit tests often live under it)
_TEST_DIR = lazy(r"(?:^|/)(?:integration(?:[-_]tests?)?|e2e|end[-_]to[-_]end|smoke(?:[-_]tests?)?)(?:/|$)"
                       r"|(?:^|/)test_\w*(?:pipeline|e2e|end_to_end|integration|smoke)\w*\.py$")
_PYTEST_MARK = lazy(r"(?:^|\s)-m\s+['\"]?(?:[\w\s]*\b)?(integration|e2e|end_to_end|pipeline|smoke)\b")
_MAKE_TARGET = lazy(r"^(?:(?:integration|e2e|smoke|pipeline|end-to-end)[-_]?tests?|e2e|test[-_](?:integration|e2e|pipeline|smoke))$")
_PIPELINE_MODULE = lazy(r"(?:^|\.)(?:\w*pipelines?\w*|train\w*|\w*_training|\w*flows?|workflows?|dags?)(?:\.|$)")
_RUNNER_IMPORTS = ("kedro.framework.session", "metaflow", "zenml", "prefect", "dagster")
_TEST_FILE = lazy(r"(?:^|/)(?:test_[^/]*|[^/]*_test)\.py$")
MAX_MAKE_DEPTH = 2


@dataclass
class Found:
    tool: Tool
    command: str
    marker: str
    test_files: list[str]
    reaches: bool
    reasons: list[str]
    make_target: Optional[str] = None


# -- recognising one invocation -----------------------------------------------------------------


def _marker(text: str) -> Optional[str]:
    match = _MARKER.search(text)
    return match.group(0) if match else None


def _option(args: list[str], *names: str) -> Optional[str]:
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _classify(ctx: ProbeContext, inv: Invocation, context: str, workdir: str) -> Optional[Found]:
    """A pipeline test run by ``inv``; ``context`` is the rest of the step (commands and env)."""
    positional = [a for a in inv.args if not a.startswith("-")]
    if inv.program == "dvc" and (positional[:1] == ["repro"] or positional[:2] == ["exp", "run"]):
        marker = _marker(inv.text) or _marker(context)
        return Found("dvc", inv.text, marker, [], True, []) if marker else None
    if inv.program == "kedro" and positional[:1] == ["run"]:
        env = _option(inv.args, "--env", "-e")
        if env and _marker(env):
            return Found("kedro", inv.text, f"--env={env}", [], True, [])
        if _option(inv.args, "--pipeline", "-p") and _marker(inv.text):
            return Found("kedro", inv.text, _marker(inv.text) or "", [], True, [])
        return None
    if inv.program == "zenml" and positional[:2] == ["pipeline", "run"]:
        marker = _marker(" ".join(inv.args[2:]))
        return Found("zenml", inv.text, marker, [], True, []) if marker else None
    if inv.program == "python" and inv.script and inv.args[:1] == ["run"]:
        path = _rel(workdir, inv.script)
        text = ctx.facts.text(path) if path in ctx.memo("modules", lambda: set(ctx.facts.python.modules)) else None
        marker = _marker(" ".join(inv.args[1:]))
        if text and "FlowSpec" in text and marker:
            return Found("metaflow", inv.text, marker, [], True, [])
        return None
    if inv.program in ("pytest", "py.test"):
        return _pytest(ctx, inv, workdir)
    return None


def _rel(workdir: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(workdir or ".", path))
    return "" if joined == "." else joined


def _pytest(ctx: ProbeContext, inv: Invocation, workdir: str) -> Optional[Found]:
    mark = _PYTEST_MARK.search(inv.text)
    targets = [_rel(workdir, a) for a in pytest_paths(inv.args)]
    if mark is None:
        targets = [t for t in targets if _TEST_DIR.search(t)]
        if not targets:
            return None
        marker = targets[0]
    else:
        targets = targets or [workdir]
        marker = f"-m {mark.group(1)}"
    modules = ctx.memo("pipeline_tests.tests", lambda: [m for m in ctx.facts.python.modules if _TEST_FILE.search(m)])
    selected = [m for m in modules if any(t == "" or m == t or m.startswith(t + "/") for t in targets)]
    if mark is not None:
        selected = [m for m in selected if f"mark.{mark.group(1)}" in (ctx.facts.text(m) or "")]
    reaching = sorted(m for m in selected if _reaches_pipeline(ctx, m))
    reasons = [] if reaching else [
        f"the selected tests ({len(selected)} file(s)) do not import the pipeline or training code"]
    return Found("pytest", inv.text, marker, reaching[:5], bool(reaching), reasons)


def _reaches_pipeline(ctx: ProbeContext, path: str) -> bool:
    pyfile = ctx.facts.python.files.get(path)
    if pyfile is None or not pyfile.parsed:
        return False
    if any(pyfile.imports_module(m) for m in _RUNNER_IMPORTS):
        return True
    prefixes = ctx.memo("pipeline_tests.prefixes", lambda: _module_prefixes(ctx.facts.python.modules))
    return any(imp.module.split(".")[0] in prefixes and _PIPELINE_MODULE.search(imp.module) for imp in pyfile.imports)


def _module_prefixes(modules: list[str]) -> frozenset[str]:
    names: set[str] = set()
    for path in modules:
        parts = path.split("/")
        if parts[0] == "src" and len(parts) > 1:
            parts = parts[1:]
        if parts[0] not in ("tests", "test"):
            names.add(parts[0][:-3] if parts[0].endswith(".py") else parts[0])
    return frozenset(names)


# -- make ----------------------------------------------------------------------------------------

_RULE = lazy(r"^([A-Za-z0-9_.-]+(?:\s+[A-Za-z0-9_.-]+)*)\s*:(?!=)")


def make_recipe(ctx: ProbeContext, makefile: str, target: str) -> Optional[list[str]]:
    """The recipe lines of ``target`` in ``makefile`` (None when the target is not defined)."""
    lines = ctx.facts.lines(makefile)
    if lines is None:
        return None
    recipe: Optional[list[str]] = None
    for raw in lines:
        if recipe is not None:
            if raw.startswith("\t"):
                recipe.append(raw[1:].lstrip("@-+ "))
                continue
            if raw.strip() and not raw.lstrip().startswith("#"):
                break
            continue
        match = _RULE.match(raw)
        if match and target in match.group(1).split():
            recipe = []
    return recipe


def _make(ctx: ProbeContext, inv: Invocation, workdir: str, depth: int) -> Optional[Found]:
    names = [a for a in inv.args if not a.startswith("-") and "=" not in a]
    target = next((n for n in names if _MAKE_TARGET.match(n)), None)
    if target is None:
        return None
    makefile = _rel(workdir, _option(inv.args, "-f", "--file") or "Makefile")
    recipe = make_recipe(ctx, makefile, target) if makefile in ctx.snapshot else None
    if recipe is None:
        return Found("make", inv.text, target, [], False, [f"make target {target!r} is not defined in {makefile}"], target)
    for command in shell_lines("\n".join(recipe)):
        for inner in invocations(command):
            found = _classify(ctx, inner, " ".join(recipe), workdir) if inner.program not in ("make", "gmake") \
                else (_make(ctx, inner, workdir, depth + 1) if depth < MAX_MAKE_DEPTH else None)
            if found is not None:
                found.make_target = target
                found.marker = found.marker or target
                return found
    return None


# -- collect -------------------------------------------------------------------------------------


_CONTEXT_COMMAND = lazy(r"\bparams\b|^(?:export|cp|ln|mv)\s")


def _step_context(step: Step, job: Job) -> str:
    """What else in the step can point a ``dvc repro`` at sample data: env values and the commands
    that swap params or export settings (not ``pip install -r requirements-test.txt``)."""
    commands = [c for c in step.commands() if _CONTEXT_COMMAND.search(c)]
    return " ".join([*commands, *(f"{k}={v}" for k, v in {**job.env, **step.env}.items() if str(k).upper() != "CI")])


def _evidence(ctx: ProbeContext, pipeline: Pipeline, job: Job, step: Step, command: str, found: Found) -> Evidence:
    reasons = list(found.reasons) + ci_blocking_reasons(job, step, command)
    blocking = not any(r.startswith(("non-blocking", "disabled")) for r in reasons)
    triggers = step_triggers(job, step)
    if not triggers and not job.disabled and not step.disabled:
        reasons.append("never triggered: no trigger of the pipeline reaches this job")
    elif triggers == ["manual"]:
        reasons.append("runs only on manual dispatch")
    attrs = PipelineTestRun(
        system=pipeline.system, job=job.id, tool=found.tool, make_target=found.make_target, command=command[:200],
        marker=found.marker[:80], test_files=found.test_files, reaches_pipeline=found.reaches, triggers=triggers,
        blocking=blocking,
    )
    path = step.where(job)
    return ctx.evidence("pipeline_test.run", attrs, path=path, lines=(step.start_line, step.end_line),
                        subject=f"{path}:{job.id}:{command[:120]}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    ci = ctx.facts.ci
    for path, reason in sorted(ci.unreadable.items()):
        yield ctx.unknown("pipeline_test.run", reason, path=path)
    seen: set[tuple[str, int, str]] = set()
    for pipeline, job, step in ci.steps():
        context = _step_context(step, job)
        for command in step.commands():
            key = (step.where(job), step.start_line, command)
            if key in seen:
                continue
            for inv in invocations(command):
                if inv.program in ("make", "gmake"):
                    found = _make(ctx, inv, step.workdir, 0)
                else:
                    found = _classify(ctx, inv, context, step.workdir)
                if found is not None:
                    seen.add(key)
                    yield _evidence(ctx, pipeline, job, step, command, found)
                    break


PROBE = Probe(
    id="pipeline_tests",
    title="Pipeline integration tests in CI: the ML pipeline run end to end on small or sample data",
    patterns=("**/Makefile", "**/makefile", "**/GNUmakefile"),
    kinds=(
        Kind("pipeline_test.run", PipelineTestRun,
             "A CI step running the ML pipeline end to end on test/sample data (dvc, kedro, metaflow, zenml, pytest integration, make)"),
    ),
    collect=collect,
    python_tokens=(r"from[ \t]+[\w.]*(?:pipeline|train|flow|dag)", r"import[ \t]+[\w.]*(?:pipeline|train|flow|dag)",
                   r"from[ \t]+(?:kedro|metaflow|zenml)\b", r"import[ \t]+(?:kedro|metaflow|zenml)\b"),
)
