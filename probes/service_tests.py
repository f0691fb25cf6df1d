"""Service-level tests: load and API-contract suites, and the CI/CD steps that run them
(RUBRIC §3.3 MD-m, criterion MD-3.3; anti-gaming §2.3).

A load or contract suite only says something about delivery when the pipeline runs it, so this
probe reads two things and joins them:

- suites in the tree: k6 scripts (``import http from 'k6/http'``; ``options.thresholds``), Locust
  locustfiles (a class deriving from ``HttpUser``/``FastHttpUser``), Gatling simulations
  (``extends Simulation``; ``assertions(...)``), Postman collections (``*.postman_collection.json``;
  ``test`` event scripts), Pact tests (``from pact import ...``, ``@pact-foundation/pact``),
  Schemathesis in Python tests (``schemathesis.from_uri``/``openapi.from_url``...), Dredd configs
  (``dredd.yml``);
- CI steps (the normalised CI model) running ``k6 run``, ``locust --headless``, ``st run`` /
  ``schemathesis run``, ``dredd``, ``newman run``, ``hey``, ``vegeta attack``, ``wrk``, Gatling
  (``mvn gatling:test``, ``gradle gatlingRun``), Pact verifiers, or ``pytest`` over Pact or
  Schemathesis test files; plus the k6, Newman and Schemathesis GitHub Actions.

Strength logic:

- ``service_test.run``: configured when the step can fail the pipeline and something triggers it;
  a mention with the reason when it is non-blocking (``continue-on-error``, ``allow_failure``,
  ``|| true``), disabled, never triggered or run only by hand. ``after_deploy`` says the job needs
  a deploying job (or deploys earlier in the same job); ``environment`` is the job's environment.
- ``service_test.suite``: configured when a live, blocking CI step runs it; otherwise a mention
  ("never run by CI", or the reasons of the steps that do run it).
- A suite or CI file that cannot be parsed is ``unknown``.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterator, Literal, Optional

from scanner.facts.ci import Job, Pipeline, Step, ci_blocking_reasons, step_triggers
from scanner.facts.commands import Invocation, invocations
from scanner.facts.needles import Needles
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

Tool = Literal["k6", "locust", "gatling", "hey", "vegeta", "wrk", "schemathesis", "dredd", "pact", "newman"]
LOAD_TOOLS = frozenset({"k6", "locust", "gatling", "hey", "vegeta", "wrk"})


class ServiceTestSuite(Attributes):
    tool: Tool
    type: Literal["load", "contract"]
    thresholds: bool  # pass/fail criteria in the suite (k6 thresholds, Locust exit code, Gatling assertions, ...)
    run_in_ci: bool


class ServiceTestRun(Attributes):
    system: str
    job: str
    tool: Tool
    type: Literal["load", "contract"]
    command: str
    suite: Optional[str]
    thresholds: bool
    triggers: list[str]
    blocking: bool
    after_deploy: bool
    environment: Optional[str]


def _type(tool: str) -> Literal["load", "contract"]:
    return "load" if tool in LOAD_TOOLS else "contract"


# -- suites ------------------------------------------------------------------------------------


@dataclass
class Suite:
    path: str
    tool: Tool
    thresholds: bool
    lines: tuple[int, int]
    runs: list["Run"] = field(default_factory=list)


_JS_COMMENT = lazy(r"/\*.*?\*/|(?<![:\"'])//[^\n]*", re.DOTALL)
_K6_IMPORT = lazy(r"""^\s*import\b[^;\n]*\bfrom\s+['"]k6(?:/[\w/-]+)?['"]""", re.MULTILINE)
_K6_THRESHOLDS = lazy(r"\bthresholds\s*:\s*\{")
_PACT_JS = lazy(r"""['"]@pact-foundation/pact['"]""")
_GATLING = lazy(r"\bextends\s+Simulation\b")
_GATLING_ASSERT = lazy(r"\bassertions\s*\(")
_LOCUST_BASES = frozenset({"HttpUser", "FastHttpUser", "HttpLocust"})
_LOCUST_CHECKS = lazy(r"\bprocess_exit_code\s*=")
_SCHEMATHESIS_LOADERS = lazy(r"^schemathesis\.(?:openapi\.|graphql\.)?(?:from_uri|from_url|from_path|from_file|from_asgi|from_wsgi|from_dict|from_pytest_fixture)$")
MAX_SOURCE_CHARS = 400_000


