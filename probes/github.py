"""GitHub as a platform: what the API shows ran, and which controls it enforces (read-only).

The repository says what *should* happen; GitHub says whether it did and whether it is mandatory
(RUBRIC §2.1 executed/enforced, §2.2 freshness, §2.5 least privilege; §3.3 MD-b/k/l/n,
§3.5 GV-d/e/f, §3.6 CO-e/f/g). No request is made without a linked ``github`` service (then the
facts only GitHub can show, ``GITHUB_ONLY``, are ``unknown`` "needs the GitHub API"), and every
observation the API refuses becomes ``unknown`` with its endpoint and status, never a zero.
Time windows are measured from the scan time (``observed_at``; SOURCE_DATE_EPOCH honoured).

Least privilege first: branch rules come from the rulesets endpoint and the branch summary
(metadata read); the classic protection endpoint, which needs admin, is asked only when those do
not already show the review rules and the branch is (or may be) protected.

Kinds and strength:

- ``github.workflow``: one per workflow file of the snapshot that GitHub lists, with its ``state``
  and its recent runs (the latest 100). ``executed`` when active and fresh: a schedule succeeded
  within twice its cron interval (30 days when the cron is unreadable; RUBRIC's 30-day cap for
  daily/weekly crons is implied, and monthly or quarterly crons get twice their interval), and a
  workflow with automatic event triggers (push, pull_request, release, ...; a manual
  ``workflow_dispatch`` is never required to fire) succeeded on an event within 90 days; no such
  run at all is ``dormant``. Active but stale is ``configured``; a disabled workflow (dead config, RUBRIC
  §2.3) is a ``mention`` downgraded "workflow disabled (<state>)"; a file GitHub does not list
  never ran on the default branch (``state: unregistered``, a downgraded mention). ``roles`` says
  what the file does, from the CI model (``tests`` on push/PR and blocking, ``training``,
  ``deploy``), so rules can ask "the test workflow is fresh" without a join.
- ``github.branch_rules``: the default branch's effective rules, ``enforced``.
- ``github.environment``: ``enforced`` with required reviewers, else ``configured``.
- ``github.deployments``: per production environment; ``executed`` with a success in 90 days.
- ``github.review_practice``: the last 50 merged human pull requests into the default branch and
  how many a non-author approved; ``executed``.
- ``github.commits_via_pr``: a sample of recent human commits on the default branch and how many
  came through a merged pull request (GV-d); ``executed``.
- ``github.codeowners_errors``: GitHub's own CODEOWNERS check; ``configured``, downgraded when
  the file has errors.
- ``github.review_latency``: the same merged pull requests, and how long each waited for its first
  review by a human other than its author (CO-e, CO 4.4), in weekday hours; ``executed``.
- ``github.cross_boundary_reviews``: the latest 30 of them whose files touch both the model side
  (training, features, pipelines) and the serving side (serving, api, deploy, infra, charts), and
  how many were approved by owners of both sides, per this snapshot's CODEOWNERS (CO-h); team
  owners are resolved through the team-members endpoint, asked only for the teams that matter.
"""

from __future__ import annotations

import re
import statistics
from datetime import datetime, time, timedelta, timezone
from typing import Any, Iterator, Optional
from urllib.parse import quote

from scanner.facts.ci import Pipeline
from scanner.facts.commands import invocations
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext, measurement
from scanner.services import Response

from ._github_api import SERVICE, GitHub, Unavailable
from ._github_cron import interval_minutes
from ._repo_owners import Rule, parse_codeowners
from .ci import test_runner, training_command

WINDOW_EVENTS = timedelta(days=90)
WINDOW_COMMITS = timedelta(days=180)
DEFAULT_SCHEDULE_AGE = timedelta(days=30)  # when a cron cannot be read
MAX_WORKFLOWS = 25
RUNS_PER_WORKFLOW = 100
MAX_PRS = 50
PR_PAGES = 3
MAX_COMMITS = 20
MAX_FILE_LOOKUPS = 30  # merged pull requests whose changed files are listed (newest first)
FILES_PER_PR = 100  # one page of a pull request's files: enough to see both sides of a boundary
MAX_TEAM_LOOKUPS = 8  # owner teams whose members are listed
MAX_SPAN_DAYS = 400  # a wait longer than this is counted as this long
WORKING_DAY_HOURS = 24.0  # weekday hours in "within a working day" (the rule's threshold may differ)
MAX_PROD_ENVIRONMENTS = 3
MAX_DEPLOYMENTS = 60
MAX_STATUS_LOOKUPS = 30
CODEOWNERS_ORDER = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # the first one GitHub reads
# Facts with no trace in the repository: without the API they are unknown, never absent (a
# workflow, an environment or a deployment has a repository-side counterpart the rules fall back to)
GITHUB_ONLY = ("github.branch_rules", "github.review_practice", "github.commits_via_pr", "github.review_latency",
               "github.cross_boundary_reviews")
_PRODUCTION = lazy(r"(?:^|[^a-z0-9])(?:prod|production|prd|live)(?:$|[^a-z0-9])", re.IGNORECASE)


# -- attribute models ------------------------------------------------------------------------


