"""Governance tooling: explainability, fairness, policy-as-code gates, supply chain, review cadence.

Covers RUBRIC §3.5 GV-h (explainability artifacts), GV-i (fairness / slice evaluation), GV-j
(review cadence), GV-k (policy-as-code gates) and GV-l (supply-chain integrity). Model cards,
data docs and policy documents are the model_card probe's.

Anti-gaming (RUBRIC §2.3): explainability or fairness code only in a notebook, policies that no CI
job evaluates, policy checks that cannot fail (continue-on-error, ``|| true``, disabled, only on
workflow_dispatch), scanners that exit 0 on findings (Trivy's default), a secret scanner that is
only a pre-commit hook, and review records with gaps over 92 days are downgraded or flagged.
Review dates are measured back from the head commit's date, never the wall clock.
"""

from __future__ import annotations

import posixpath
import re
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator, Literal, Optional

from probes._ci_links import ci_model, runs_by_path
from scanner.facts.ci import Job, Step
from scanner.facts.python import PyFile, imports_of
from scanner.facts.yamldoc import YMap, dig, span
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext, measurement

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------


class Explainability(Attributes):
    tool: Literal["shap", "lime", "captum", "interpret", "alibi_explain", "dalex", "clarify"]
    where: Literal["pipeline", "module", "notebook"]
    logged: bool


class Fairness(Attributes):
    tool: Literal["fairlearn", "aif360", "aequitas", "giskard", "responsibleai", "clarify_bias", "tfma_slicing"]
    sliced: bool
    where: Literal["pipeline", "module", "notebook"] = "module"


class PolicyGate(Attributes):
    tool: Literal["opa", "conftest", "kyverno", "gatekeeper", "custom"]
    policies: int
    in_ci: bool
    blocking: bool


class SupplyChain(Attributes):
    tools: list[str]
    in_ci: bool
    cannot_fail: list[str] = []  # scanners present but unable to fail the build (not in ``tools``)


class ReviewCadence(Attributes):
    directory: str
    records: int = measurement()
    first: Optional[str] = measurement(default=None)
    last: Optional[str] = measurement(default=None)
    max_gap_days: Optional[int] = measurement(default=None)
    quarterly: bool
    review_workflow_cron: Optional[str] = None


_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$|(?:^|/)conftest\.py$")

# --------------------------------------------------------------------------------------------
# where code runs
# --------------------------------------------------------------------------------------------


def _dvc_commands(ctx: ProbeContext) -> str:
    """Every dvc.yaml stage command, joined: a script named there runs in the pipeline."""
    def build() -> str:
        found: list[str] = []
        for path in ctx.paths:
            if posixpath.basename(path) != "dvc.yaml":
                continue
            stages = dig(ctx.facts.yaml_doc(path), "stages")
            for stage in stages.values() if isinstance(stages, dict) else []:
                cmd = stage.get("cmd") if isinstance(stage, dict) else None
                found += [str(c) for c in (cmd if isinstance(cmd, list) else [cmd]) if c]
        return "\n".join(found)

    return ctx.memo("dvc_commands", build)


def _where(ctx: ProbeContext, pyfile: PyFile) -> str:
    if pyfile.notebook:
        return "notebook"
    if runs_by_path(ctx).get(pyfile.path):
        return "pipeline"
    commands = _dvc_commands(ctx)
    if pyfile.path in commands or pyfile.path[:-3].replace("/", ".") in commands:
        return "pipeline"
    return "module"


# --------------------------------------------------------------------------------------------
# governance.explainability / governance.fairness
# --------------------------------------------------------------------------------------------

_SHAP = lazy(r"^shap\.(?:\w+\.)*(?:\w*Explainer|explainers\.\w+)$")
_EXPLAINERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("shap", _SHAP),
    ("shap", lazy(r"^mlflow\.shap\.log_explanation$")),
    ("lime", lazy(r"^lime\.(?:\w+\.)*\w*Explainer$")),
    ("captum", lazy(r"^captum\.attr\.\w+$")),
    ("interpret", lazy(r"^interpret\.(?:glassbox|blackbox|greybox|perf)\.\w+$")),
    ("alibi_explain", lazy(r"^alibi\.explainers\.\w+$")),
    ("dalex", lazy(r"^dalex\.Explainer$")),
    ("clarify", lazy(r"^sagemaker\.clarify\.SHAPConfig$|\.run_explainability$")),
)
_LOGGED = lazy(r"^mlflow\.(?:shap\.log_explanation|log_figure|log_artifacts?|log_dict|log_image|log_table)$"
                     r"|^shap\.save_html$|\.savefig$|\.save_html$")

