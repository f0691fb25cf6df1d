"""The MLflow store a repository is linked to, read-only: registry, promotion markers, lineage, runs.

The repo-side ``mlflow`` probe says what the code *means* to do; this probe asks the store what
*happened* (RUBRIC.md §3.2 ET-f/g/h/l, §3.3 MD-d/e, §3.5 GV-g, §5.3):

* ``mlflow.server.registry``: registered models and versions exist (MD-d);
* ``mlflow.server.production_marker``: a version holds an alias or a legacy stage (MD-e), and
  whether it carries a description and an owner tag (GV-g);
* ``mlflow.server.lineage`` / ``mlflow.server.recent_lineage``: the share of production (or
  recently registered) versions whose run names a git commit that is in *this* repository's
  history, and logged a dataset with a digest (ET-g, ET-h), and came from automation (ET-l);
* ``mlflow.server.staleness`` / ``mlflow.server.deploy_frequency``: age of the production version
  and registration cadence, measured against the scan time, never the wall clock;
* ``mlflow.server.runs``: experiments, runs, recency, distinct users, automated runs (ET-f/l), and
  how many people share one experiment (CO-j);
* ``mlflow.server.promotion``: one per production version, its audit record (GV-m, MD-t): the
  run, its commit in this repository, its dataset input (digest, source: DM 4.3), the version's
  description (why), an approver tag (who) and a CI run id among its tags (promoted by a job);
* ``mlflow.server.model_card``: whether this repository's model card is current for the
  production version (GV 3.4): it names the version, or was committed after the version was
  created.

What the registry cannot show: *who set* an alias or stage (OSS MLflow keeps no alias history or
actor), past promotions (only the versions holding a marker now), and whether promotion *could*
happen without the metadata (no pre-promotion hook: webhooks fire after the write; permissions
are not listable). The audit record is therefore read from what the promoting job writes on the
version: tags and description.

Where the store is read from:

* the linked tracking URI (``--mlflow-uri``, ``MLFLOW_TRACKING_URI``, ``.mlscan.yaml``): an
  ``http(s)://`` server or ``databricks`` workspace over REST (``/api/2.0/mlflow/...``) through the
  scan's :class:`~scanner.services.ServiceSession` (cached, budgeted, timed out, every page
  followed); a ``sqlite:///`` file opened read-only with the standard library; a ``file:`` store
  (``mlruns/``) read as YAML. Evidence is ``executed``, cited by endpoint and response digest;
* a store committed to the repository (``mlruns/``, ``mlflow.db``): read the same way, but it is a
  local store frozen in git, so its evidence is a downgraded ``mention`` (ET-d).

A store that cannot be read is ``unknown`` evidence with the reason (timed out, authentication
required, unreachable, unknown schema), and an unreachable service is marked so the engine reports
"not verifiable" instead of "failed". ``mlflow`` itself is never imported: it costs seconds and
the REST API and the sqlite schema are stable, documented data formats.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import re
import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Literal, Optional, Union
from urllib.parse import quote, unquote, urlsplit

from scanner.facts.yamldoc import YamlError, load_all
from scanner.models import Evidence, Outcome, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext, measurement
from scanner.services import Response, ServiceError, ServiceLink
from scanner.snapshot import FileSkipped

# -- attribute models -------------------------------------------------------------------------

StoreKind = Literal["rest", "sqlite", "file"]


class RegistryUse(Attributes):
    store: StoreKind
    models: int = measurement()
    versions: int = measurement()
    latest_version_created: Optional[str] = measurement(default=None)  # ISO date (UTC)
    complete: bool = measurement(default=True)  # False: a page or row cap cut the listing short


class ProductionMarker(Attributes):
    model: str
    marker: Literal["alias", "stage"]
    name: str  # the alias (champion, production...) or the stage (Production, Staging)
    version: str
    production: bool  # the name marks production (champion/production/prod/live...; stage Production)
    described: bool = False  # the version, or else its registered model, has a description (GV-g)
    owner: bool = False  # an owner/team tag on the version or its registered model (GV-g)


class Lineage(Attributes):
    aliased_versions: int = measurement()  # versions holding a production alias or stage
    with_run: int = measurement()  # ... whose run exists
    with_commit: int = measurement()  # ... whose run has mlflow.source.git.commit
    commit_in_history: int = measurement()  # ... and that commit is in this repository's history
    with_dataset: int = measurement()  # ... whose run logged a dataset input with a digest
    automated: int = measurement()  # ... whose run came from a job, project or CI
    completeness: float = measurement()  # share with run -> commit in history -> dataset (ET-4.2)
    commit_share: float = measurement()  # commit_in_history / aliased_versions (ET-g, GV-2.3)
    dataset_share: float = measurement()  # with_dataset / aliased_versions (ET-h)
    automated_share: float = measurement()  # automated / aliased_versions (ET-l)
    history_checked: bool = True  # False: no git history to cross-check commits against


class RecentLineage(Attributes):
    window_days: int
    versions: int = measurement()  # versions registered in the window
    checked: int = measurement()  # the most recent ones looked at (at most MAX_RECENT_CHECKS)
    with_run: int = measurement()
    with_commit: int = measurement()
    commit_in_history: int = measurement()
    with_dataset: int = measurement()
    commit_share: float = measurement()  # commit_in_history / checked (ET-3.1)
    dataset_share: float = measurement()  # with_dataset / checked (ET-3.2)


class Staleness(Attributes):
    model: str
    days: int = measurement()  # since the production version was created, at scan time
    version: str = measurement(default="")


class DeployFrequency(Attributes):
    model: str
    versions_per_month: float = measurement()  # versions registered per 30.4 days, last 180 days
    versions_180d: int = measurement()


class RunActivity(Attributes):
    store: StoreKind
    experiments: int = measurement()
    runs: int = measurement()
    recent_runs_180d: int = measurement()
    users: int = measurement()  # distinct mlflow.user / run owners
    automated_runs: int = measurement()  # source type JOB/PROJECT, a CI run id tag, a Databricks job
    last_run: Optional[str] = measurement(default=None)  # ISO date (UTC) of the latest run start
    complete: bool = measurement(default=True)
    # CO-j, over runs started in the last 180 days: distinct users, and people (CI and service
    # accounts excluded) who logged to one same experiment
    recent_users_180d: int = measurement(default=0)
    max_humans_per_experiment: int = measurement(default=0)
    shared_experiments: int = measurement(default=0)  # experiments with runs of >= 2 people


class Promotion(Attributes):
    """A version holding a production marker now, and the audit record the registry keeps of it."""

    model: str
    version: str
    markers: list[str]  # the production aliases / stage holding it, sorted
    run: bool  # its source run exists
    commit_in_history: bool  # ... and ran from a commit of this repository
    data_digest: bool  # ... and logged a dataset input with a digest (or a data-hash tag/param)
    dataset_input: bool  # ... a logged dataset input (``inputs.dataset_inputs``) with a digest
    dataset_source: bool  # ... that also records where the data came from (DM 4.3)
    described: bool  # the version's own description: why it was built or promoted
    approval: bool  # an approval record among the version's tags (an approver, or a positive status)
    approver: bool  # a tag naming who approved or promoted it
    promoted_by_ci: bool  # a CI run id among the version's tags: a job wrote them (MD-t)
    audit_complete: bool  # run, commit in history, data digest, description and approver (GV-m)
    missing: list[str]  # what the audit record lacks, sorted
    history_checked: bool = True  # False: no git history to cross-check the commit against
    created: Optional[str] = measurement(default=None)  # ISO date (UTC) the version was created


class ModelCardSync(Attributes):
    """The production version against the model card committed in this repository (GV 3.4)."""

    model: str
    version: str
    card: Optional[str]  # the card taken as this model's; None: no card in the repository is
    names_version: bool  # the card names the version (``models:/m/3``, "model version: 3")
    updated_after_version: bool  # the card's last commit is at or after the version's creation
    current: bool  # either of the two
    history_checked: bool = True
    card_updated: Optional[str] = measurement(default=None)  # ISO date of the card's last commit
    version_created: Optional[str] = measurement(default=None)


# -- limits and vocabulary ----------------------------------------------------------------------

API = "/api/2.0/mlflow"
PAGE_SIZE = 1000  # MLflow answers 400 above 1000 for registry searches; tests lower it
MAX_PAGES = 50  # per listing: 50,000 items at the default page size
MAX_RUN_PAGES = 20  # runs/search pages read for the activity counts (newest first)
MAX_EXPERIMENTS_PER_SEARCH = 100
MAX_RUN_LOOKUPS = 100  # runs/get calls for lineage
MAX_LINEAGE_VERSIONS = 100
MAX_RECENT_CHECKS = 50
# The scan time is kept to the second; a version or run created later in that same second is
# not "in the future".
CLOCK_SLACK_MS = 1000
RECENT_LINEAGE_DAYS = 90  # RUBRIC ET-3.1
RECENT_RUN_DAYS = 180  # RUBRIC ET-2.3
FREQUENCY_DAYS = 180
DAY_MS = 86_400_000
MAX_DB_BYTES = 64 * 1024 * 1024  # a committed sqlite store read into a temporary copy
MAX_SQL_ROWS = 500_000
MAX_SQL_STEPS = 200_000  # progress-handler calls (x1000 VM instructions) before a query is cut
MAX_STORE_FILES = 50_000  # entries listed in a file store on disk
MAX_META_BYTES = 1024 * 1024

COMMITTED = "MLflow store committed to git: a local store, not a shared registry (ET-d)"
UNREACHABLE_STATUSES = frozenset({401, 403, 407, 429})
HIDDEN_STAGES = frozenset({"", "none", "archived", "deleted_internal"})
RUN_SOURCE_TYPES = {1: "NOTEBOOK", 2: "JOB", 3: "PROJECT", 4: "LOCAL", 1000: "UNKNOWN"}
AUTOMATED_SOURCES = frozenset({"JOB", "PROJECT"})
OWNER_KEYS = frozenset({"owner", "owners", "model_owner", "owner_email", "team", "maintainer", "maintainers"})
COMMIT_TAG = "mlflow.source.git.commit"
_PRODUCTION = lazy(r"^(?:champion|prod(?:uction)?(?:[-_.].*)?|live|serving|deployed|current|stable)$", re.IGNORECASE)
_CI_TAG = lazy(
    r"(?:^|[._])(?:github_run_id|ci_pipeline_id|ci_job_id|buildkite_build_id|circle_build_num|"
    r"build_buildid|jenkins_build_id|build_id|ci_run_id)$|^mlflow\.databricks\.job(?:run)?id$",
    re.IGNORECASE,
)
_DATA_HASH = lazy(r"(?:dvc|data(?:set)?)[._-]?(?:md5|hash|digest|rev|version)$", re.IGNORECASE)
# Audit tags on a model version: who approved or promoted it, or an approval status.
_APPROVER_KEY = lazy(
    r"^(?:approved[_-]?by|approvers?|reviewed[_-]?by|reviewers?|signed[_-]?off[_-]?by|sign[_-]?off[_-]?by|"
    r"promoted[_-]?by|validated[_-]?by)$", re.IGNORECASE)
_APPROVAL_KEY = lazy(
    r"^(?:(?:model[_-]?)?(?:approval|validation|review)[_-]?status|approval|approved|sign[_-]?off|signoff)$",
    re.IGNORECASE)
_POSITIVE = frozenset({"approved", "passed", "pass", "true", "yes", "ok", "validated", "accepted", "signed_off",
                       "signed-off", "signed off"})
_BLANK = frozenset({"", "none", "null", "n/a", "na", "-", "tbd", "todo", "pending", "unknown", "false", "no"})
# Users that are automation, not people (CO-j counts people): bots, CI and service accounts,
# Databricks service principals (application ids).
_SERVICE_USER = lazy(
    r"\[bot\]$|^(?:github-actions|gitlab-ci|gitlab-runner|jenkins|buildkite|circleci|azure-?pipelines|"
    r"runner|root|airflow|ci|cd|bot|robot|automation)$|^(?:svc|sa|ci|bot)[-_.]|"
    r"[-_.](?:bot|ci|svc|sa|service|automation|robot|runner)$|service[-_.]?principal|"
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# A model card committed to the repository (same file names the model_card probe reads)
_CARD = lazy(r"(?:^|/)(?:model[_-]?card[^/]*|modelcard[^/]*)\.(?:md|json)$", re.IGNORECASE)
_CARD_CONTEXT = lazy(r"model|regist|production|champion|serving|deployed|release", re.IGNORECASE)
MAX_CARD_LINES = 5000
_SHA = lazy(r"^[0-9a-f]{7,64}$")
_LFS = b"version https://git-lfs"

REGISTRY_KINDS = (
    "mlflow.server.registry", "mlflow.server.production_marker", "mlflow.server.lineage",
    "mlflow.server.recent_lineage", "mlflow.server.staleness", "mlflow.server.deploy_frequency",
    "mlflow.server.promotion", "mlflow.server.model_card",
)
RUN_KINDS = ("mlflow.server.runs",)

STORE_PATTERNS = (
    "**/mlruns/**/meta.yaml",
    "**/mlruns/**/tags/*",
    "**/mlruns/**/aliases/*",
    "**/mlflow*.db",
    "**/mlruns*.db",
)
_MODEL, _CARD_WORD = "[Mm][Oo][Dd][Ee][Ll]", "[Cc][Aa][Rr][Dd]"
CARD_PATTERNS = tuple(f"**/*{_MODEL}{sep}{_CARD_WORD}*.{ext}" for sep in ("[_-]", "") for ext in ("md", "json"))
PATTERNS = STORE_PATTERNS + CARD_PATTERNS


# -- what a store yields, whatever it is --------------------------------------------------------


class StoreError(Exception):
    """The store gave no usable answer. ``unreachable``: the service itself is down or locked."""

    def __init__(self, reason: str, *, endpoint: Optional[str] = None, path: Optional[str] = None,
                 unreachable: bool = False, status: Optional[int] = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.endpoint = endpoint
        self.path = path
        self.unreachable = unreachable


@dataclass
class Model:
    name: str
    described: bool = False
    owner: bool = False
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version


@dataclass
class Version:
    model: str
    version: str
    created: Optional[int]  # ms since the epoch
    stage: str = ""
    run_id: str = ""
    described: bool = False
    owner: bool = False
    approval: bool = False  # an approval record among its tags
    approver: bool = False  # a tag naming who approved or promoted it
    ci: bool = False  # a CI run id among its tags


@dataclass
class RegistryData:
    models: list[Model]
    versions: list[Version]
    complete: bool = True


@dataclass(frozen=True)
class RunFacts:
    """What lineage and activity need of one run, not the run itself."""

    commit: str = ""
    automated: bool = False
    dataset: bool = False  # a dataset input with a digest, or a data-hash tag/param
    user: str = ""
    start: Optional[int] = None
    dataset_input: bool = False  # a logged dataset input with a digest
    dataset_source: bool = False  # ... whose dataset records its source
    experiment: str = ""


@dataclass
class RunStats:
    experiments: int
    runs: int
    recent: int
    users: int
    automated: int
    last: Optional[int]
    complete: bool = True
    recent_users: int = 0
    max_humans: int = 0
    shared: int = 0


@dataclass(frozen=True)
class RepoCite:
    path: str
    lines: Optional[tuple[int, int]] = None


Cite = Union[Response, RepoCite]


def run_facts(tags: dict[str, str], *, source_type: str = "", user: str = "", start: Optional[int] = None,
              dataset: bool = False, params: Optional[dict[str, str]] = None, dataset_source: bool = False,
              experiment: str = "") -> RunFacts:
    """One run, from its tags: ``mlflow.source.type`` JOB/PROJECT or a CI id tag means automation.
    ``dataset``: a logged dataset input with a digest; ``dataset_source``: one that names its source."""
    kind = (tags.get("mlflow.source.type") or source_type or "").upper()
    automated = kind in AUTOMATED_SOURCES or any(_CI_TAG.search(k) for k in tags)
    data_hash = any(_DATA_HASH.search(k) and v for k, v in {**(params or {}), **tags}.items())
    return RunFacts(
        commit=(tags.get(COMMIT_TAG) or "").strip(),
        automated=automated,
        dataset=dataset or data_hash,
        user=(tags.get("mlflow.user") or user or "").strip(),
        start=start,
        dataset_input=dataset,
        dataset_source=dataset and dataset_source,
        experiment=experiment,
    )


def audit_tags(tags: dict[str, str]) -> tuple[bool, bool, bool]:
    """(approval, approver, ci) from a version's tags. A key may be namespaced
    (``governance.approved_by``); a blank or negative value (``pending``, ``false``) records nothing."""
    approval = approver = ci = False
    for key, value in tags.items():
        name = re.split(r"[./]", key)[-1]
        text = value.strip().lower()
        if _APPROVER_KEY.match(name) and text not in _BLANK:
            approval = approver = True
        elif _APPROVAL_KEY.match(name) and text in _POSITIVE:
            approval = True
        if _CI_TAG.search(key) and text:
            ci = True
    return approval, approver, ci


def is_person(user: str) -> bool:
    """A user name that is not a bot, a CI runner or a service account (CO-j counts people)."""
    return bool(user) and not _SERVICE_USER.search(user)


def _int(value: Any) -> Optional[int]:
    """Protobuf JSON sends int64 as numbers or strings; sqlite and YAML as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float):
        return int(value)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _date(ms: Optional[int]) -> Optional[str]:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).date().isoformat()


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _owner(tags: dict[str, str]) -> bool:
    return any(k.lower() in OWNER_KEYS and v.strip() for k, v in tags.items())