class GithubWorkflow(Attributes):
    path: str
    name: str
    state: str  # active | disabled_manually | disabled_inactivity | disabled_fork | unregistered
    roles: list[str]  # tests | training | deploy (from the workflow file)
    scheduled: bool
    runs_90d: int = measurement()
    last_success: Optional[str] = measurement()
    last_success_by_event: dict[str, str] = measurement()
    fresh: bool = measurement()
    fresh_schedule: Optional[bool] = measurement()  # None: no schedule
    fresh_events: Optional[bool] = measurement()  # None: no event trigger
    dormant: bool = measurement()  # event-driven, and no such run at all in 90 days


class GithubBranchRules(Attributes):
    branch: str
    source: str  # ruleset | classic | ruleset+classic
    required_approvals: int
    code_owner_review: bool
    required_status_checks: list[str]
    status_checks: int
    dismiss_stale: bool
    last_push_approval: bool


class GithubEnvironment(Attributes):
    name: str
    required_reviewers: int
    prevent_self_review: bool
    wait_timer: int
    production: bool


class GithubDeployments(Attributes):
    environment: str
    total: int = measurement()
    successful_90d: int = measurement()
    last_success: Optional[str] = measurement()
    automated: bool = measurement()  # a successful deployment in 90 days was made by a bot or app


class GithubReviewPractice(Attributes):
    merged_prs: int = measurement()
    reviewed_by_other: int = measurement()
    share: float = measurement()
    window: int  # at most this many recent merged pull requests are examined


class GithubCommitsViaPr(Attributes):
    branch: str
    commits: int = measurement()
    via_pr: int = measurement()
    share: float = measurement()
    window_days: int


class GithubCodeownersErrors(Attributes):
    path: str
    errors: int


class GithubReviewLatency(Attributes):
    """Time from opening to the first review by a human non-author, on the merged pull requests of
    ``github.review_practice``. A pull request merged without such a review waits forever: it
    counts, so a team that rarely reviews cannot get a fast median from its few reviewed PRs."""

    merged_prs: int = measurement()
    reviewed: int = measurement()  # ... that got a first review from a human other than the author
    within_day: int = measurement()  # ... within WORKING_DAY_HOURS weekday hours
    median_weekday_hours: Optional[float] = measurement()  # None: no PRs, or most never reviewed
    window: int  # at most this many recent merged pull requests


class GithubCrossBoundaryReviews(Attributes):
    """Merged pull requests whose files cross the model/serving boundary (CO-h), and how many were
    approved by owners of both sides (two different approvers, two different owner groups)."""

    examined: int = measurement()  # merged pull requests whose files were listed
    crossing: int = measurement()  # ... touching both the model and the serving side
    both_sides: int = measurement()  # ... approved by an owner of each side
    unresolved: int = measurement()  # ... whose owner teams' members could not be read
    share: float = measurement()  # both_sides / (crossing - unresolved); 0.0 when none
    codeowners: Optional[str]  # the CODEOWNERS file the owners come from; None: no owners known
    window: int


KINDS = (
    Kind("github.workflow", GithubWorkflow, "A workflow's state and recent runs on GitHub (MD-b, freshness, dead config)"),
    Kind("github.branch_rules", GithubBranchRules, "Rules enforced on the default branch: rulesets or classic protection (GV-e, CO-g)"),
    Kind("github.environment", GithubEnvironment, "A deployment environment and its protection rules (MD-j, MD-n, GV-f)"),
    Kind("github.deployments", GithubDeployments, "Deployments to a production environment and their outcome (MD-l)"),
    Kind("github.review_practice", GithubReviewPractice, "Share of merged pull requests approved by a non-author (GV-d, CO-e)"),
    Kind("github.commits_via_pr", GithubCommitsViaPr, "Share of default-branch commits that came through a pull request (GV-d, CO-e)"),
    Kind("github.codeowners_errors", GithubCodeownersErrors, "GitHub's syntax check of CODEOWNERS (CO-f)"),
    Kind("github.review_latency", GithubReviewLatency, "Time merged pull requests waited for a first human review, in weekday hours (CO-e)"),
    Kind("github.cross_boundary_reviews", GithubCrossBoundaryReviews, "Pull requests crossing the model/serving boundary approved by owners of both sides (CO-h)"),
)


# -- helpers ---------------------------------------------------------------------------------


def parse_time(value: Any) -> Optional[datetime]:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def is_bot(user: Any) -> bool:
    """Bots and apps do not count as reviewers or authors (RUBRIC §2.3 bot-only activity)."""
    if not isinstance(user, dict):
        return False
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


def login(user: Any) -> Optional[str]:
    return str(user["login"]) if isinstance(user, dict) and user.get("login") else None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scan:
    """What every section needs: the context, the client, the scan time and the repository."""

    def __init__(self, ctx: ProbeContext, gh: GitHub, now: datetime):
        self.ctx = ctx
        self.gh = gh
        self.now = now
        self.base = gh.base
        self.branch: Optional[str] = None
        # merged human pull requests into the default branch, newest first, and their reviews:
        # read once by the review-practice section, reused by the latency and boundary sections
        self.merged: list[dict] = []
        self.reviews: dict[Any, list[dict]] = {}
        self.pulls_cite: Optional[Response] = None
        self.pulls_failed: Optional[Unavailable] = None

    def unknown(self, kind: str, exc: Unavailable, subject: str = "") -> Evidence:
        return self.ctx.unknown(kind, exc.reason, subject=subject, service=SERVICE, endpoint=exc.endpoint)