_FAIRNESS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("fairlearn", lazy(r"^fairlearn\.(?:metrics|reductions|postprocessing)\.\w+$"), ("sensitive_features",)),
    ("aif360", lazy(r"^aif360\.(?:metrics|algorithms)\.(?:\w+\.)*\w+$"), ("privileged_groups", "unprivileged_groups")),
    ("aequitas", lazy(r"^aequitas\.(?:group|bias|fairness)\.\w+$|^aequitas\.\w+\.\w+\.get_crosstabs$"), ("attr_cols",)),
    ("giskard", lazy(r"^giskard\.scan$"), ()),
    ("responsibleai", lazy(r"^responsibleai\.RAIInsights$"), ("cohort_list",)),
    ("clarify_bias", lazy(r"^sagemaker\.clarify\.BiasConfig$|\.run_bias$|\.run_pre_training_bias$"), ("facet_name",)),
    ("tfma_slicing", lazy(r"^tensorflow_model_analysis\.SlicingSpec$"), ("feature_keys", "feature_values")),
)
_ALWAYS_SLICED = frozenset({"giskard", "aequitas"})  # scanning or cross-tabulating groups is slicing


_ANY_TOOL = lazy("|".join(f"(?:{p.pattern})" for _, p in _EXPLAINERS)
                       + "|" + "|".join(f"(?:{p.pattern})" for _, p, _ in _FAIRNESS))


def _explain_fairness(ctx: ProbeContext) -> Iterator[Evidence]:
    index = ctx.facts.python
    for path in sorted(index.files):
        pyfile = index.files[path]
        if not pyfile.parsed or _TEST_PATH.search(path):
            continue
        explain: dict[str, list[Any]] = {}
        fair: dict[str, tuple[list[Any], bool]] = {}
        logged = False
        for call in pyfile.calls:
            if _LOGGED.search(call.name):
                logged = True
            if not _ANY_TOOL.search(call.name):
                continue  # one search instead of one per tool, for the many calls that are neither
            for tool, pattern in _EXPLAINERS:
                if pattern.search(call.name):
                    explain.setdefault(tool, []).append(call)
                    break
            for tool, pattern, slice_kwargs in _FAIRNESS:
                if pattern.search(call.name):
                    calls, sliced = fair.get(tool, ([], False))
                    sliced = sliced or tool in _ALWAYS_SLICED or any(k in call.keywords for k in slice_kwargs)
                    fair[tool] = ([*calls, call], sliced)
                    break
        if not explain and not fair:
            continue
        where = _where(ctx, pyfile)
        downgrades = ["only in a notebook"] if where == "notebook" else []
        strength = Strength.mention if downgrades else Strength.configured
        for tool, calls in sorted(explain.items()):
            attrs = Explainability(tool=tool, where=where, logged=logged)  # type: ignore[arg-type]
            yield ctx.evidence("governance.explainability", attrs, path=path,
                               lines=(calls[0].line, calls[0].end_line), subject=tool,
                               strength=strength, downgrades=[f"explainability {d}" for d in downgrades])
        for tool, (calls, sliced) in sorted(fair.items()):
            attrs = Fairness(tool=tool, sliced=sliced, where=where)  # type: ignore[arg-type]
            reasons = [f"fairness evaluation {d}" for d in downgrades]
            if not sliced:
                reasons.append("no sensitive feature or slice is named")
            yield ctx.evidence("governance.fairness", attrs, path=path, lines=(calls[0].line, calls[0].end_line),
                               subject=tool, strength=Strength.mention if reasons else Strength.configured,
                               downgrades=reasons)