def _blank_comments(text: str) -> str:
    """JS/Scala text with comments replaced by spaces (line numbers kept)."""
    return _JS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


_SCRIPT_NEEDLES = Needles([r"""['"]k6""", "@pact-foundation/pact", r"extends[ \t]+Simulation"])


def _script_suites(ctx: ProbeContext) -> Iterator[Suite]:
    """k6, Pact JS and Gatling suites among the JS/TS/Scala files."""
    paths = [p for p in ctx.paths if p.endswith((".js", ".mjs", ".ts", ".scala")) and "/node_modules/" not in f"/{p}"]
    for path, text in ctx.facts.grep(paths, _SCRIPT_NEEDLES):
        if len(text) > MAX_SOURCE_CHARS:
            continue
        code = _blank_comments(text)
        if path.endswith(".scala"):
            match = _GATLING.search(code)
            if match:
                line = _line_of(code, match.start())
                yield Suite(path, "gatling", bool(_GATLING_ASSERT.search(code)), (line, line))
            continue
        k6 = _K6_IMPORT.search(code)
        if k6:
            threshold = _K6_THRESHOLDS.search(code)
            line = _line_of(code, (threshold or k6).start())
            yield Suite(path, "k6", threshold is not None, (line, line))
        elif _PACT_JS.search(code):
            match = _PACT_JS.search(code)
            line = _line_of(code, match.start()) if match else 1
            yield Suite(path, "pact", True, (line, line))


def _python_suites(ctx: ProbeContext) -> Iterator[Evidence | Suite]:
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        if pyfile.notebook:
            continue
        if pyfile.imports_module("locust"):
            yield from _locust(ctx, path)
        elif pyfile.imports_module("pact"):
            imp = next(i for i in pyfile.imports if i.module == "pact" or i.module.startswith("pact."))
            yield Suite(path, "pact", True, (imp.line, imp.line))
        else:
            loaders = [c for c in pyfile.calls if _SCHEMATHESIS_LOADERS.match(c.name)]
            if loaders:
                # schemathesis runs every check the test asks for; the default set fails on 5xx
                yield Suite(path, "schemathesis", True, (loaders[0].line, loaders[0].end_line))


def _locust(ctx: ProbeContext, path: str) -> Iterator[Evidence | Suite]:
    text = ctx.facts.text(path)
    if text is None or len(text) > MAX_SOURCE_CHARS:
        yield ctx.unknown("service_test.suite", ctx.facts.problems.get(path, "could not be read"), path=path)
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        yield ctx.unknown("service_test.suite", f"Python syntax error: {exc}", path=path)
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(_base_name(b) in _LOCUST_BASES for b in node.bases):
            thresholds = bool(_LOCUST_CHECKS.search(text))
            yield Suite(path, "locust", thresholds, (node.lineno, node.lineno))
            return


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _postman_suites(ctx: ProbeContext) -> Iterator[Evidence | Suite]:
    for path in ctx.paths:
        if not path.endswith(".postman_collection.json"):
            continue
        doc = ctx.facts.json(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("item"), list):
            yield ctx.unknown("service_test.suite", ctx.facts.problems.get(path, "not a Postman collection"), path=path)
            continue
        line = ctx.facts.find_line(path, '"item"') or 1
        yield Suite(path, "newman", _has_tests(doc, 0), (line, line))