# -- collect ---------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    services = ctx.services
    if services is None:
        return  # run outside a scan (no service session at all)
    link = services.link(SERVICE)
    if link is None:  # not linked or offline: no request; what only GitHub can show is unknown
        state = services.states((SERVICE,))[SERVICE]
        for kind in GITHUB_ONLY:
            yield ctx.unknown(kind, f"needs the GitHub API (github {state})")  # nothing was asked: no citation
        return
    gh = GitHub(services, link)
    now = parse_time(services.observed_at) or datetime.now(tz=timezone.utc)
    scan = Scan(ctx, gh, now)
    try:
        repo = gh.get(scan.base)
    except Unavailable as exc:  # a repository we cannot read: nothing else will answer either
        for kind in _kinds_to_observe(ctx):
            yield scan.unknown(kind, exc)
        return
    branch = repo.data.get("default_branch") if isinstance(repo.data, dict) else None
    scan.branch = str(branch) if branch else None
    yield from _branch_rules(scan)
    yield from _codeowners_errors(scan)
    yield from _workflows(scan)
    yield from _environments(scan)
    yield from _review_practice(scan)
    yield from _commits_via_pr(scan)
    yield from _review_latency(scan)
    yield from _cross_boundary_reviews(scan)


def _kinds_to_observe(ctx: ProbeContext) -> list[str]:
    kinds = [k.name for k in KINDS]
    if not _workflow_paths(ctx):
        kinds.remove("github.workflow")
    if not _codeowners_path(ctx):
        kinds.remove("github.codeowners_errors")
    return kinds


# -- branch rules ----------------------------------------------------------------------------


def _branch_rules(scan: Scan) -> Iterator[Evidence]:
    """Rulesets (metadata read) and the branch summary first; classic protection (admin) only
    when the review rules are still unknown and the branch is, or may be, protected.

    An endpoint that refuses (403/404) makes the observation ``unknown`` (with every refused
    endpoint in the reason) unless the other sources already show the review rules.
    """
    kind = "github.branch_rules"
    if scan.branch is None:
        return
    branch = scan.branch
    where = f"{scan.base}/branches/{quote(branch, safe='/')}"
    merged = _Rules()
    failures: list[Unavailable] = []
    rules_answer = summary_answer = classic_answer = None
    rules_refused = classic_refused = None
    try:
        rules, rules_answer = scan.gh.items(f"{scan.base}/rules/branches/{quote(branch, safe='/')}",
                                            {"per_page": 100}, max_pages=3, limit=300)
        merged.add_ruleset(rules)
    except Unavailable as exc:
        failures.append(exc)
        rules_refused = exc
    protected: Optional[bool] = None
    try:
        summary_answer = scan.gh.get(where)
        if isinstance(summary_answer.data, dict):
            protected = bool(summary_answer.data.get("protected"))
            merged.add_summary(_dig(summary_answer.data, "protection", "required_status_checks"))
    except Unavailable as exc:
        failures.append(exc)
    if not merged.has_review_rule and protected is not False:
        try:
            classic_answer = scan.gh.get(f"{where}/protection")
            merged.add_classic(classic_answer.data)
        except Unavailable as exc:
            failures.append(exc)
            classic_refused = exc
    refused = classic_refused or (rules_refused if not merged.has_review_rule else None)
    if refused is not None:
        reason = "; ".join(f.reason for f in failures)
        yield scan.ctx.unknown(kind, reason, subject=branch, service=SERVICE, endpoint=refused.endpoint)
        return
    if not merged.observed():
        return  # the API answered: no ruleset and no protection on the default branch
    cite = rules_answer if "ruleset" in merged.sources else (classic_answer or summary_answer)
    assert cite is not None
    yield scan.ctx.service_evidence(kind, merged.attributes(branch), service=SERVICE, response=cite,
                                    subject=branch, strength=Strength.enforced)