# --------------------------------------------------------------------------------------------
# governance.policy_gate
# --------------------------------------------------------------------------------------------

_POLICY_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("conftest", lazy(r"(?<![\w-])conftest\s+(?:test|verify)\b")),
    ("opa", lazy(r"(?<![\w-])opa\s+(?:test|eval|check)\b")),
    ("kyverno", lazy(r"(?<![\w-])kyverno\s+(?:apply|test)\b")),
    ("gatekeeper", lazy(r"(?<![\w-])gator\s+(?:test|verify)\b")),
)
_POLICY_ACTIONS = {"instrumenta/conftest-action": "conftest"}
_GATE_TRIGGERS = frozenset({"push", "pull_request", "tag", "release"})


def _policy_files(ctx: ProbeContext) -> dict[str, list[tuple[str, tuple[int, int]]]]:
    """tool -> [(path, lines)] of the policies in the tree (rego modules, Kyverno, Gatekeeper)."""
    found: dict[str, list[tuple[str, tuple[int, int]]]] = {}
    for path in ctx.paths:
        if path.endswith(".rego"):
            text = ctx.facts.text(path)
            if text is None or path.endswith("_test.rego") or not re.search(r"^package\s+\S", text, re.M):
                continue
            found.setdefault("opa", []).append((path, (1, max(1, len(text.splitlines())))))
        elif path.endswith((".yaml", ".yml")):
            text = ctx.facts.text(path)
            if text is None or not ("kyverno.io" in text or "gatekeeper.sh" in text):
                continue
            docs = ctx.facts.yaml(path)
            if docs is None:
                found.setdefault("unknown", []).append((path, (0, 0)))
                continue
            for doc in docs:
                if not isinstance(doc, YMap):
                    continue
                api, kind = str(doc.get("apiVersion", "")), doc.get("kind")
                if api.startswith("kyverno.io/") and kind in ("ClusterPolicy", "Policy"):
                    found.setdefault("kyverno", []).append((path, span(doc)))
                elif api.startswith("templates.gatekeeper.sh/") and kind == "ConstraintTemplate":
                    found.setdefault("gatekeeper", []).append((path, span(doc)))
    return found


def _policy_step(step: Step) -> Optional[tuple[str, str]]:
    for action, tool in _POLICY_ACTIONS.items():
        if step.uses.startswith(action):
            return tool, step.uses
    for command in step.commands():
        for tool, pattern in _POLICY_COMMANDS:
            if pattern.search(command):
                return tool, command
    return None


def _gate_reasons(job: Job, step: Step, command: str) -> list[str]:
    reasons = []
    dead = job.disabled or step.disabled
    if dead:
        reasons.append(f"never runs: {dead}")
    why = job.non_blocking or step.command_non_blocking(command)
    if why:
        reasons.append(f"cannot fail: {why}")
    triggers = step.triggers if step.triggers is not None else job.triggers
    if triggers and not {t.type for t in triggers} & _GATE_TRIGGERS:
        reasons.append("runs only on " + ", ".join(sorted({t.type for t in triggers})) + ": not a gate on changes")
    return reasons


def _policy_gates(ctx: ProbeContext) -> Iterator[Evidence]:
    files = _policy_files(ctx)
    counted = {"conftest": len(files.get("opa", [])), "opa": len(files.get("opa", [])),
               "kyverno": len(files.get("kyverno", [])), "gatekeeper": len(files.get("gatekeeper", []))}
    seen: set[str] = set()
    ci = ci_model(ctx)
    for _, job, step in ci.steps() if ci is not None else []:
        hit = _policy_step(step)
        if hit is None:
            continue
        tool, command = hit
        seen.add("opa" if tool in ("opa", "conftest") else tool)
        reasons = _gate_reasons(job, step, command)
        policies = counted[tool]
        if not policies:
            reasons.append("no policy files found in the repository")
        attrs = PolicyGate(tool=tool, policies=policies, in_ci=True, blocking=not reasons)  # type: ignore[arg-type]
        yield ctx.evidence("governance.policy_gate", attrs, path=step.where(job), lines=(step.start_line, step.end_line),
                           subject=f"{job.id}:{step.name or step.start_line}",
                           strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)
    for path, _ in files.pop("unknown", []):
        yield ctx.unknown("governance.policy_gate", ctx.facts.problems.get(path, "malformed YAML"), path=path)
    for tool, found in sorted(files.items()):
        if tool in seen:
            continue
        path, lines = found[0]
        reason = "policies are never evaluated in CI"
        if tool in ("kyverno", "gatekeeper"):
            reason += " (cluster admission enforcement is not observable from the repository)"
        attrs = PolicyGate(tool=tool, policies=len(found), in_ci=False, blocking=False)  # type: ignore[arg-type]
        yield ctx.evidence("governance.policy_gate", attrs, path=path, lines=lines, subject=f"files:{tool}",
                           strength=Strength.mention, downgrades=[reason])