def _has_tests(node: object, depth: int) -> bool:
    """A collection (or folder/request) with a ``test`` event script that has content."""
    if depth > 30:
        return False
    if isinstance(node, dict):
        for event in node.get("event") or []:
            if isinstance(event, dict) and event.get("listen") == "test":
                script = event.get("script")
                exec_ = script.get("exec") if isinstance(script, dict) else None
                if exec_ and any(str(s).strip() for s in (exec_ if isinstance(exec_, list) else [exec_])):
                    return True
        return any(_has_tests(child, depth + 1) for child in node.get("item") or [])
    return False


def _dredd_suites(ctx: ProbeContext) -> Iterator[Evidence | Suite]:
    for path in ctx.paths:
        if posixpath.basename(path) not in ("dredd.yml", "dredd.yaml"):
            continue
        docs = ctx.facts.yaml(path)
        if docs is None:
            yield ctx.unknown("service_test.suite", ctx.facts.problems.get(path, "could not be parsed"), path=path)
            continue
        doc = docs[0] if docs else None
        if isinstance(doc, dict) and (doc.get("blueprint") or doc.get("path")):
            key = "blueprint" if doc.get("blueprint") else "path"
            line = doc.key_span(key)[0]
            yield Suite(path, "dredd", True, (line, line))


# -- CI runs -----------------------------------------------------------------------------------


@dataclass
class Run:
    pipeline: Pipeline
    job: Job
    step: Step
    index: int
    tool: Tool
    command: str
    targets: list[str]  # repository paths the command names ([""] = every suite of the tool)
    cli_thresholds: bool


_SCHEMATHESIS_CHECKS = lazy(r"(?:--checks[= ]|-c\s+)(?!not_a_server_error\b)\S+")
_LOCUST_CLI_CHECKS = lazy(r"--check-(?:fail-ratio|avg-rt|rt-percentile)\b")
_GATLING_CMD = lazy(r"\bgatling:test\b|\bgatlingRun\b|\bgatling\.sh\b")
_PACT_VERIFY = lazy(r"\bpact(?:-provider)?-verifier\b|\bpact_verifier_cli\b|\bpact-broker\s+can-i-deploy\b")


def _classify(inv: Invocation, workdir: str) -> Optional[tuple[Tool, list[str], bool]]:
    """(tool, target paths, thresholds on the command line) for a service-test invocation."""
    program, args = inv.program, inv.args
    positional = [a for a in args if not a.startswith("-")]
    if program == "k6" and positional[:1] == ["run"]:
        return "k6", [_rel(workdir, a) for a in positional[1:2] if a != "-"], False
    if program == "locust" and "--headless" in args:
        files = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-f", "--locustfile")]
        files += [a.split("=", 1)[1] for a in args if a.startswith("--locustfile=")]
        return "locust", [_rel(workdir, f) for f in files] or [_rel(workdir, "locustfile.py")], \
            bool(_LOCUST_CLI_CHECKS.search(inv.text))
    if program in ("st", "schemathesis") and positional[:1] == ["run"]:
        return "schemathesis", [], bool(_SCHEMATHESIS_CHECKS.search(inv.text))
    if program == "dredd":
        return "dredd", [_rel(workdir, "dredd.yml"), _rel(workdir, "dredd.yaml")], True
    if program == "newman" and positional[:1] == ["run"]:
        return "newman", [_rel(workdir, a) for a in positional[1:2]], False
    if program == "hey" or (program == "vegeta" and positional[:1] == ["attack"]) or program == "wrk":
        return program, [], False  # type: ignore[return-value]
    if program in ("pytest", "py.test"):
        return "pytest", [_rel(workdir, a) for a in pytest_paths(args)] or [workdir], False  # type: ignore[return-value]
    if _GATLING_CMD.search(inv.text):
        return "gatling", [workdir], False
    if _PACT_VERIFY.search(inv.text):
        return "pact", [], True
    return None