class _Rules:
    """The effective rules over rulesets and classic protection (the strictest of each)."""

    def __init__(self) -> None:
        self.sources: set[str] = set()
        self.approvals = 0
        self.code_owner = self.dismiss_stale = self.last_push = False
        self.checks: set[str] = set()
        self.summary = False  # the branch summary showed required checks
        self.has_review_rule = False

    def add_ruleset(self, rules: list[dict]) -> None:
        """``GET /rules/branches/{b}``: every active rule, from repository and organisation rulesets."""
        for rule in rules:
            params = rule.get("parameters") if isinstance(rule.get("parameters"), dict) else {}
            self.sources.add("ruleset")
            if rule.get("type") == "pull_request":
                self.has_review_rule = True
                self._review(params.get("required_approving_review_count"), params.get("require_code_owner_review"),
                             params.get("dismiss_stale_reviews_on_push"), params.get("require_last_push_approval"))
            elif rule.get("type") == "required_status_checks":
                self.checks |= {str(c["context"]) for c in params.get("required_status_checks") or []
                                if isinstance(c, dict) and c.get("context")}

    def add_summary(self, checks: Any) -> None:
        """``GET /branches/{b}``: required status checks, visible without admin. It is a summary
        (it may repeat what rulesets require), so it names a source only when nothing else does."""
        if not isinstance(checks, dict):
            return
        found = _contexts(checks)
        self.checks |= found
        self.summary |= bool(found)

    def add_classic(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        self.sources.add("classic")
        reviews = data.get("required_pull_request_reviews")
        if isinstance(reviews, dict):
            self.has_review_rule = True
            self._review(reviews.get("required_approving_review_count"), reviews.get("require_code_owner_reviews"),
                         reviews.get("dismiss_stale_reviews"), reviews.get("require_last_push_approval"))
        checks = data.get("required_status_checks")
        if isinstance(checks, dict):
            self.checks |= _contexts(checks)

    def _review(self, approvals: Any, code_owner: Any, dismiss: Any, last_push: Any) -> None:
        if isinstance(approvals, int):
            self.approvals = max(self.approvals, approvals)
        self.code_owner |= code_owner is True
        self.dismiss_stale |= dismiss is True
        self.last_push |= last_push is True

    def observed(self) -> bool:
        return bool(self.sources) or self.summary

    def attributes(self, branch: str) -> GithubBranchRules:
        sources = self.sources or {"classic"}
        return GithubBranchRules(
            branch=branch, source="+".join(sorted(sources, reverse=True)), required_approvals=self.approvals,
            code_owner_review=self.code_owner, required_status_checks=sorted(self.checks),
            status_checks=len(self.checks), dismiss_stale=self.dismiss_stale, last_push_approval=self.last_push,
        )


def _contexts(checks: dict) -> set[str]:
    found = {str(c) for c in checks.get("contexts") or [] if c}
    found |= {str(c["context"]) for c in checks.get("checks") or [] if isinstance(c, dict) and c.get("context")}
    return found


# -- CODEOWNERS ------------------------------------------------------------------------------


def _codeowners_path(ctx: ProbeContext) -> Optional[str]:
    return next((p for p in CODEOWNERS_ORDER if p in ctx.paths), None)


def _codeowners_errors(scan: Scan) -> Iterator[Evidence]:
    path = _codeowners_path(scan.ctx)
    if path is None:
        return
    kind = "github.codeowners_errors"
    try:
        response = scan.gh.get(f"{scan.base}/codeowners/errors")
    except Unavailable as exc:
        yield scan.unknown(kind, exc)
        return
    errors = response.data.get("errors") if isinstance(response.data, dict) else None
    if not isinstance(errors, list):
        yield scan.ctx.unknown(kind, f"{response.endpoint} did not list errors", service=SERVICE, endpoint=response.endpoint)
        return
    downgrades = [f"GitHub reports {len(errors)} error(s) in {path}"] if errors else []
    yield scan.ctx.service_evidence(kind, GithubCodeownersErrors(path=path, errors=len(errors)), service=SERVICE,
                                    response=response, strength=Strength.mention if errors else Strength.configured,
                                    downgrades=downgrades)


# -- workflows -------------------------------------------------------------------------------


def _workflow_paths(ctx: ProbeContext) -> list[str]:
    return [p for p in ctx.paths if p.startswith(".github/workflows/")]


def _workflows(scan: Scan) -> Iterator[Evidence]:
    paths = _workflow_paths(scan.ctx)
    if not paths:
        return
    kind = "github.workflow"
    try:
        listed, first = scan.gh.items(f"{scan.base}/actions/workflows", {"per_page": 100}, key="workflows",
                                      max_pages=3, limit=300)
    except Unavailable as exc:
        for path in paths:
            yield scan.unknown(kind, exc, subject=path)
        return
    by_path = {str(w["path"]): w for w in listed if w.get("path")}
    pipelines = {p.path: p for p in scan.ctx.facts.ci.pipelines if p.system == "github_actions"}
    for index, path in enumerate(paths):
        pipeline = pipelines.get(path)
        if index >= MAX_WORKFLOWS:
            yield scan.ctx.unknown(kind, f"not inspected: more than {MAX_WORKFLOWS} workflow files", subject=path,
                                   service=SERVICE, endpoint=first.endpoint)
            continue
        workflow = by_path.get(path)
        if workflow is None:
            yield scan.ctx.service_evidence(kind, _unregistered(path, pipeline), service=SERVICE, response=first,
                                            subject=path, strength=Strength.mention,
                                            downgrades=["GitHub does not list this workflow: it never ran on the default branch"])
            continue
        try:
            yield _workflow(scan, workflow, path, pipeline)
        except Unavailable as exc:
            yield scan.unknown(kind, exc, subject=path)


def _unregistered(path: str, pipeline: Optional[Pipeline]) -> GithubWorkflow:
    return GithubWorkflow(
        path=path, name=pipeline.name if pipeline else path, state="unregistered", roles=_roles(pipeline),
        scheduled=bool(pipeline and any(t.type == "schedule" for t in pipeline.triggers)), runs_90d=0,
        last_success=None, last_success_by_event={}, fresh=False, fresh_schedule=None, fresh_events=None, dormant=False,
    )


def _workflow(scan: Scan, workflow: dict, path: str, pipeline: Optional[Pipeline]) -> Evidence:
    runs_path = f"{scan.base}/actions/workflows/{workflow.get('id')}/runs"
    runs, response = scan.gh.items(runs_path, {"per_page": RUNS_PER_WORKFLOW}, key="workflow_runs", max_pages=1,
                                   limit=RUNS_PER_WORKFLOW)
    state = str(workflow.get("state") or "unknown")
    triggers = pipeline.triggers if pipeline else ()
    crons = [t.cron for t in triggers if t.type == "schedule" and t.cron]
    events_in_runs = {str(r.get("event")) for r in runs if r.get("event")}
    scheduled = any(t.type == "schedule" for t in triggers) or "schedule" in events_in_runs
    # triggers that fire by themselves; a manual `workflow_dispatch` next to them may never be used
    event_driven = (any(t.type not in ("schedule", "manual") for t in triggers) if pipeline
                    else bool(events_in_runs - {"schedule", "workflow_dispatch"}))
    last = _last_success_by_event(runs)
    if scheduled and "schedule" not in last and state == "active":
        # busy push/PR workflows can push every scheduled run out of the latest page: ask directly
        extra, _ = scan.gh.items(runs_path, {"event": "schedule", "status": "success", "per_page": 1},
                                 key="workflow_runs", max_pages=1, limit=1)
        last.update(_last_success_by_event(extra))
    window_start = scan.now - WINDOW_EVENTS
    recent = [r for r in runs if (parse_time(r.get("created_at")) or window_start) >= window_start]
    fresh_schedule = _schedule_fresh(last.get("schedule"), crons, scan.now) if scheduled else None
    fresh_events = None
    dormant = False
    if event_driven:
        fresh_events = any((parse_time(when) or window_start) > window_start
                           for event, when in last.items() if event != "schedule")
        dormant = not any(r.get("event") != "schedule" for r in recent)
    known = [v for v in (fresh_schedule, fresh_events) if v is not None]
    fresh = all(known) if known else any((parse_time(w) or window_start) > window_start for w in last.values())
    attrs = GithubWorkflow(
        path=path, name=str(workflow.get("name") or path), state=state, roles=_roles(pipeline), scheduled=scheduled,
        runs_90d=len(recent), last_success=max(last.values(), key=lambda w: parse_time(w) or window_start, default=None),
        last_success_by_event=dict(sorted(last.items())), fresh=fresh, fresh_schedule=fresh_schedule,
        fresh_events=fresh_events, dormant=dormant,
    )
    if state != "active":
        return scan.ctx.service_evidence("github.workflow", attrs, service=SERVICE, response=response, subject=path,
                                         strength=Strength.mention, downgrades=[f"workflow disabled ({state})"])
    strength = Strength.executed if fresh else Strength.configured
    return scan.ctx.service_evidence("github.workflow", attrs, service=SERVICE, response=response, subject=path,
                                     strength=strength)


def _last_success_by_event(runs: list[dict]) -> dict[str, str]:
    """Event -> the latest successful run's completion time (``updated_at``), as GitHub wrote it."""
    found: dict[str, tuple[datetime, str]] = {}
    for run in runs:
        if run.get("conclusion") != "success" or not run.get("event"):
            continue
        text = run.get("updated_at") or run.get("created_at")
        when = parse_time(text)
        if when is None:
            continue
        event = str(run["event"])
        if event not in found or when > found[event][0]:
            found[event] = (when, str(text))
    return {event: text for event, (_, text) in found.items()}


def _schedule_fresh(last: Optional[str], crons: list[str], now: datetime) -> bool:
    """RUBRIC §2.2: within twice the cron interval (the tightest cron of the workflow)."""
    when = parse_time(last)
    if when is None:
        return False
    intervals = [i for i in (interval_minutes(c) for c in crons) if i]
    max_age = timedelta(minutes=2 * min(intervals)) if intervals else DEFAULT_SCHEDULE_AGE
    return now - when <= max_age


def _roles(pipeline: Optional[Pipeline]) -> list[str]:
    """What the workflow file does, for rules that need "the workflow that runs the tests"."""
    roles: set[str] = set()
    if pipeline is None:
        return []
    for job in pipeline.jobs:
        if job.disabled:
            continue
        if job.environment:
            roles.add("deploy")
        for step in job.steps:
            if step.disabled:
                continue
            types = {t.type for t in step.triggers} if step.triggers is not None else job.trigger_types()
            for command in step.commands():
                for inv in invocations(command):
                    if (test_runner(inv) and types & {"push", "pull_request"} and not job.non_blocking
                            and not step.command_non_blocking(command)):
                        roles.add("tests")
                    if training_command(inv):
                        roles.add("training")
    return sorted(roles)


# -- environments and deployments ------------------------------------------------------------


def _environments(scan: Scan) -> Iterator[Evidence]:
    kind = "github.environment"
    names: list[str] = []
    try:
        listed, response = scan.gh.items(f"{scan.base}/environments", {"per_page": 100}, key="environments",
                                         max_pages=2, limit=200)
    except Unavailable as exc:
        yield scan.unknown(kind, exc)
        listed, response = [], None
    for env in sorted(listed, key=lambda e: str(e.get("name"))):
        name = str(env.get("name") or "")
        if not name or response is None:
            continue
        names.append(name)
        attrs = _environment(name, env.get("protection_rules"))
        strength = Strength.enforced if attrs.required_reviewers else Strength.configured
        yield scan.ctx.service_evidence(kind, attrs, service=SERVICE, response=response, subject=name, strength=strength)
    production = [n for n in names if _PRODUCTION.search(n)] or ["production"]
    for name in production[:MAX_PROD_ENVIRONMENTS]:
        yield from _deployments(scan, name)


def _environment(name: str, rules: Any) -> GithubEnvironment:
    reviewers, self_review, wait = 0, False, 0
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        if rule.get("type") == "required_reviewers":
            reviewers = max(reviewers, len([r for r in rule.get("reviewers") or [] if isinstance(r, dict)]))
            self_review |= rule.get("prevent_self_review") is True
        elif rule.get("type") == "wait_timer" and isinstance(rule.get("wait_timer"), int):
            wait = max(wait, rule["wait_timer"])
    return GithubEnvironment(name=name, required_reviewers=reviewers, prevent_self_review=self_review, wait_timer=wait,
                             production=bool(_PRODUCTION.search(name)))


def _deployments(scan: Scan, environment: str) -> Iterator[Evidence]:
    kind = "github.deployments"
    try:
        deployments, response = scan.gh.items(f"{scan.base}/deployments", {"environment": environment, "per_page": 30},
                                              max_pages=2, limit=MAX_DEPLOYMENTS)
        if not deployments:
            return  # the API answered: no deployment to this environment
        window_start = scan.now - WINDOW_EVENTS
        successful, automated = 0, False
        last: Optional[tuple[datetime, str]] = None
        for deployment in deployments[:MAX_STATUS_LOOKUPS]:
            created = parse_time(deployment.get("created_at")) or window_start
            if created < window_start and last is not None:
                break  # newest first: nothing older can change the counts
            statuses, _ = scan.gh.items(f"{scan.base}/deployments/{deployment.get('id')}/statuses", {"per_page": 10},
                                        max_pages=1, limit=10)
            times = [(parse_time(s.get("created_at")), str(s.get("created_at"))) for s in statuses
                     if s.get("state") == "success"]
            times = [(w, t) for w, t in times if w is not None]
            if not times:
                continue
            best = max(times)
            last = best if last is None or best[0] > last[0] else last
            if created >= window_start:
                successful += 1
                automated |= is_bot(deployment.get("creator")) or bool(deployment.get("performed_via_github_app"))
    except Unavailable as exc:
        yield scan.unknown(kind, exc, subject=environment)
        return
    attrs = GithubDeployments(environment=environment, total=len(deployments), successful_90d=successful,
                              last_success=last[1] if last else None, automated=automated)
    strength = Strength.executed if successful else Strength.configured
    yield scan.ctx.service_evidence(kind, attrs, service=SERVICE, response=response, subject=environment,
                                    strength=strength)


# -- pull requests and commits ---------------------------------------------------------------


def _review_practice(scan: Scan) -> Iterator[Evidence]:
    kind = "github.review_practice"
    params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": MAX_PRS}
    merged: list[dict] = []
    first = None
    try:
        for response in scan.gh.pages(f"{scan.base}/pulls", params, max_pages=PR_PAGES):
            first = first or response
            if not isinstance(response.data, list):
                raise Unavailable(f"{response.endpoint} did not answer a list", response.endpoint)
            for pr in response.data:
                if (isinstance(pr, dict) and pr.get("merged_at") and not is_bot(pr.get("user"))
                        and (scan.branch is None or _dig(pr, "base", "ref") == scan.branch)):
                    merged.append(pr)
            if len(merged) >= MAX_PRS:
                break
        merged = merged[:MAX_PRS]
        reviewed = sum(1 for pr in merged if _approvers(scan, pr))
    except Unavailable as exc:
        scan.pulls_failed = exc
        yield scan.unknown(kind, exc)
        return
    assert first is not None
    scan.merged, scan.pulls_cite = merged, first
    attrs = GithubReviewPractice(merged_prs=len(merged), reviewed_by_other=reviewed,
                                 share=round(reviewed / len(merged), 4) if merged else 0.0, window=MAX_PRS)
    yield scan.ctx.service_evidence(kind, attrs, service=SERVICE, response=first, strength=Strength.executed)


def _reviews(scan: Scan, pr: dict) -> list[dict]:
    """The pull request's reviews, oldest first (one page of 100: the first review is on it)."""
    number = pr.get("number")
    if number not in scan.reviews:
        reviews, _ = scan.gh.items(f"{scan.base}/pulls/{number}/reviews", {"per_page": 100}, max_pages=1, limit=100)
        scan.reviews[number] = reviews
    return scan.reviews[number]


def _approvers(scan: Scan, pr: dict) -> set[str]:
    """Logins of the humans other than the author who approved."""
    author = login(pr.get("user"))
    found = set()
    for review in _reviews(scan, pr):
        name = login(review.get("user"))
        if review.get("state") == "APPROVED" and name not in (None, author) and not is_bot(review.get("user")):
            found.add(str(name))
    return found


def _commits_via_pr(scan: Scan) -> Iterator[Evidence]:
    """A bounded sample: the latest human commits of 180 days, each asked for its pull request."""
    if scan.branch is None:
        return
    kind = "github.commits_via_pr"
    since = _iso(scan.now - WINDOW_COMMITS)
    try:
        commits, response = scan.gh.items(f"{scan.base}/commits", {"sha": scan.branch, "since": since, "per_page": 30},
                                          max_pages=1, limit=30)
        human = [c for c in commits if not is_bot(c.get("author"))
                 and not str(_dig(c, "commit", "author", "name") or "").endswith("[bot]")][:MAX_COMMITS]
        via = 0
        for commit in human:
            pulls = scan.gh.get(f"{scan.base}/commits/{commit.get('sha')}/pulls")
            if any(isinstance(p, dict) and p.get("merged_at") and _dig(p, "base", "ref") == scan.branch
                   for p in (pulls.data if isinstance(pulls.data, list) else [])):
                via += 1
    except Unavailable as exc:
        yield scan.unknown(kind, exc, subject=scan.branch)
        return
    attrs = GithubCommitsViaPr(branch=scan.branch, commits=len(human), via_pr=via,
                               share=round(via / len(human), 4) if human else 0.0, window_days=WINDOW_COMMITS.days)
    yield scan.ctx.service_evidence(kind, attrs, service=SERVICE, response=response, subject=scan.branch,
                                    strength=Strength.executed)


# -- review latency (CO-e, CO 4.4) ------------------------------------------------------------


def _review_latency(scan: Scan) -> Iterator[Evidence]:
    """The merged pull requests' waits for a first review; their reviews are already read."""
    kind = "github.review_latency"
    if scan.pulls_failed is not None:
        yield scan.unknown(kind, scan.pulls_failed)
        return
    if scan.pulls_cite is None:
        return
    try:
        waits = [_first_review_wait(scan, pr) for pr in scan.merged]
    except Unavailable as exc:
        yield scan.unknown(kind, exc)
        return
    known = [w for w in waits if w is not None]
    median: Optional[float] = None
    if waits:
        middle = statistics.median([w if w is not None else float("inf") for w in waits])
        median = round(middle, 2) if middle != float("inf") else None
    attrs = GithubReviewLatency(merged_prs=len(waits), reviewed=len(known),
                                within_day=sum(1 for w in known if w <= WORKING_DAY_HOURS),
                                median_weekday_hours=median, window=MAX_PRS)
    yield scan.ctx.service_evidence(kind, attrs, service=SERVICE, response=scan.pulls_cite, strength=Strength.executed)


def _first_review_wait(scan: Scan, pr: dict) -> Optional[float]:
    """Weekday hours from opening to the first submitted review (any verdict, comments included)
    by a human other than the author; None when there was none. Opening is ``created_at``: a
    pull request opened as a draft is counted from then (the list does not say when it was
    marked ready, and asking each one's timeline would cost a request per pull request)."""
    opened = parse_time(pr.get("created_at"))
    author = login(pr.get("user"))
    times = [parse_time(r.get("submitted_at")) for r in _reviews(scan, pr)
             if r.get("state") != "PENDING" and login(r.get("user")) not in (None, author)
             and not is_bot(r.get("user"))]
    submitted = [t for t in times if t is not None]
    if opened is None or not submitted:
        return None
    return weekday_hours(opened, min(submitted))


def weekday_hours(start: datetime, end: datetime) -> float:
    """Hours between two instants that fall on Monday to Friday (UTC: the team's time zone is not
    known). A Friday-evening pull request reviewed on Monday morning waited a few hours, not three
    days. Waits beyond ``MAX_SPAN_DAYS`` are cut there (far beyond any threshold anyway)."""
    total = 0.0
    cursor = start.astimezone(timezone.utc)
    end = end.astimezone(timezone.utc)
    for _ in range(MAX_SPAN_DAYS):
        if cursor >= end:
            break
        midnight = datetime.combine(cursor.date() + timedelta(days=1), time.min, tzinfo=timezone.utc)
        stop = min(midnight, end)
        if cursor.weekday() < 5:
            total += (stop - cursor).total_seconds()
        cursor = stop
    return round(total / 3600, 2)


# -- reviews across the model/serving boundary (CO-h, CO 3.2) ---------------------------------

_TEST_DIRS = frozenset({"tests", "test", "testing", "__tests__"})
_SERVING_DIRS = frozenset({
    "serving", "serve", "server", "inference", "api", "app", "deploy", "deployment", "deployments", "infra",
    "infrastructure", "charts", "helm", "k8s", "kubernetes", "manifests", "terraform", "docker", "service",
    "services", "endpoints",
})
_MODEL_DIRS = frozenset({
    "training", "train", "models", "model", "features", "feature_engineering", "feature_store", "pipelines",
    "pipeline", "notebooks", "experiments", "modeling", "modelling", "ml",
})
_SERVING_FILE = lazy(
    r"^Dockerfile(?:\..*)?$|^docker-compose[^/]*\.ya?ml$|\.tf$|^bentofile\.yaml$|^Chart\.yaml$|"
    r"^(?:serve|serving|server|app|api|predictor|inference|handler)(?:[_.-][^/]*)?\.py$", re.IGNORECASE)
_MODEL_FILE = lazy(
    r"^(?:train|training|fit|tune|tuning|evaluate|evaluation|features?|preprocess(?:ing)?|model)"
    r"(?:[_.-][^/]*)?\.(?:py|ipynb|ya?ml|json|toml)$|^(?:dvc\.yaml|dvc\.lock|params\.ya?ml|MLproject)$|\.dvc$",
    re.IGNORECASE)


def path_side(path: str) -> Optional[str]:
    """``model`` (training, features, pipelines), ``serving`` (serving code, APIs, deployment and
    infrastructure) or None. A directory decides before a file name (``serving/model.py`` is
    serving); tests belong to neither side."""
    parts = path.split("/")
    dirs = {part.lower() for part in parts[:-1]}
    if dirs & _TEST_DIRS:
        return None
    if dirs & _SERVING_DIRS:
        return "serving"
    if dirs & _MODEL_DIRS:
        return "model"
    if _SERVING_FILE.search(parts[-1]):
        return "serving"
    if _MODEL_FILE.search(parts[-1]):
        return "model"
    return None


def owners_of(rules: list[Rule], path: str) -> tuple[str, ...]:
    """CODEOWNERS semantics: the last matching pattern decides (an owner-less one un-owns)."""
    found: tuple[str, ...] = ()
    for rule in rules:
        if rule.regex is not None and rule.regex.match(path):
            found = rule.owners
    return found


class _Teams:
    """Members of owner teams (``GET /orgs/{org}/teams/{slug}/members``), read once per team and
    only when an approval needs it. A refusal (the token lacks organisation read) leaves the team
    unresolved; a stop (rate limit, budget, rejected token) ends the section."""

    def __init__(self, scan: Scan):
        self.scan = scan
        self.known: dict[str, Optional[frozenset[str]]] = {}
        self.failure: Optional[Unavailable] = None

    def members(self, owner: str) -> Optional[frozenset[str]]:
        name = owner.lstrip("@").lower()
        if "@" in owner.lstrip("@"):
            return None  # an e-mail owner: GitHub maps it to an account we cannot see
        if "/" not in name:
            return frozenset({name})
        if name not in self.known:
            self.known[name] = self._lookup(name)
        return self.known[name]

    def _lookup(self, name: str) -> Optional[frozenset[str]]:
        org, _, slug = name.partition("/")
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(slug, safe='')}/members"
        lookups = sum(1 for key in self.known if "/" in key)
        if lookups >= MAX_TEAM_LOOKUPS:
            self.failure = self.failure or Unavailable(f"more than {MAX_TEAM_LOOKUPS} owner teams", path)
            return None
        try:
            people, _ = self.scan.gh.items(path, {"per_page": 100}, max_pages=3, limit=300)
        except Unavailable as exc:
            if self.scan.gh.stopped:
                raise
            self.failure = self.failure or exc
            return None
        return frozenset(str(p["login"]).lower() for p in people if p.get("login"))