# --------------------------------------------------------------------------------------------
# governance.supply_chain
# --------------------------------------------------------------------------------------------

_SUPPLY_ACTIONS = (
    ("sbom", lazy(r"^anchore/sbom-action|^CycloneDX/gh-\w+-generate-sbom", re.I)),
    ("provenance", lazy(r"^actions/attest-build-provenance|^actions/attest@|^slsa-framework/slsa-github-generator")),
    ("pip_audit", lazy(r"^pypa/gh-action-pip-audit")),
    ("trivy", lazy(r"^aquasecurity/trivy-action")),
    ("gitleaks", lazy(r"^gitleaks/gitleaks-action|^zricethezav/gitleaks-action")),
)
_SUPPLY_COMMANDS = (
    ("cosign", lazy(r"(?<![\w-])cosign\s+(?:sign|verify|attest|sign-blob|verify-blob|verify-attestation)\b")),
    ("provenance", lazy(r"(?<![\w-])cosign\s+attest\b|(?<![\w-])slsa-verifier\s+verify")),
    ("sbom", lazy(r"(?<![\w-])(?:syft\s+\S|cyclonedx-py\b|cyclonedx-bom\b|cdxgen\b)|--format\s+(?:cyclonedx|spdx)")),
    ("pip_audit", lazy(r"(?<![\w-])pip-audit\b|-m\s+pip_audit\b")),
    ("trivy", lazy(r"(?<![\w-])trivy\s+(?:image|fs|filesystem|repo|repository|config|sbom|k8s)\b")),
    ("gitleaks", lazy(r"(?<![\w-])gitleaks\s+(?:detect|protect|git|dir)\b")),
    ("model_signing", lazy(r"(?<![\w-])model_signing\s+(?:sign|verify)\b|-m\s+model_signing\b")),
    ("pip_licenses", lazy(r"(?<![\w-])pip-licenses\b")),
)
_SCANNERS = frozenset({"pip_audit", "trivy", "gitleaks"})  # their value is failing the build


def _supply_tools(step: Step) -> list[tuple[str, str]]:
    """(tool, command or action) pairs for one step."""
    found: list[tuple[str, str]] = []
    for tool, pattern in _SUPPLY_ACTIONS:
        if pattern.search(step.uses):
            found.append((tool, step.uses))
    for command in step.commands():
        for tool, pattern in _SUPPLY_COMMANDS:
            if pattern.search(command):
                found.append((tool, command))
    return found


def _trivy_exit(step: Step, command: str) -> Optional[str]:
    """Trivy exits 0 on findings unless told otherwise (``exit-code: 1`` / ``--exit-code 1``)."""
    if step.uses.startswith("aquasecurity/trivy-action"):
        return None if str(step.with_.get("exit-code", "0")) not in ("0", "") else "trivy-action exit-code is 0"
    return None if re.search(r"--exit-code[ =]+[1-9]", command) else "trivy without --exit-code 1 never fails"