_PYTEST_VALUE_OPTIONS = frozenset({"-m", "-k", "-c", "-p", "-o", "-n", "-W", "-r", "--maxfail", "--junitxml", "--junit-xml",
                                   "--ignore", "--ignore-glob", "--deselect", "--rootdir", "--tb", "--durations",
                                   "--timeout", "--basetemp", "--log-level", "--cov-report", "--override-ini"})


def pytest_paths(args: list[str]) -> list[str]:
    """The paths a pytest command line names (option values such as ``-m integration`` skipped)."""
    found: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _PYTEST_VALUE_OPTIONS
        elif "$" not in arg and "{" not in arg:
            found.append(arg.split("::", 1)[0].rstrip("/"))
    return found


def _rel(workdir: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(workdir or ".", path))
    return "" if joined == "." else joined


_ACTIONS: tuple[tuple[Tool, "re.Pattern[str]", tuple[str, ...]], ...] = (
    ("k6", lazy(r"^grafana/(?:k6-action|run-k6-action)@", re.I), ("filename", "path")),
    ("newman", lazy(r"^matt-ball/newman-action@", re.I), ("collection",)),
    ("schemathesis", lazy(r"^schemathesis/action@", re.I), ()),
)


def _ci_runs(ctx: ProbeContext) -> Iterator[Run]:
    seen: set[tuple[str, int, str]] = set()
    for pipeline, job, step in ctx.facts.ci.steps():
        index = job.steps.index(step)
        key_base = (step.where(job), step.start_line)
        for tool, pattern, keys in _ACTIONS:
            if step.uses and pattern.search(step.uses):
                targets = [_rel(step.workdir, str(step.with_[k])) for k in keys if step.with_.get(k)]
                checks = str(step.with_.get("checks", "")) not in ("", "not_a_server_error")
                if (*key_base, step.uses) not in seen:
                    seen.add((*key_base, step.uses))
                    yield Run(pipeline, job, step, index, tool, step.uses, targets, checks)
        for command in step.commands():
            for inv in invocations(command):
                found = _classify(inv, step.workdir)
                if found is None or (*key_base, command) in seen:
                    continue
                seen.add((*key_base, command))
                tool, targets, checks = found
                yield Run(pipeline, job, step, index, tool, command, targets, checks)


def _covers(targets: list[str], path: str) -> bool:
    return any(t == "" or path == t or path.startswith(t + "/") for t in targets)


# -- deploy context ----------------------------------------------------------------------------

_DEPLOY = lazy(
    r"\b(?:kubectl\s+(?:apply|set\s+image|rollout\s+restart)|helm\s+(?:upgrade|install)|argocd\s+app\s+sync"
    r"|az\s+ml\s+online-deployment\s+(?:create|update)|aws\s+sagemaker\s+(?:create|update)-endpoint"
    r"|gcloud\s+(?:run\s+deploy|ai\s+endpoints\s+deploy-model)|mlflow\s+deployments\s+(?:create|update)"
    r"|bentoml\s+deploy|databricks\s+bundle\s+deploy|terraform\s+apply|serverless\s+deploy|fly\s+deploy)\b"
    r"|(?:^|[\s/])[\w.-]*deploy[\w.-]*\.(?:sh|py)\b|\bmake\s+deploy[\w-]*")


def _deploys(job: Job, before: Optional[int] = None) -> bool:
    steps = job.steps if before is None else job.steps[:before]
    return any(_DEPLOY.search(c) for s in steps for c in s.commands())


def _after_deploy(run: Run) -> bool:
    if _deploys(run.job, run.index):
        return True
    jobs = {j.id: j for j in run.pipeline.jobs}
    return any(_deploys(jobs[n]) or bool(jobs[n].environment) for n in run.job.needs if n in jobs)


# -- evidence ----------------------------------------------------------------------------------