def _pairs(items: Any) -> dict[str, str]:
    """REST ``[{key, value}]`` lists as a dict (first wins, bounded by the list)."""
    out: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out.setdefault(item["key"], _text(item.get("value")))
    return out


def _digest(rows: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


# -- REST: a tracking server or a Databricks workspace -----------------------------------------------


class RestStore:
    """Every page of the registry and run searches, through the scan's cached, budgeted session."""

    kind: StoreKind = "rest"
    committed = False

    def __init__(self, ctx: ProbeContext, base: Optional[str], headers: dict[str, str]):
        assert ctx.services is not None
        self.session = ctx.services
        self.base = base
        self.headers = headers
        self.trail: dict[str, list[Response]] = defaultdict(list)
        self._runs: dict[str, Optional[RunFacts]] = {}
        self._lookups = 0
        self.first_endpoint = f"GET {API}/registered-models/search"
        self.path: Optional[str] = None  # a service: unknowns cite the endpoint

    # -- transport --

    def _call(self, method: str, path: str, query: dict[str, Any]) -> Response:
        get = method == "GET"
        try:
            return self.session.request("mlflow", method, API + path, params=query if get else None,
                                        body=None if get else query, headers=self.headers, base=self.base)
        except ServiceError as exc:
            raise _rest_error(exc, f"{method} {API}{path}") from None

    def _pages(self, method: str, path: str, key: str, query: dict[str, Any], trail: str,
               max_pages: int = MAX_PAGES) -> tuple[list[dict], bool]:
        """Follow ``next_page_token`` until it is absent (the last page) or the page cap."""
        items: list[dict] = []
        token: Optional[str] = None
        for _ in range(max_pages):
            page = dict(query, max_results=PAGE_SIZE)
            if token:
                page["page_token"] = token
            response = self._call(method, path, page)
            self.trail[trail].append(response)
            data = response.data if isinstance(response.data, dict) else {}
            items += [x for x in data.get(key) or [] if isinstance(x, dict)]
            following = data.get("next_page_token")
            if not following or following == token:
                return items, True
            token = str(following)
        return items, False

    def cite(self, *trails: str) -> Response:
        """One citation for what was read over several pages: first endpoint, every digest."""
        pages = [page for trail in trails for page in self.trail.get(trail, [])]
        if not pages:
            return Response(data=None, endpoint=self.first_endpoint, observed_at=self.session.observed_at,
                            digest=_digest([]))
        if len(pages) == 1:
            return pages[0]
        digest = hashlib.sha256("".join(p.digest for p in pages).encode()).hexdigest()
        return Response(data=None, endpoint=f"{pages[0].endpoint} (+{len(pages) - 1} more)",
                        observed_at=pages[0].observed_at, digest="sha256:" + digest)

    # -- what the evidence needs --

    def registry(self) -> RegistryData:
        raw_models, models_ok = self._pages("GET", "/registered-models/search", "registered_models", {}, "models")
        models: dict[str, Model] = {}
        staged: dict[tuple[str, str], Version] = {}
        for item in raw_models:
            name = _text(item.get("name"))
            if not name:
                continue
            tags = _pairs(item.get("tags"))
            aliases = {}
            for entry in item.get("aliases") or []:
                if isinstance(entry, dict) and entry.get("alias"):
                    aliases[_text(entry["alias"])] = _text(entry.get("version"))
            models[name] = Model(name, described=bool(_text(item.get("description")).strip()),
                                 owner=_owner(tags), aliases=aliases)
            for latest in item.get("latest_versions") or []:  # legacy stages, also on old servers
                if isinstance(latest, dict):
                    version = _version(latest, name)
                    staged[(name, version.version)] = version
        try:
            raw_versions, versions_ok = self._pages("GET", "/model-versions/search", "model_versions", {}, "versions")
        except StoreError as exc:
            if exc.status != 400:
                raise
            raw_versions, versions_ok = self._per_model(sorted(models))
        versions = {(v.model, v.version): v for v in (_version(x) for x in raw_versions) if v.model and v.version}
        for key, version in staged.items():
            versions.setdefault(key, version)
        return RegistryData(list(models.values()), list(versions.values()), models_ok and versions_ok)

    def _per_model(self, names: list[str]) -> tuple[list[dict], bool]:
        """Servers that insist on a filter: one search per model (``name='...'``)."""
        found: list[dict] = []
        complete = True
        for name in names[:MAX_PAGES]:
            quote_char = '"' if "'" in name else "'"
            if quote_char in name:
                complete = False
                continue
            items, ok = self._pages("GET", "/model-versions/search", "model_versions",
                                    {"filter": f"name={quote_char}{name}{quote_char}"}, "versions")
            found += items
            complete = complete and ok
        return found, complete and len(names) <= MAX_PAGES

    def run_stats(self, now: int) -> RunStats:
        experiments, exp_ok = self._pages("POST", "/experiments/search", "experiments",
                                          {"view_type": "ACTIVE_ONLY"}, "experiments")
        ids = sorted({_text(e.get("experiment_id")) for e in experiments if e.get("experiment_id") is not None})
        seen: list[RunFacts] = []
        complete = exp_ok
        budget = MAX_RUN_PAGES
        for start in range(0, len(ids), MAX_EXPERIMENTS_PER_SEARCH):
            if budget <= 0:
                complete = False
                break
            chunk = ids[start:start + MAX_EXPERIMENTS_PER_SEARCH]
            query = {"experiment_ids": chunk, "order_by": ["attributes.start_time DESC"], "run_view_type": "ACTIVE_ONLY"}
            before = len(self.trail["runs"])
            runs, ok = self._pages("POST", "/runs/search", "runs", query, "runs", max_pages=budget)
            budget -= len(self.trail["runs"]) - before
            complete = complete and ok
            for run in runs:
                run_id, facts = _rest_run(run)
                if run_id:
                    self._runs[run_id] = facts
                    seen.append(facts)
        return _stats(len(experiments), seen, now, complete)

    def run(self, run_id: str) -> Optional[RunFacts]:
        if run_id in self._runs:
            return self._runs[run_id]
        if self._lookups >= MAX_RUN_LOOKUPS:
            raise StoreError(f"more than {MAX_RUN_LOOKUPS} runs to look up")
        self._lookups += 1
        try:
            response = self._call("GET", "/runs/get", {"run_id": run_id})
        except StoreError as exc:
            if exc.status == 404:  # the run was deleted for good
                self._runs[run_id] = None
                return None
            raise
        self.trail["lineage"].append(response)
        run = response.data.get("run") if isinstance(response.data, dict) else None
        facts = _rest_run(run)[1] if isinstance(run, dict) else None
        self._runs[run_id] = facts
        return facts


def _version(item: dict, model: str = "") -> Version:
    tags = _pairs(item.get("tags"))
    approval, approver, ci = audit_tags(tags)
    return Version(
        model=_text(item.get("name")) or model,
        version=_text(item.get("version")),
        created=_int(item.get("creation_timestamp")),
        stage=_text(item.get("current_stage")),
        run_id=_text(item.get("run_id")),
        described=bool(_text(item.get("description")).strip()),
        owner=_owner(tags),
        approval=approval,
        approver=approver,
        ci=ci,
    )


def _rest_run(run: dict) -> tuple[str, RunFacts]:
    info = run.get("info") if isinstance(run.get("info"), dict) else {}
    data = run.get("data") if isinstance(run.get("data"), dict) else {}
    inputs = run.get("inputs") if isinstance(run.get("inputs"), dict) else {}
    logged = [entry["dataset"] for entry in inputs.get("dataset_inputs") or []
              if isinstance(entry, dict) and isinstance(entry.get("dataset"), dict) and entry["dataset"].get("digest")]
    facts = run_facts(_pairs(data.get("tags")), source_type=_text(info.get("source_type")),
                      user=_text(info.get("user_id")), start=_int(info.get("start_time")),
                      dataset=bool(logged), params=_pairs(data.get("params")),
                      dataset_source=any(_text(d.get("source")).strip() for d in logged),
                      experiment=_text(info.get("experiment_id")))
    return _text(info.get("run_id") or info.get("run_uuid")), facts


def _rest_error(exc: ServiceError, endpoint: str) -> StoreError:
    status = exc.status
    if status in (401, 403):
        return StoreError(f"authentication required (HTTP {status} from {endpoint})", endpoint=endpoint,
                          unreachable=True, status=status)
    if status in UNREACHABLE_STATUSES or (status is not None and status >= 500):
        return StoreError(f"server answered HTTP {status} ({endpoint})", endpoint=endpoint, unreachable=True,
                          status=status)
    if status is not None:
        return StoreError(exc.reason, endpoint=endpoint, status=status)
    budget = "budget" in exc.reason
    return StoreError(exc.reason, endpoint=endpoint, unreachable=not budget)


def _stats(experiments: int, runs: list[RunFacts], now: int, complete: bool) -> RunStats:
    since = now - RECENT_RUN_DAYS * DAY_MS
    starts = [r.start for r in runs if r.start is not None]
    recent = [r for r in runs if r.start is not None and since <= r.start < now + CLOCK_SLACK_MS]
    people: dict[str, set[str]] = defaultdict(set)  # experiment -> people with a recent run in it
    for run in recent:
        if is_person(run.user):
            people[run.experiment].add(run.user)
    return RunStats(
        experiments=experiments,
        runs=len(runs),
        recent=len(recent),
        users=len({r.user for r in runs if r.user}),
        automated=sum(1 for r in runs if r.automated),
        last=max(starts) if starts else None,
        complete=complete,
        recent_users=len({r.user for r in recent if r.user}),
        max_humans=max((len(users) for users in people.values()), default=0),
        shared=sum(1 for users in people.values() if len(users) >= 2),
    )


def rest_target(link: ServiceLink) -> tuple[Optional[str], dict[str, str]]:
    """(base URL or None for the link's own, auth headers). Credentials come from the
    environment through the link and go only into request headers, never into evidence."""
    headers: dict[str, str] = {}
    if link.token:
        headers["Authorization"] = f"Bearer {link.token}"
    elif link.params.get("username"):
        secret_env = link.params.get("password_env")
        password = os.environ.get(secret_env, "") if secret_env else ""
        pair = f"{link.params['username']}:{password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    if link.url.startswith("databricks"):
        host = link.params.get("host", "").strip()
        if not host:
            raise StoreError("databricks tracking URI: DATABRICKS_HOST is not set in the environment", unreachable=True)
        if not host.startswith(("http://", "https://")):
            host = "https://" + host
        if not link.token:
            raise StoreError("databricks tracking URI: no DATABRICKS_TOKEN or MLFLOW_TRACKING_TOKEN", unreachable=True)
        return host.rstrip("/"), headers
    return None, headers


# -- sqlite: a linked sqlite:/// store or a committed mlflow.db ---------------------------------------

# Tables and columns this probe reads; a store without them has a schema it does not know.
REGISTRY_SCHEMA = {
    "registered_models": {"name", "description"},
    "model_versions": {"name", "version", "creation_time", "current_stage", "run_id", "description"},
}
TRACKING_SCHEMA = {
    "experiments": {"experiment_id", "lifecycle_stage"},
    "runs": {"run_uuid", "user_id", "start_time", "source_type", "lifecycle_stage", "experiment_id"},
    "tags": {"key", "value", "run_uuid"},
}
OPTIONAL_SCHEMA = {
    "registered_model_aliases": {"name", "alias", "version"},
    "registered_model_tags": {"name", "key", "value"},
    "model_version_tags": {"name", "version", "key", "value"},
    "inputs": {"source_type", "source_id", "destination_type", "destination_id"},
    "datasets": {"dataset_uuid", "digest"},
    "params": {"key", "value", "run_uuid"},
}


class SqliteStore:
    """The MLflow SQL schema read with plain SELECTs on a read-only connection."""

    kind: StoreKind = "sqlite"

    def __init__(self, path: str, *, label: str, observed_at: str, committed: bool = False, cite_path: str = ""):
        self.label = label
        self.observed_at = observed_at
        self.committed = committed
        self.cite_path = cite_path
        self._digests: dict[str, Any] = defaultdict(hashlib.sha256)
        mode = "ro&immutable=1" if committed else "ro"
        try:
            self.db = sqlite3.connect(f"file:{quote(path)}?mode={mode}", uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self.error(f"cannot open the sqlite store: {exc}") from None
        self._steps = 0
        self._runs: dict[str, Optional[RunFacts]] = {}
        self.db.set_progress_handler(self._progress, 1000)
        self.tables = self._schema()

    def error(self, reason: str, *, fatal: bool = True) -> StoreError:
        """A linked store that cannot be opened is not verifiable (the engine then says so); a
        committed one is an unreadable file. A missing table group (``fatal=False``) only
        hides what lives in it."""
        return StoreError(reason, endpoint=None if self.committed else self.label,
                          path=self.cite_path or None, unreachable=fatal and not self.committed)

    def _progress(self) -> int:
        self._steps += 1
        return 1 if self._steps > MAX_SQL_STEPS else 0  # non-zero aborts the query

    def close(self) -> None:
        self.db.close()

    def _rows(self, trail: str, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            rows = self.db.execute(sql, args).fetchmany(MAX_SQL_ROWS + 1)
        except sqlite3.Error as exc:
            raise self.error(f"sqlite store not readable: {exc}") from None
        self._digests[trail].update(json.dumps(rows, default=str).encode())
        return rows

    def _schema(self) -> dict[str, set[str]]:
        """The tables we know, with their columns. Views and triggers are never read: a
        database from a repository is data, and nothing in it gets to define what runs."""
        tables: dict[str, set[str]] = {}
        try:
            self.db.execute("PRAGMA trusted_schema = OFF")
            self.db.execute("PRAGMA query_only = ON")
            names = [r[0] for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 10000").fetchall()]
            if "alembic_version" not in names:
                raise self.error("not an MLflow store: no alembic_version table")
            for name in names:
                if name in REGISTRY_SCHEMA or name in TRACKING_SCHEMA or name in OPTIONAL_SCHEMA:
                    rows = self.db.execute(f'PRAGMA table_info("{name}")').fetchall()  # a known name: no quoting games
                    tables[name] = {str(c[1]) for c in rows}
        except sqlite3.Error as exc:
            raise self.error(f"not a readable sqlite database: {exc}") from None
        return tables

    def _has(self, schema: dict[str, set[str]]) -> Optional[str]:
        """None when every table and column of ``schema`` is there, else what is missing."""
        for table, columns in schema.items():
            if table not in self.tables:
                return f"no {table} table"
            missing = sorted(columns - self.tables[table])
            if missing:
                return f"{table} lacks {', '.join(missing)}"
        return None

    def revision(self) -> str:
        try:
            rows = self.db.execute("SELECT version_num FROM alembic_version LIMIT 1").fetchall()
        except sqlite3.Error:
            return "?"
        return str(rows[0][0]) if rows else "?"

    def _require(self, schema: dict[str, set[str]]) -> None:
        missing = self._has(schema)
        if missing:
            raise self.error(f"unknown MLflow schema (alembic revision {self.revision()}): {missing}", fatal=False)

    @property
    def path(self) -> Optional[str]:
        return self.cite_path if self.committed else None

    def cite(self, *trails: str) -> Cite:
        if self.committed:
            return RepoCite(self.cite_path)
        digest = hashlib.sha256("".join(self._digests[t].hexdigest() for t in trails).encode()).hexdigest()
        return Response(data=None, endpoint=f"{self.label} ({', '.join(trails)})", observed_at=self.observed_at,
                        digest="sha256:" + digest)

    def registry(self) -> RegistryData:
        self._require(REGISTRY_SCHEMA)
        model_tags: dict[str, dict[str, str]] = defaultdict(dict)
        if not self._has({"registered_model_tags": OPTIONAL_SCHEMA["registered_model_tags"]}):
            for name, key, value in self._rows("models", 'SELECT name, "key", value FROM registered_model_tags'):
                model_tags[name][_text(key)] = _text(value)
        models = {
            name: Model(name, described=bool(_text(desc).strip()), owner=_owner(model_tags[name]))
            for name, desc in self._rows("models", "SELECT name, description FROM registered_models ORDER BY name")
        }
        if not self._has({"registered_model_aliases": OPTIONAL_SCHEMA["registered_model_aliases"]}):
            for name, alias, version in self._rows("models", "SELECT name, alias, version FROM registered_model_aliases"):
                if name in models:
                    models[name].aliases[_text(alias)] = _text(version)
        version_tags: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        if not self._has({"model_version_tags": OPTIONAL_SCHEMA["model_version_tags"]}):
            sql = 'SELECT name, version, "key", value FROM model_version_tags'
            for name, version, key, value in self._rows("versions", sql)[:MAX_SQL_ROWS]:
                version_tags[(name, _text(version))][_text(key)] = _text(value)
        rows = self._rows("versions", "SELECT name, version, creation_time, current_stage, run_id, description "
                                      "FROM model_versions WHERE current_stage IS NULL "
                                      "OR current_stage != 'Deleted_Internal'")
        versions = [
            Version(name, _text(version), _int(created), _text(stage), _text(run_id), bool(_text(desc).strip()),
                    _owner(version_tags[(name, _text(version))]), *audit_tags(version_tags[(name, _text(version))]))
            for name, version, created, stage, run_id, desc in rows[:MAX_SQL_ROWS]
        ]
        return RegistryData(list(models.values()), versions, len(rows) <= MAX_SQL_ROWS)

    def run_stats(self, now: int) -> RunStats:
        self._require(TRACKING_SCHEMA)
        experiments = self._rows("runs", "SELECT COUNT(*) FROM experiments WHERE lifecycle_stage = 'active'")[0][0]
        rows = self._rows("runs", "SELECT r.run_uuid, r.user_id, r.start_time, r.source_type, r.experiment_id "
                                  "FROM runs r "
                                  "JOIN experiments e ON e.experiment_id = r.experiment_id "
                                  "WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'")
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        # only the tags that say who ran it and how: a CI id, the source type, the user
        sql = ('SELECT run_uuid, "key", value FROM tags WHERE "key" IN (\'mlflow.source.type\', \'mlflow.user\') '
               'OR upper("key") GLOB \'*_ID\' OR upper("key") GLOB \'*BUILD*\' OR "key" GLOB \'mlflow.databricks.job*\'')
        for run_id, key, value in self._rows("runs", sql):
            tags[run_id][_text(key)] = _text(value)
        seen = [run_facts(tags.get(run_id, {}), source_type=_text(source), user=_text(user), start=_int(start),
                          experiment=_text(experiment))
                for run_id, user, start, source, experiment in rows[:MAX_SQL_ROWS]]
        return _stats(int(experiments or 0), seen, now, len(rows) <= MAX_SQL_ROWS)

    def run(self, run_id: str) -> Optional[RunFacts]:
        if run_id not in self._runs:
            self._runs[run_id] = self._run(run_id)
        return self._runs[run_id]

    def _run(self, run_id: str) -> Optional[RunFacts]:
        self._require(TRACKING_SCHEMA)
        found = self._rows("lineage", "SELECT user_id, start_time, source_type, experiment_id FROM runs "
                                      "WHERE run_uuid = ?", (run_id,))
        if not found:
            return None
        user, start, source, experiment = found[0]
        tags = {_text(k): _text(v) for k, v in self._rows(
            "lineage", 'SELECT "key", value FROM tags WHERE run_uuid = ? LIMIT 5000', (run_id,))}
        params: dict[str, str] = {}
        if not self._has({"params": OPTIONAL_SCHEMA["params"]}):
            params = {_text(k): _text(v) for k, v in self._rows(
                "lineage", 'SELECT "key", value FROM params WHERE run_uuid = ? LIMIT 5000', (run_id,))}
        dataset = sourced = False
        if not self._has({"inputs": OPTIONAL_SCHEMA["inputs"], "datasets": OPTIONAL_SCHEMA["datasets"]}):
            # the source column is optional: a store without it records digests only
            source_column = "d.dataset_source" if "dataset_source" in self.tables["datasets"] else "''"
            found_inputs = self._rows(
                "lineage",
                f"SELECT {source_column} FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
                "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND i.destination_id = ? "
                "AND d.digest IS NOT NULL AND d.digest != '' LIMIT 100", (run_id,))
            dataset = bool(found_inputs)
            sourced = any(_text(row[0]).strip() for row in found_inputs)
        return run_facts(tags, source_type=_text(source), user=_text(user), start=_int(start), dataset=dataset,
                         params=params, dataset_source=sourced, experiment=_text(experiment))


# -- file stores: mlruns/ directories, committed or linked -------------------------------------------


class RepoFiles:
    """A committed ``mlruns/`` seen through the shared facts (safe YAML, size caps, access log)."""

    def __init__(self, ctx: ProbeContext, root: str, paths: list[str]):
        self.ctx = ctx
        self.root = root
        self.rels = sorted(p[len(root) + 1:] for p in paths)

    def doc(self, rel: str) -> Any:
        docs = self.ctx.facts.yaml(f"{self.root}/{rel}")
        if docs is None:
            reason = self.ctx.facts.problems.get(f"{self.root}/{rel}", "unreadable")
            raise StoreError(reason, path=f"{self.root}/{rel}")
        return docs[0] if docs else None

    def text(self, rel: str) -> str:
        return (self.ctx.facts.text(f"{self.root}/{rel}") or "").strip()

    def cite(self, rel: str, key: Optional[str] = None) -> RepoCite:
        path = f"{self.root}/{rel}"
        if key is not None:
            line = self.ctx.facts.find_line(path, key)
            return RepoCite(path, (line, line) if line else None)
        return RepoCite(path)


class DiskFiles:
    """A linked ``file:`` store: only the metadata directories are listed, never artifacts."""

    def __init__(self, root: str):
        self.root = root
        self.complete = True
        self.rels = self._list()
        self.digest = hashlib.sha256()  # of every file read, for the citation

    def _list(self) -> list[str]:
        found: list[str] = []
        budget = [MAX_STORE_FILES]

        def entries(rel: str) -> list[os.DirEntry]:
            if budget[0] <= 0:
                self.complete = False
                return []
            try:
                with os.scandir(os.path.join(self.root, rel)) as listing:
                    out = []
                    for entry in listing:
                        budget[0] -= 1
                        if budget[0] <= 0:
                            self.complete = False
                            break
                        if not entry.name.startswith("."):
                            out.append(entry)
                    return sorted(out, key=lambda e: e.name)
            except OSError:
                return []

        def files(rel: str, pattern: str = "") -> None:
            for entry in entries(rel):
                if entry.is_file(follow_symlinks=False) and (not pattern or entry.name == pattern):
                    found.append(posixpath.join(rel, entry.name))

        def meta(rel: str) -> None:
            if os.path.isfile(os.path.join(self.root, rel, "meta.yaml")):
                found.append(posixpath.join(rel, "meta.yaml"))

        for top in entries(""):
            if not top.is_dir(follow_symlinks=False):
                continue
            if top.name == "models":
                for model in entries("models"):
                    base = f"models/{model.name}"
                    meta(base)
                    files(f"{base}/tags")
                    files(f"{base}/aliases")
                    for sub in entries(base):
                        if sub.name.startswith("version-"):
                            meta(f"{base}/{sub.name}")
                            files(f"{base}/{sub.name}/tags")
                continue
            meta(top.name)
            for run in entries(top.name):
                if not run.is_dir(follow_symlinks=False):
                    continue
                base = f"{top.name}/{run.name}"
                if run.name == "datasets":
                    for dataset in entries(base):
                        meta(f"{base}/{dataset.name}")
                    continue
                meta(base)
                files(f"{base}/tags")
                for put in entries(f"{base}/inputs"):
                    meta(f"{base}/inputs/{put.name}")
        return found

    def _read(self, rel: str) -> str:
        try:
            with open(os.path.join(self.root, rel), "rb") as handle:
                data = handle.read(MAX_META_BYTES + 1)
        except OSError as exc:
            raise StoreError(f"{rel}: cannot read: {exc.strerror}") from None
        if len(data) > MAX_META_BYTES:
            raise StoreError(f"{rel}: over the {MAX_META_BYTES}-byte cap")
        self.digest.update(rel.encode() + b"\0" + data + b"\0")
        return data.decode("utf-8", "replace")

    def doc(self, rel: str) -> Any:
        try:
            docs = load_all(self._read(rel))
        except YamlError as exc:
            raise StoreError(f"{rel}: malformed YAML: {exc}") from None
        return docs[0] if docs else None

    def text(self, rel: str) -> str:
        return self._read(rel).strip()


Files = Union[RepoFiles, DiskFiles]


class FileStore:
    """MLflow's file store layout: ``<exp>/meta.yaml``, ``<exp>/<run>/meta.yaml`` with ``tags/<key>``
    files and ``inputs/<id>/meta.yaml`` pointing at ``<exp>/datasets/<id>/meta.yaml``; the registry
    under ``models/<name>/`` (``meta.yaml`` with ``aliases``, ``version-<n>/meta.yaml``, ``tags/``)."""

    kind: StoreKind = "file"

    def __init__(self, files: Files, *, label: str, observed_at: str, committed: bool):
        self.files = files
        self.label = label
        self.observed_at = observed_at
        self.committed = committed
        self.experiments: dict[str, str] = {}
        self.runs: dict[str, tuple[str, str]] = {}  # run id -> (experiment, meta rel)
        self.run_tags: dict[str, dict[str, str]] = defaultdict(dict)  # run id -> key -> rel
        self.inputs: dict[str, list[str]] = defaultdict(list)
        self.datasets: dict[tuple[str, str], str] = {}
        self.models: dict[str, str] = {}
        self.model_files: dict[str, dict[str, str]] = defaultdict(dict)  # model dir -> "tags/k"/"aliases/a" -> rel
        self.versions: dict[tuple[str, str], str] = {}
        self.version_tags: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        self._index()
        self._first: dict[str, str] = {}
        self._run_memo: dict[str, Optional[RunFacts]] = {}

    def _index(self) -> None:
        for rel in self.files.rels:
            parts = rel.split("/")
            if any(p.startswith(".") for p in parts):
                continue  # .trash: deleted experiments
            if parts[0] == "models":
                self._index_model(rel, parts[1:])
                continue
            if len(parts) == 2 and parts[1] == "meta.yaml":
                self.experiments[parts[0]] = rel
            elif len(parts) == 3 and parts[2] == "meta.yaml" and parts[1] != "datasets":
                self.runs[parts[1]] = (parts[0], rel)
            elif len(parts) == 4 and parts[2] == "tags":
                self.run_tags[parts[1]][parts[3]] = rel
            elif len(parts) == 5 and parts[2] == "inputs" and parts[4] == "meta.yaml":
                self.inputs[parts[1]].append(rel)
            elif len(parts) == 4 and parts[1] == "datasets" and parts[3] == "meta.yaml":
                self.datasets[(parts[0], parts[2])] = rel

    def _index_model(self, rel: str, parts: list[str]) -> None:
        if len(parts) == 2 and parts[1] == "meta.yaml":
            self.models[parts[0]] = rel
        elif len(parts) == 3 and parts[1] in ("tags", "aliases"):
            self.model_files[parts[0]][f"{parts[1]}/{parts[2]}"] = rel
        elif len(parts) == 3 and parts[1].startswith("version-") and parts[2] == "meta.yaml":
            self.versions[(parts[0], parts[1][len("version-"):])] = rel
        elif len(parts) == 4 and parts[1].startswith("version-") and parts[2] == "tags":
            self.version_tags[(parts[0], parts[1][len("version-"):])][parts[3]] = rel

    def _map(self, rel: str) -> dict:
        doc = self.files.doc(rel)
        if not isinstance(doc, dict):
            raise StoreError(f"{rel}: meta.yaml is not a mapping", path=self._path(rel))
        return doc

    def _path(self, rel: str) -> Optional[str]:
        return f"{self.files.root}/{rel}" if isinstance(self.files, RepoFiles) else None

    def _guard(self, rel: str) -> dict:
        try:
            return self._map(rel)
        except StoreError as exc:
            exc.path = exc.path or self._path(rel)
            exc.endpoint = None if self.committed else self.label
            raise

    @property
    def path(self) -> Optional[str]:
        """A committed store's unknowns cite its first file; a linked one cites the service."""
        if isinstance(self.files, RepoFiles) and self.files.rels:
            return f"{self.files.root}/{self.files.rels[0]}"
        return None

    def cite(self, *trails: str) -> Cite:
        if isinstance(self.files, RepoFiles):
            first = next((self._first[t] for t in trails if t in self._first), None)
            return self.files.cite(first or (self.files.rels[0] if self.files.rels else ""))
        return Response(data=None, endpoint=f"{self.label} ({', '.join(trails)})", observed_at=self.observed_at,
                        digest="sha256:" + self.files.digest.hexdigest())

    def cite_file(self, rel: Optional[str], key: str) -> Cite:
        """A committed registry file, at the line of ``key`` (an alias, ``current_stage:``...)."""
        if isinstance(self.files, RepoFiles) and rel:
            return self.files.cite(rel, key)
        return self.cite("registry")

    def _owner_files(self, files: dict[str, str], prefix: str = "") -> bool:
        """An owner/team tag among ``tags/<key>`` files (each file holds the tag's value)."""
        for name, rel in sorted(files.items()):
            if prefix and not name.startswith(prefix):
                continue
            if name[len(prefix):].lower() in OWNER_KEYS and self.files.text(rel):
                return True
        return False

    def _audit_files(self, files: dict[str, str]) -> dict[str, bool]:
        """Audit tags among a version's ``tags/<key>`` files; only those keys are read."""
        wanted = {key: self.files.text(rel) for key, rel in sorted(files.items())
                  if _APPROVER_KEY.match(re.split(r"[./]", key)[-1]) or _APPROVAL_KEY.match(re.split(r"[./]", key)[-1])
                  or _CI_TAG.search(key)}
        approval, approver, ci = audit_tags(wanted)
        return {"approval": approval, "approver": approver, "ci": ci}

    def registry(self) -> RegistryData:
        models: dict[str, Model] = {}
        if self.models:
            self._first["registry"] = self.models[min(self.models)]
        for folder, rel in sorted(self.models.items()):
            meta = self._guard(rel)
            name = _text(meta.get("name")) or folder
            aliases = {}
            if isinstance(meta.get("aliases"), dict):
                aliases = {_text(k): _text(v) for k, v in meta["aliases"].items()}
            for entry, alias_rel in sorted(self.model_files[folder].items()):
                if entry.startswith("aliases/"):
                    aliases.setdefault(entry[len("aliases/"):], self.files.text(alias_rel))
            models[folder] = Model(name, described=bool(_text(meta.get("description")).strip()),
                                   owner=self._owner_files(self.model_files[folder], "tags/"), aliases=aliases)
        versions = []
        for (folder, number), rel in sorted(self.versions.items()):
            meta = self._guard(rel)
            stage = _text(meta.get("current_stage"))
            if stage.lower() == "deleted_internal":
                continue
            versions.append(Version(
                model=models[folder].name if folder in models else _text(meta.get("name")) or folder,
                version=_text(meta.get("version")) or number,
                created=_int(meta.get("creation_timestamp")),
                stage=stage,
                run_id=_text(meta.get("run_id")),
                described=bool(_text(meta.get("description")).strip()),
                owner=self._owner_files(self.version_tags[(folder, number)]),
                **self._audit_files(self.version_tags[(folder, number)]),
            ))
        complete = getattr(self.files, "complete", True)
        return RegistryData(list(models.values()), versions, complete)

    def version_rel(self, model: str, version: str) -> Optional[str]:
        for (folder, number), rel in self.versions.items():
            if number == version and (folder == model or folder == quote(model, safe="")):
                return rel
        return None

    def model_rel(self, model: str) -> Optional[str]:
        return self.models.get(model) or self.models.get(quote(model, safe=""))

    def _tags(self, run_id: str, wanted: Optional[set[str]] = None) -> dict[str, str]:
        out = {}
        for key, rel in sorted(self.run_tags.get(run_id, {}).items()):
            if wanted is None or key in wanted or _CI_TAG.search(key) or _DATA_HASH.search(key):
                out[key] = self.files.text(rel)
        return out

    def run_stats(self, now: int) -> RunStats:
        if self.experiments:
            self._first["runs"] = self.experiments[min(self.experiments)]
        active = set()
        for exp, rel in sorted(self.experiments.items()):
            if _text(self._guard(rel).get("lifecycle_stage") or "active") == "active":
                active.add(exp)
        seen = []
        for run_id, (exp, rel) in sorted(self.runs.items()):
            if exp not in active:
                continue
            meta = self._guard(rel)
            if _text(meta.get("lifecycle_stage") or "active") != "active":
                continue
            tags = self._tags(run_id, {"mlflow.source.type", "mlflow.user"})
            source = RUN_SOURCE_TYPES.get(_int(meta.get("source_type")) or 0, _text(meta.get("source_type")))
            seen.append(run_facts(tags, source_type=source, user=_text(meta.get("user_id")),
                                  start=_int(meta.get("start_time")), experiment=exp))
        return _stats(len(active), seen, now, getattr(self.files, "complete", True))

    def run(self, run_id: str) -> Optional[RunFacts]:
        if run_id not in self._run_memo:
            self._run_memo[run_id] = self._run(run_id)
        return self._run_memo[run_id]

    def _run(self, run_id: str) -> Optional[RunFacts]:
        found = self.runs.get(run_id)
        if found is None:
            return None
        exp, rel = found
        meta = self._guard(rel)
        tags = self._tags(run_id, {"mlflow.source.type", "mlflow.user", COMMIT_TAG})
        dataset = sourced = False
        for input_rel in self.inputs.get(run_id, []):
            entry = self._guard(input_rel)
            if _text(entry.get("source_type")).upper() != "DATASET":
                continue
            dataset_rel = self.datasets.get((exp, _text(entry.get("source_id"))))
            meta_ds = self._guard(dataset_rel) if dataset_rel else {}
            if _text(meta_ds.get("digest")):
                dataset = True
                sourced = bool(_text(meta_ds.get("source")).strip())
                if sourced:
                    break
        source = RUN_SOURCE_TYPES.get(_int(meta.get("source_type")) or 0, _text(meta.get("source_type")))
        return run_facts(tags, source_type=source, user=_text(meta.get("user_id")),
                         start=_int(meta.get("start_time")), dataset=dataset, dataset_source=sourced, experiment=exp)


Store = Union[RestStore, SqliteStore, FileStore]

_SERVER_ONLY_KINDS = ("mlflow.server.registry", "mlflow.server.production_marker", "mlflow.server.runs",
                      "mlflow.server.lineage", "mlflow.server.recent_lineage", "mlflow.server.promotion",
                      "mlflow.server.model_card")


# -- entry point --------------------------------------------------------------------------------


def declared_tracking_uri(ctx: ProbeContext) -> Optional[tuple[str, str]]:
    """(URI, where) of the first literal http(s) tracking server the repository declares: in
    ``mlflow.set_tracking_uri("...")`` or as ``MLFLOW_TRACKING_URI`` in CI env."""
    for pyfile, call in ctx.facts.python.calls(names=("mlflow.set_tracking_uri",)):
        value = call.literal_args[0] if call.literal_args else call.kwarg("uri")
        if isinstance(value, str) and value.startswith(("http://", "https://")) and not pyfile.notebook:
            return value, f"{pyfile.path}:{call.line}"
    for pipeline in ctx.facts.ci.pipelines:
        scopes = [pipeline.env] + [job.env for job in pipeline.jobs] + [s.env for job in pipeline.jobs for s in job.steps]
        for env in scopes:
            value = (env or {}).get("MLFLOW_TRACKING_URI")
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                return value, pipeline.path
    return None


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    link = ctx.services.link("mlflow") if ctx.services is not None else None
    if link is None and ctx.services is not None and ctx.services.follow_declared and not ctx.services.offline:
        declared = declared_tracking_uri(ctx)
        if declared is not None:
            uri, where = declared
            link = ctx.services.link_declared(ServiceLink(
                name="mlflow", url=uri, token=os.environ.get("MLFLOW_TRACKING_TOKEN"), source=f"declared in {where}"))
    if link is None and not any(not _CARD.search(p) for p in ctx.paths):
        yield from _not_observable(ctx, set())
        return  # nothing linked, nothing committed: not even the clock is read
    now = _reference_time(ctx)
    if link is not None:
        yield from _linked(ctx, link, now)
    committed = list(_committed(ctx, now))
    yield from committed
    if link is None:
        yield from _not_observable(ctx, {e.kind for e in committed})


def _not_observable(ctx: ProbeContext, seen: set[str]) -> Iterator[Evidence]:
    """Not linked (or offline): what only the registry can show is not verifiable, not absent."""
    state = ctx.services.states().get("mlflow", "not linked") if ctx.services is not None else "not linked"
    for kind in _SERVER_ONLY_KINDS:
        if kind not in seen:
            yield ctx.unknown(kind, f"needs the MLflow tracking server (mlflow {state})")


def _reference_time(ctx: ProbeContext) -> int:
    """Scan time in ms: the service session's observation time (SOURCE_DATE_EPOCH honoured), else
    the scanned commit's time, so the same inputs always give the same ages."""
    stamp = ctx.services.observed_at if ctx.services is not None else ""
    if stamp:
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return int(when.timestamp() * 1000)
        except ValueError:
            pass
    history = ctx.facts.history
    head = history.head_time() if history.available else None
    if head is not None:
        return head * 1000
    return int(datetime.now(tz=timezone.utc).timestamp() * 1000)


def _linked(ctx: ProbeContext, link: ServiceLink, now: int) -> Iterator[Evidence]:
    uri = link.url.strip()
    scheme = urlsplit(uri).scheme.lower()
    observed = ctx.services.observed_at if ctx.services else ""
    try:
        if scheme in ("http", "https") or scheme.startswith("databricks") or uri == "databricks":
            base, headers = rest_target(link)
            store: Store = RestStore(ctx, base, headers)
        elif scheme == "sqlite":
            path = _sqlite_path(uri)
            store = SqliteStore(path, label=uri, observed_at=observed)
        elif scheme in ("file", ""):
            root = unquote(urlsplit(uri).path) if scheme == "file" else uri
            if not os.path.isdir(root):
                raise StoreError(f"file store {root} is not a directory here", endpoint=uri, unreachable=True)
            store = FileStore(DiskFiles(root), label=uri, observed_at=observed, committed=False)
        else:
            raise StoreError(f"{scheme} tracking stores are not read directly; link the tracking server "
                             f"(--mlflow-uri http(s)://...) instead", endpoint=scheme, unreachable=True)
    except StoreError as exc:
        yield from _unknowns(ctx, REGISTRY_KINDS + RUN_KINDS, exc)
        if exc.unreachable and ctx.services is not None:
            ctx.services.mark_unreachable("mlflow", exc.reason)
        return
    try:
        items = list(_store_evidence(ctx, store, now))
    finally:
        if isinstance(store, SqliteStore):
            store.close()
    unknown = [e for e in items if e.outcome == Outcome.unknown]
    if unknown and len(unknown) == len(items) and ctx.services is not None and \
            not ctx.services.status.get("mlflow", "").startswith("unreachable"):
        ctx.services.mark_unreachable("mlflow", unknown[0].reason or "not readable")  # nothing could be read
    yield from items


def _sqlite_path(uri: str) -> str:
    """``sqlite:///relative.db`` and ``sqlite:////abs/path.db`` as SQLAlchemy reads them."""
    rest = uri.split(":", 1)[1]
    if rest.startswith("///"):
        rest = rest[3:]
    elif rest.startswith("//"):
        rest = rest[2:]
    return unquote(rest.split("?", 1)[0])


def _committed(ctx: ProbeContext, now: int) -> Iterator[Evidence]:
    roots: dict[str, list[str]] = defaultdict(list)
    for path in ctx.paths:
        parts = path.split("/")
        if "mlruns" in parts[:-1]:
            at = parts.index("mlruns")
            roots["/".join(parts[: at + 1])].append(path)
    for root in sorted(roots):
        store = FileStore(RepoFiles(ctx, root, roots[root]), label=root, observed_at="", committed=True)
        if store.models or store.runs or store.experiments:
            yield from _store_evidence(ctx, store, now)
    for path in ctx.paths:
        name = posixpath.basename(path)
        if name.endswith(".db") and not any(p == "mlruns" for p in path.split("/")[:-1]):
            yield from _committed_db(ctx, path, now)


def _committed_db(ctx: ProbeContext, path: str, now: int) -> Iterator[Evidence]:
    """A committed sqlite store, copied to a temporary file and opened read-only as data."""
    ctx.facts.note(path)
    try:
        data = ctx.snapshot.read_bytes(path, cap=MAX_DB_BYTES)
    except FileSkipped as exc:
        yield from _unknowns(ctx, REGISTRY_KINDS + RUN_KINDS, StoreError(str(exc), path=path))
        return
    if data.startswith(_LFS):
        reason = "Git LFS pointer: the database itself is not in the repository"
        yield from _unknowns(ctx, REGISTRY_KINDS + RUN_KINDS, StoreError(reason, path=path))
        return
    with tempfile.TemporaryDirectory(prefix="mlscan-db-") as tmp:
        copy = os.path.join(tmp, "store.db")
        with open(copy, "wb") as handle:
            handle.write(data)
        try:
            store = SqliteStore(copy, label=path, observed_at="", committed=True, cite_path=path)
        except StoreError as exc:
            yield from _unknowns(ctx, REGISTRY_KINDS + RUN_KINDS, exc)
            return
        try:
            yield from list(_store_evidence(ctx, store, now))  # read fully before the copy goes
        finally:
            store.close()


# -- evidence from any store ------------------------------------------------------------------


def _unknowns(ctx: ProbeContext, kinds: tuple[str, ...], exc: StoreError, *, path: Optional[str] = None) -> Iterator[Evidence]:
    """One unknown per kind: cited at the committed file, or at the service endpoint."""
    path = exc.path or path
    for kind in kinds:
        if path:
            yield ctx.unknown(kind, exc.reason, path=path)
        else:
            yield ctx.unknown(kind, exc.reason, service="mlflow", endpoint=exc.endpoint)


def _emit(ctx: ProbeContext, store: Store, kind: str, attrs: Attributes, cite: Cite, subject: str = "",
          downgrades: list[str] | None = None) -> Evidence:
    reasons = list(downgrades or [])
    if store.committed:
        reasons.append(COMMITTED)
    strength = Strength.mention if reasons else Strength.executed
    if isinstance(cite, RepoCite):
        return ctx.evidence(kind, attrs, path=cite.path, lines=cite.lines, subject=subject, strength=strength,
                            downgrades=reasons)
    return ctx.service_evidence(kind, attrs, service="mlflow", response=cite, subject=subject, strength=strength,
                                downgrades=reasons)


@dataclass(frozen=True)
class Marker:
    model: str
    marker: str  # "alias" | "stage"
    name: str
    version: str
    production: bool


def markers_of(registry: RegistryData) -> list[Marker]:
    """Every alias, and every stage other than None/Archived, sorted."""
    found: set[Marker] = set()
    for model in registry.models:
        for alias, version in model.aliases.items():
            found.add(Marker(model.name, "alias", alias, version, bool(_PRODUCTION.match(alias))))
    for version in registry.versions:
        if version.stage.lower() not in HIDDEN_STAGES:
            found.add(Marker(version.model, "stage", version.stage, version.version,
                             version.stage.lower() == "production"))
    return sorted(found, key=lambda m: (m.model, m.marker, m.name, m.version))


def _store_evidence(ctx: ProbeContext, store: Store, now: int) -> Iterator[Evidence]:
    try:
        registry: Optional[RegistryData] = store.registry()
    except StoreError as exc:
        registry = None
        yield from _unknowns(ctx, REGISTRY_KINDS, exc, path=store.path)
        if exc.unreachable:
            if ctx.services is not None:
                ctx.services.mark_unreachable("mlflow", exc.reason)
            yield from _unknowns(ctx, RUN_KINDS, exc, path=store.path)
            return
    if registry is not None:
        yield from _registry_evidence(ctx, store, registry, now)
    try:
        stats = store.run_stats(now)
    except StoreError as exc:
        yield from _unknowns(ctx, RUN_KINDS, exc, path=store.path)
        if exc.unreachable and ctx.services is not None:
            ctx.services.mark_unreachable("mlflow", exc.reason)
            return
    else:
        yield _emit(ctx, store, "mlflow.server.runs", RunActivity(
            store=store.kind, experiments=stats.experiments, runs=stats.runs, recent_runs_180d=stats.recent,
            users=stats.users, automated_runs=stats.automated, last_run=_date(stats.last), complete=stats.complete,
            recent_users_180d=stats.recent_users, max_humans_per_experiment=stats.max_humans,
            shared_experiments=stats.shared,
        ), store.cite("runs", "experiments"), subject=store.label if store.committed else "")
    if registry is not None:
        yield from _lineage_evidence(ctx, store, registry, now)
        yield from _promotion_evidence(ctx, store, registry)
        yield from _card_evidence(ctx, store, registry)


def _registry_evidence(ctx: ProbeContext, store: Store, registry: RegistryData, now: int) -> Iterator[Evidence]:
    if store.committed and not (registry.models or registry.versions):
        return  # a committed run store without a registry says nothing about one
    created = [v.created for v in registry.versions if v.created is not None]
    yield _emit(ctx, store, "mlflow.server.registry", RegistryUse(
        store=store.kind, models=len(registry.models), versions=len(registry.versions),
        latest_version_created=_date(max(created)) if created else None, complete=registry.complete,
    ), store.cite("models", "versions") if not isinstance(store, FileStore) else store.cite("registry"),
        subject=store.label if store.committed else "")
    models = {m.name: m for m in registry.models}
    versions = {(v.model, v.version): v for v in registry.versions}
    markers = markers_of(registry)
    for marker in markers:
        model = models.get(marker.model)
        version = versions.get((marker.model, marker.version))
        described = bool((version and version.described) or (model and model.described))
        owner = bool((version and version.owner) or (model and model.owner))
        yield _emit(ctx, store, "mlflow.server.production_marker", ProductionMarker(
            model=marker.model, marker=marker.marker, name=marker.name, version=marker.version,  # type: ignore[arg-type]
            production=marker.production, described=described, owner=owner,
        ), _marker_cite(store, marker), subject=f"{marker.model}:{marker.marker}:{marker.name}")
    for name in sorted({m.model for m in markers if m.production}):
        chosen = _production_version(name, markers, versions)
        if chosen is not None and chosen.created is not None:
            yield _emit(ctx, store, "mlflow.server.staleness", Staleness(
                model=name, days=max(0, (now - chosen.created) // DAY_MS), version=chosen.version,
            ), _version_cite(store, chosen), subject=name)
        since = now - FREQUENCY_DAYS * DAY_MS
        recent = sum(1 for v in registry.versions
                     if v.model == name and v.created is not None and since <= v.created < now + CLOCK_SLACK_MS)
        yield _emit(ctx, store, "mlflow.server.deploy_frequency", DeployFrequency(
            model=name, versions_per_month=round(recent / (FREQUENCY_DAYS / 30.4375), 2), versions_180d=recent,
        ), _version_cite(store, chosen), subject=name)


def _production_version(model: str, markers: list[Marker], versions: dict[tuple[str, str], Version]) -> Optional[Version]:
    """The version serving production: an alias outranks a legacy stage; then the newest."""
    candidates = [m for m in markers if m.model == model and m.production]
    ranked = sorted(candidates, key=lambda m: (m.marker != "alias", -(_int(m.version) or 0)))
    for marker in ranked:
        if (model, marker.version) in versions:
            return versions[(model, marker.version)]
    return None


def _marker_cite(store: Store, marker: Marker) -> Cite:
    if isinstance(store, FileStore):
        if marker.marker == "alias":
            return store.cite_file(store.model_rel(marker.model), f"{marker.name}:")
        return store.cite_file(store.version_rel(marker.model, marker.version), "current_stage:")
    return store.cite("models" if marker.marker == "alias" else "versions")


def _version_cite(store: Store, version: Optional[Version]) -> Cite:
    if isinstance(store, FileStore):
        rel = store.version_rel(version.model, version.version) if version else None
        return store.cite_file(rel, "creation_timestamp:")
    return store.cite("versions")


@dataclass
class Tally:
    versions: int = 0
    with_run: int = 0
    with_commit: int = 0
    in_history: int = 0
    with_dataset: int = 0
    automated: int = 0
    complete: int = 0


class Commits:
    """This repository's history, for "is the run's commit ours?" (full or abbreviated SHAs)."""

    def __init__(self, ctx: ProbeContext):
        history = ctx.facts.history
        self.available = history.available
        self.full = {c.sha.lower() for c in history.commits}

    def __contains__(self, sha: str) -> bool:
        sha = sha.strip().lower()
        if not _SHA.match(sha):
            return False
        if sha in self.full:
            return True
        return len(sha) < 40 and any(full.startswith(sha) for full in self.full)


def _tally(store: Store, chosen: list[Version], commits: Optional[Commits]) -> Tally:
    tally = Tally(versions=len(chosen))
    for version in chosen:
        facts = store.run(version.run_id) if version.run_id else None
        if facts is None:
            continue
        tally.with_run += 1
        tally.with_commit += bool(facts.commit)
        ours = bool(facts.commit) and commits is not None and facts.commit in commits
        tally.in_history += ours
        tally.with_dataset += facts.dataset
        tally.automated += facts.automated
        tally.complete += ours and facts.dataset
    return tally


def _lineage_evidence(ctx: ProbeContext, store: Store, registry: RegistryData, now: int) -> Iterator[Evidence]:
    versions = {(v.model, v.version): v for v in registry.versions}
    production = sorted({(m.model, m.version) for m in markers_of(registry) if m.production},
                        key=lambda k: (k[0], _int(k[1]) or 0, k[1]))
    window = now - RECENT_LINEAGE_DAYS * DAY_MS
    recent = sorted((v for v in registry.versions if v.created is not None and window <= v.created < now + CLOCK_SLACK_MS),
                    key=lambda v: (-(v.created or 0), v.model, v.version))
    if not production and not recent:
        return
    commits = ctx.memo("commits", lambda: Commits(ctx)) if any(v.run_id for v in registry.versions) else None
    history_checked = bool(commits and commits.available)
    if production:
        chosen = [versions[k] for k in production if k in versions][:MAX_LINEAGE_VERSIONS]
        downgrades = []
        if len(production) > MAX_LINEAGE_VERSIONS:
            downgrades.append(f"lineage checked for {MAX_LINEAGE_VERSIONS} of {len(production)} production versions")
        try:
            tally = _tally(store, chosen, commits)
        except StoreError as exc:
            yield from _unknowns(ctx, ("mlflow.server.lineage",), exc, path=store.path)
        else:
            whole = len(production)
            yield _emit(ctx, store, "mlflow.server.lineage", Lineage(
                aliased_versions=whole, with_run=tally.with_run, with_commit=tally.with_commit,
                commit_in_history=tally.in_history, with_dataset=tally.with_dataset, automated=tally.automated,
                completeness=_share(tally.complete, whole), commit_share=_share(tally.in_history, whole),
                dataset_share=_share(tally.with_dataset, whole), automated_share=_share(tally.automated, whole),
                history_checked=history_checked,
            ), _lineage_cite(store), subject="production", downgrades=downgrades)
    if recent:
        checked = recent[:MAX_RECENT_CHECKS]
        try:
            tally = _tally(store, checked, commits)
        except StoreError as exc:
            yield from _unknowns(ctx, ("mlflow.server.recent_lineage",), exc, path=store.path)
            return
        yield _emit(ctx, store, "mlflow.server.recent_lineage", RecentLineage(
            window_days=RECENT_LINEAGE_DAYS, versions=len(recent), checked=len(checked), with_run=tally.with_run,
            with_commit=tally.with_commit, commit_in_history=tally.in_history, with_dataset=tally.with_dataset,
            commit_share=_share(tally.in_history, len(checked)), dataset_share=_share(tally.with_dataset, len(checked)),
        ), _lineage_cite(store), subject="recent")


def _lineage_cite(store: Store) -> Cite:
    if isinstance(store, RestStore):
        return store.cite("lineage", "runs")
    return store.cite("lineage" if isinstance(store, SqliteStore) else "registry")


# -- promotions: the audit record of each production version (GV-m, MD-t, DM 4.3) -----------------


def _promotion_evidence(ctx: ProbeContext, store: Store, registry: RegistryData) -> Iterator[Evidence]:
    """One item per version holding a production marker now. The runs were looked up for lineage
    already (cached), so this costs no request."""
    kind = "mlflow.server.promotion"
    versions = {(v.model, v.version): v for v in registry.versions}
    marked: dict[tuple[str, str], list[str]] = defaultdict(list)
    for marker in markers_of(registry):
        if marker.production and (marker.model, marker.version) in versions:
            marked[(marker.model, marker.version)].append(marker.name)
    keys = sorted(marked, key=lambda k: (k[0], _int(k[1]) or 0, k[1]))
    if not keys:
        return
    commits = ctx.memo("commits", lambda: Commits(ctx)) if any(versions[k].run_id for k in keys) else None
    history_checked = bool(commits and commits.available)
    for key in keys[:MAX_LINEAGE_VERSIONS]:
        version = versions[key]
        try:
            facts = store.run(version.run_id) if version.run_id else None
        except StoreError as exc:
            yield from _unknowns(ctx, (kind,), exc, path=store.path)
            return
        in_history = bool(facts and facts.commit and commits is not None and facts.commit in commits)
        missing = sorted(name for name, ok in (
            ("run", facts is not None), ("commit", in_history), ("data digest", bool(facts and facts.dataset)),
            ("description", version.described), ("approver", version.approver),
        ) if not ok)
        yield _emit(ctx, store, kind, Promotion(
            model=version.model, version=version.version, markers=sorted(set(marked[key])), run=facts is not None,
            commit_in_history=in_history, data_digest=bool(facts and facts.dataset),
            dataset_input=bool(facts and facts.dataset_input), dataset_source=bool(facts and facts.dataset_source),
            described=version.described, approval=version.approval, approver=version.approver,
            promoted_by_ci=version.ci, audit_complete=not missing, missing=missing, history_checked=history_checked,
            created=_date(version.created),
        ), _promotion_cite(store, version), subject=f"{version.model}:{version.version}")
    if len(keys) > MAX_LINEAGE_VERSIONS:
        reason = f"not checked: more than {MAX_LINEAGE_VERSIONS} production versions"
        if store.path:
            yield ctx.unknown(kind, reason, path=store.path, subject="overflow")
        else:
            yield ctx.unknown(kind, reason, service="mlflow", endpoint=getattr(store, "first_endpoint", None),
                              subject="overflow")


def _promotion_cite(store: Store, version: Version) -> Cite:
    if isinstance(store, RestStore):
        return store.cite("versions", "lineage", "runs")
    if isinstance(store, FileStore):
        return _version_cite(store, version)
    return store.cite("versions", "lineage")


# -- the model card against the production version (GV 3.4) --------------------------------------


@dataclass(frozen=True)
class Card:
    path: str
    text: str
    updated: Optional[int]  # author time (s) of the last commit that touched it
    versions: tuple[str, ...] = ()  # Model Card Toolkit JSON: model_details.version(.name)


def _cards(ctx: ProbeContext) -> tuple[list[Card], dict[str, str], bool]:
    """The repository's model cards (the files the model_card probe reads as cards), when each was
    last committed, and the ones that could not be read."""
    paths = [p for p in ctx.paths if _CARD.search(p)]
    if not paths:
        return [], {}, False
    history = ctx.facts.history
    last: dict[str, int] = {}
    if history.available:
        wanted = set(paths)
        for commit in history.commits:  # newest first
            for name in commit.files:
                if name in wanted and name not in last:
                    last[name] = commit.time
            if len(last) == len(wanted):
                break
    cards, unreadable = [], {}
    for path in paths:
        text = ctx.facts.text(path)
        if text is None:
            unreadable[path] = ctx.facts.problems.get(path, "unreadable")
        else:
            cards.append(Card(path, text, last.get(path), _toolkit_versions(ctx, path)))
    return cards, unreadable, history.available


def _toolkit_versions(ctx: ProbeContext, path: str) -> tuple[str, ...]:
    """``model_details.version`` of a Model Card Toolkit card (a string, or an object with a name)."""
    if not path.lower().endswith(".json"):
        return ()
    data = ctx.facts.json(path)
    details = data.get("model_details") if isinstance(data, dict) else None
    version = details.get("version") if isinstance(details, dict) else None
    if isinstance(version, dict):
        version = version.get("name")
    return (str(version).strip().lstrip("vV"),) if isinstance(version, (str, int)) and str(version).strip() else ()


def _names_model(text: str, model: str) -> bool:
    """The card names the registered model (a Unity Catalog name also by its last part)."""
    names = {model, model.rsplit(".", 1)[-1]}
    return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text, re.IGNORECASE) for n in names if n)


def names_version(text: str, model: str, version: str) -> bool:
    """``models:/<model>/<n>``, or "version <n>" (``v<n>``, ``version: <n>``, a table cell) on a line
    that speaks of the model, the registry or production: "Python version 3" does not count."""
    if f"models:/{model}/{version}" in text:
        return True
    mention = re.compile(rf"(?<![a-z])(?:v|version)[\s:#=|*`_\"'-]*v?{re.escape(version)}(?![\w.])",
                         re.IGNORECASE)
    for line in text.splitlines()[:MAX_CARD_LINES]:
        if mention.search(line) and (_CARD_CONTEXT.search(line) or _names_model(line, model)):
            return True
    return False


def _card_evidence(ctx: ProbeContext, store: Store, registry: RegistryData) -> Iterator[Evidence]:
    kind = "mlflow.server.model_card"
    markers = markers_of(registry)
    versions = {(v.model, v.version): v for v in registry.versions}
    production = sorted({m.model for m in markers if m.production})
    if not production:
        return
    cards, unreadable, history_checked = _cards(ctx)
    all_models = sorted({m.name for m in registry.models} | {v.model for v in registry.versions})
    for model in production:
        version = _production_version(model, markers, versions)
        if version is None:
            continue
        naming = [c for c in cards if _names_model(c.text, model)]
        if not naming and len(cards) == 1 and not unreadable and \
                not any(_names_model(cards[0].text, other) for other in all_models if other != model):
            naming = cards  # the repository's only card, and it names no other model
        if not naming and unreadable:
            path = sorted(unreadable)[0]
            yield ctx.unknown(kind, f"model card could not be read: {unreadable[path]}", path=path, subject=model)
            continue
        yield _emit(ctx, store, kind, _sync(model, version, naming, history_checked), _version_cite(store, version),
                    subject=model)


def _sync(model: str, version: Version, cards: list[Card], history_checked: bool) -> ModelCardSync:
    """The best of the model's cards: one current (naming the version, or committed after it)."""
    best: Optional[tuple[Card, bool, bool]] = None
    for card in sorted(cards, key=lambda c: c.path):
        named = version.version in card.versions or names_version(card.text, model, version.version)
        after = card.updated is not None and version.created is not None and card.updated * 1000 >= version.created
        if best is None or (named or after) > (best[1] or best[2]):
            best = (card, named, after)
    card, named, after = best if best else (None, False, False)
    return ModelCardSync(
        model=model, version=version.version, card=card.path if card else None, names_version=named,
        updated_after_version=after, current=named or after, history_checked=history_checked,
        card_updated=_date(card.updated * 1000) if card and card.updated is not None else None,
        version_created=_date(version.created),
    )


PROBE = Probe(
    id="mlflow_registry",
    title="The linked MLflow store, read-only: registry versions, aliases/stages, run lineage, run activity",
    patterns=PATTERNS,
    kinds=(
        Kind("mlflow.server.registry", RegistryUse, "Registered models and versions in the MLflow store (registry in use)"),
        Kind("mlflow.server.production_marker", ProductionMarker, "A version holding an alias or a legacy stage, with its description/owner metadata"),
        Kind("mlflow.server.lineage", Lineage, "Production versions whose run links a commit in this repository's history and a dataset digest"),
        Kind("mlflow.server.recent_lineage", RecentLineage, "Versions registered in the last 90 days whose run links a commit of this repository and a dataset"),
        Kind("mlflow.server.staleness", Staleness, "Days since the production version of a model was created, at scan time"),
        Kind("mlflow.server.deploy_frequency", DeployFrequency, "Versions registered per month over the last 180 days, per production model"),
        Kind("mlflow.server.runs", RunActivity, "Experiments and runs in the store: count, recency, distinct users, automated runs"),
        Kind("mlflow.server.promotion", Promotion, "A production version's audit record: run, commit, dataset digest and source, description, approver, CI"),
        Kind("mlflow.server.model_card", ModelCardSync, "Whether the repository's model card names the production version or was committed after it"),
    ),
    collect=collect,
    services=("mlflow",),
    needs_history=True,
)