def _supply_chain(ctx: ProbeContext) -> Iterator[Evidence]:
    ci = ci_model(ctx)
    by_pipeline: dict[str, list[tuple[Job, Step, str, list[str]]]] = {}
    for pipeline, job, step in ci.steps() if ci is not None else []:
        for tool, command in _supply_tools(step):
            reasons = []
            dead = job.disabled or step.disabled
            if dead:
                reasons.append(f"{tool} never runs: {dead}")
            elif tool in _SCANNERS:
                why = job.non_blocking or step.command_non_blocking(command) if not step.uses else job.non_blocking or step.non_blocking
                why = why or (_trivy_exit(step, command) if tool == "trivy" else None)
                if why:
                    reasons.append(f"{tool} cannot fail the build: {why}")
            by_pipeline.setdefault(pipeline.path, []).append((job, step, tool, reasons))
    for path, hits in sorted(by_pipeline.items()):
        live = sorted({tool for _, _, tool, reasons in hits if not reasons})
        reasons = sorted({r for *_, rs in hits for r in rs})
        tools = live or sorted({tool for _, _, tool, _ in hits})
        start = min(step.start_line for _, step, _, _ in hits)
        end = max(step.end_line for _, step, _, _ in hits)
        weak = sorted({tool for _, _, tool, rs in hits if rs} - set(live)) if live else []
        attrs = SupplyChain(tools=tools, in_ci=True, cannot_fail=weak)
        yield ctx.evidence("governance.supply_chain", attrs, path=hits[0][1].where(hits[0][0]), lines=(start, end),
                           subject=path, strength=Strength.configured if live else Strength.mention,
                           downgrades=[] if live else reasons)
    yield from _pre_commit_hooks(ctx)


_HOOKS = {"gitleaks": "gitleaks", "trivy": "trivy", "pip-audit": "pip_audit", "detect-secrets": "gitleaks"}