def _run_reasons(run: Run) -> list[str]:
    reasons = ci_blocking_reasons(run.job, run.step, run.command)
    triggers = step_triggers(run.job, run.step)
    if not triggers and not reasons:
        reasons.append("never triggered: no trigger of the pipeline reaches this job")
    elif triggers == ["manual"]:
        reasons.append("runs only on manual dispatch")
    return reasons


def _run_evidence(ctx: ProbeContext, run: Run, tool: Tool, suite: Optional[Suite]) -> Evidence:
    reasons = _run_reasons(run)
    blocking = not any(r.startswith(("non-blocking", "disabled")) for r in reasons)
    attrs = ServiceTestRun(
        system=run.pipeline.system, job=run.job.id, tool=tool, type=_type(tool), command=run.command[:200],
        suite=suite.path if suite else None, thresholds=bool(run.cli_thresholds or (suite and suite.thresholds)),
        triggers=step_triggers(run.job, run.step), blocking=blocking, after_deploy=_after_deploy(run),
        environment=run.job.environment,
    )
    return ctx.evidence("service_test.run", attrs, path=run.step.where(run.job),
                        lines=(run.step.start_line, run.step.end_line),
                        subject=f"{run.step.where(run.job)}:{run.job.id}:{tool}:{suite.path if suite else run.command[:80]}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    suites: list[Suite] = []
    for item in (*_script_suites(ctx), *_python_suites(ctx), *_postman_suites(ctx), *_dredd_suites(ctx)):
        if isinstance(item, Suite):
            suites.append(item)
        else:
            yield item
    ci = ctx.facts.ci
    for path, reason in sorted(ci.unreadable.items()):
        yield ctx.unknown("service_test.run", reason, path=path)
    for run in _ci_runs(ctx):
        if run.tool == "pytest":  # a test run counts only when it collects Pact/Schemathesis suites
            matched = [s for s in suites if s.tool in ("pact", "schemathesis") and _covers(run.targets, s.path)]
            for suite in matched:
                suite.runs.append(run)
                yield _run_evidence(ctx, run, suite.tool, suite)
            continue
        matched = [s for s in suites if s.tool == run.tool and _covers(run.targets, s.path)]
        for suite in matched:
            suite.runs.append(run)
        yield _run_evidence(ctx, run, run.tool, matched[0] if matched else None)
    for suite in suites:
        yield _suite_evidence(ctx, suite)


def _suite_evidence(ctx: ProbeContext, suite: Suite) -> Evidence:
    live = [r for r in suite.runs if not _run_reasons(r)]
    reasons: list[str] = []
    if not suite.runs:
        reasons.append("never run by CI")
    elif not live:
        reasons = sorted({f"CI runs it only where it cannot gate: {why}" for r in suite.runs for why in _run_reasons(r)})
    attrs = ServiceTestSuite(tool=suite.tool, type=_type(suite.tool), thresholds=suite.thresholds, run_in_ci=bool(suite.runs))
    return ctx.evidence("service_test.suite", attrs, path=suite.path, lines=suite.lines, subject=f"{suite.tool}:{suite.path}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


PROBE = Probe(
    id="service_tests",
    title="Service-level tests: load (k6, Locust, Gatling, hey, Vegeta, wrk) and API contract (Schemathesis, Dredd, Pact, Newman) run in CI/CD",
    patterns=("**/*.js", "**/*.mjs", "**/*.ts", "**/*.scala", "**/*.postman_collection.json",
              "**/dredd.yml", "**/dredd.yaml"),
    kinds=(
        Kind("service_test.suite", ServiceTestSuite, "A load or API-contract test suite in the tree, and whether CI runs it"),
        Kind("service_test.run", ServiceTestRun, "A CI/CD step running a load or API-contract test (with thresholds, gating, deploy context)"),
    ),
    collect=collect,
    python_tokens=(r"import[ \t]+(?:locust|pact|schemathesis)\b", r"from[ \t]+(?:locust|pact|schemathesis)\b"),
)