def _both_sides(approvers: set[str], model: set[str], serving: set[str], teams: _Teams) -> Optional[bool]:
    """True when two different approvers own, through two different owner groups, a model-side
    and a serving-side file; None when an unreadable team could have made it true."""
    if len(approvers) < 2 or not model or not serving:
        return False
    groups: dict[str, set[str]] = {a: set() for a in approvers}
    unresolved = False
    for owner in sorted(model | serving):
        members = teams.members(owner)
        if members is None:
            unresolved = True
            continue
        for approver in approvers:
            if approver.lower() in members:
                groups[approver].add(owner)
    for first in sorted(approvers):
        for second in sorted(approvers):
            if first != second and any(m != s for m in groups[first] & model for s in groups[second] & serving):
                return True
    return None if unresolved else False


def _cross_boundary_reviews(scan: Scan) -> Iterator[Evidence]:
    kind = "github.cross_boundary_reviews"
    if scan.pulls_failed is not None:
        yield scan.unknown(kind, scan.pulls_failed)
        return
    if scan.pulls_cite is None:
        return
    location = _codeowners_path(scan.ctx)
    rules: list[Rule] = []
    if location is not None:
        lines = scan.ctx.facts.lines(location)
        if lines is None:
            reason = scan.ctx.facts.problems.get(location, "unreadable")
            yield scan.ctx.unknown(kind, f"CODEOWNERS could not be read: {reason}", path=location)
            return
        rules = parse_codeowners(lines).rules
    teams = _Teams(scan)
    chosen = scan.merged[:MAX_FILE_LOOKUPS]
    crossing = both = unresolved = 0
    try:
        for pr in chosen:
            files, _ = scan.gh.items(f"{scan.base}/pulls/{pr.get('number')}/files", {"per_page": FILES_PER_PR},
                                     max_pages=1, limit=FILES_PER_PR)
            owners: dict[str, set[str]] = {"model": set(), "serving": set()}
            touched: set[str] = set()
            for entry in files:
                for name in (entry.get("filename"), entry.get("previous_filename")):
                    side = path_side(name) if isinstance(name, str) else None
                    if side is not None:
                        touched.add(side)
                        owners[side].update(owners_of(rules, name))
            if len(touched) < 2:
                continue
            crossing += 1
            verdict = _both_sides(_approvers(scan, pr), owners["model"], owners["serving"], teams)
            unresolved += verdict is None
            both += verdict is True
    except Unavailable as exc:
        yield scan.unknown(kind, exc)
        return
    if crossing and unresolved == crossing:  # nothing decided: not verifiable rather than 0%
        if teams.failure is not None:
            reason, endpoint = f"owner teams could not be resolved: {teams.failure.reason}", teams.failure.endpoint
        else:
            reason, endpoint = "owners are e-mail addresses, which cannot be matched to reviewers", None
        yield scan.ctx.unknown(kind, reason, service=SERVICE, endpoint=endpoint or scan.pulls_cite.endpoint)
        return
    decided = crossing - unresolved
    attrs = GithubCrossBoundaryReviews(examined=len(chosen), crossing=crossing, both_sides=both, unresolved=unresolved,
                                       share=round(both / decided, 4) if decided else 0.0,
                                       codeowners=location if rules else None, window=MAX_FILE_LOOKUPS)
    yield scan.ctx.service_evidence(kind, attrs, service=SERVICE, response=scan.pulls_cite, strength=Strength.executed)


PROBE = Probe(
    id="github",
    title="GitHub: workflow runs, branch rules, environments, deployments, reviews (REST, read-only)",
    patterns=(".github/workflows/*.yml", ".github/workflows/*.yaml", ".github/CODEOWNERS", "CODEOWNERS",
              "docs/CODEOWNERS"),
    kinds=KINDS,
    collect=collect,
    services=("github",),
)