def _pre_commit_hooks(ctx: ProbeContext) -> Iterator[Evidence]:
    path = ".pre-commit-config.yaml"
    if path not in ctx.paths:
        return
    doc = ctx.facts.yaml_doc(path)
    if doc is None and ctx.facts.problems.get(path):
        yield ctx.unknown("governance.supply_chain", ctx.facts.problems[path], path=path)
        return
    repos = doc.get("repos") if isinstance(doc, dict) else None
    for repo in repos if isinstance(repos, list) else []:
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        for hook in hooks if isinstance(hooks, list) else []:
            tool = _HOOKS.get(str(hook.get("id", ""))) if isinstance(hook, dict) else None
            if tool is None:
                continue
            ci = ci_model(ctx)
            in_ci = any(re.search(r"(?<![\w-])pre-commit\s+run\b", c) or s.uses.startswith("pre-commit/action")
                        for _, _, s in (ci.steps() if ci is not None else []) for c in [*s.commands(), ""])
            reasons = [] if in_ci else ["pre-commit hook only: runs on developer machines where installed"]
            attrs = SupplyChain(tools=[tool], in_ci=in_ci)
            yield ctx.evidence("governance.supply_chain", attrs, path=path, lines=span(hook), subject=f"pre-commit:{tool}",
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


# --------------------------------------------------------------------------------------------
# governance.review_cadence
# --------------------------------------------------------------------------------------------

_REVIEW_DIR = lazy(r"(?:^|/)(?:model[-_])?reviews?/", re.I)
_DATE_IN_NAME = lazy(r"(20\d\d)-(\d\d)-(\d\d)")
_FRONT_DATE = lazy(r"""^date:\s*["']?(20\d\d)-(\d\d)-(\d\d)""", re.M)
_WINDOW_DAYS = 365
_QUARTER_DAYS = 92
_ISSUE_STEP = lazy(r"gh\s+issue\s+create|issues\.create|create-an-issue|issue-bot|create-issue", re.I)


def _record_date(ctx: ProbeContext, path: str) -> Optional[date]:
    text = ctx.facts.text(path) or ""
    match = None
    if text.startswith("---"):
        head = text[: text.find("\n---", 3) + 1] if "\n---" in text[3:] else ""
        match = _FRONT_DATE.search(head)
    match = match or _DATE_IN_NAME.search(posixpath.basename(path))
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _review_workflow(ctx: ProbeContext) -> Optional[str]:
    """The cron of a scheduled workflow that opens a review issue, if there is one."""
    ci = ci_model(ctx)
    for pipeline, job in ci.jobs() if ci is not None else []:
        text = " ".join([pipeline.name, job.name, *(f"{s.name} {s.uses} {s.run} {s.with_}" for s in job.steps)])
        crons = [t.cron for t in job.triggers if t.type == "schedule" and t.cron]
        if crons and not job.disabled and re.search(r"review", text, re.I) \
                and any(_ISSUE_STEP.search(f"{s.uses} {s.run} {s.with_}") for s in job.steps):
            return crons[0]
    return None


def _review_cadence(ctx: ProbeContext) -> Iterator[Evidence]:
    dirs: dict[str, list[str]] = {}
    for path in ctx.paths:
        name = posixpath.basename(path).lower()
        if path.endswith(".md") and _REVIEW_DIR.search(path) and name not in ("readme.md", "index.md") \
                and "template" not in name:
            dirs.setdefault(posixpath.dirname(path), []).append(path)
    cron = _review_workflow(ctx) if dirs else None
    if not dirs:
        return
    history = ctx.facts.history
    if not history.available or not history.commits:
        for directory in sorted(dirs):
            yield ctx.unknown("governance.review_cadence", history.reason or "no commits: no head date to measure from",
                              path=dirs[directory][0])
        return
    head_day = datetime.fromtimestamp(max(c.time for c in history.commits), tz=timezone.utc).date()
    born = datetime.fromtimestamp(min(c.time for c in history.commits), tz=timezone.utc).date()
    for directory, paths in sorted(dirs.items()):
        dated = sorted((d, p) for p in paths if (d := _record_date(ctx, p)) is not None)
        if not dated:
            continue
        window = [(d, p) for d, p in dated if 0 <= (head_day - d).days <= _WINDOW_DAYS]
        start = max(born, date.fromordinal(head_day.toordinal() - _WINDOW_DAYS))
        start = min(start, window[0][0]) if window else start  # records older than the first commit
        points = [start, *[d for d, _ in window], head_day]
        gap = max((b - a).days for a, b in zip(points, points[1:]))
        quarterly = bool(window) and gap <= _QUARTER_DAYS
        reasons = []
        if not window:
            reasons.append("no dated review in the 12 months before the head commit")
        attrs = ReviewCadence(directory=directory, records=len(window),
                              first=window[0][0].isoformat() if window else None,
                              last=window[-1][0].isoformat() if window else None,
                              max_gap_days=gap, quarterly=quarterly, review_workflow_cron=cron)
        cite = window[-1][1] if window else dated[-1][1]
        yield ctx.evidence("governance.review_cadence", attrs, path=cite,
                           lines=(1, max(1, len(ctx.facts.lines(cite) or []))), subject=directory,
                           strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


# --------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    yield from _explain_fairness(ctx)
    yield from _policy_gates(ctx)
    yield from _supply_chain(ctx)
    yield from _review_cadence(ctx)


PROBE = Probe(
    id="governance_tools",
    title="Governance tooling: explainability, fairness, policy gates, supply chain, review cadence",
    patterns=("**/*.rego", "**/*.yaml", "**/*.yml", ".pre-commit-config.yaml",
              "**/reviews/**/*.md", "**/review/**/*.md", "**/model-reviews/**/*.md", "**/model_reviews/**/*.md",
              "**/Reviews/**/*.md"),
    kinds=(
        Kind("governance.explainability", Explainability, "Model explanations computed (SHAP, LIME, Captum, ...) and where"),
        Kind("governance.fairness", Fairness, "Fairness or slice evaluation (Fairlearn, AIF360, Clarify bias, ...)"),
        Kind("governance.policy_gate", PolicyGate, "Policy-as-code (OPA/Conftest, Kyverno, Gatekeeper) and whether CI enforces it"),
        Kind("governance.supply_chain", SupplyChain, "Signing, provenance, SBOM and dependency/secret scanning in CI"),
        Kind("governance.review_cadence", ReviewCadence, "Dated model review records and the largest gap between them"),
    ),
    collect=collect,
    python_tokens=imports_of("shap", "lime", "captum", "interpret", "alibi", "dalex", "fairlearn", "aif360",
                             "aequitas", "giskard", "responsibleai", "tensorflow_model_analysis", "sagemaker.clarify",
                             "mlflow.shap"),
    needs_history=True,
)
