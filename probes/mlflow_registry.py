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
* ``mlflow.server.runs``: experiments, runs, recency, distinct users, automated runs (ET-f/l).

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
_PRODUCTION = re.compile(r"^(?:champion|prod(?:uction)?(?:[-_.].*)?|live|serving|deployed|current|stable)$", re.IGNORECASE)
_CI_TAG = re.compile(
    r"(?:^|[._])(?:github_run_id|ci_pipeline_id|ci_job_id|buildkite_build_id|circle_build_num|"
    r"build_buildid|jenkins_build_id|build_id|ci_run_id)$|^mlflow\.databricks\.job(?:run)?id$",
    re.IGNORECASE,
)
_DATA_HASH = re.compile(r"(?:dvc|data(?:set)?)[._-]?(?:md5|hash|digest|rev|version)$", re.IGNORECASE)
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_LFS = b"version https://git-lfs"

REGISTRY_KINDS = (
    "mlflow.server.registry", "mlflow.server.production_marker", "mlflow.server.lineage",
    "mlflow.server.recent_lineage", "mlflow.server.staleness", "mlflow.server.deploy_frequency",
)
RUN_KINDS = ("mlflow.server.runs",)

PATTERNS = (
    "**/mlruns/**/meta.yaml",
    "**/mlruns/**/tags/*",
    "**/mlruns/**/aliases/*",
    "**/mlflow*.db",
    "**/mlruns*.db",
)


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
    dataset: bool = False
    user: str = ""
    start: Optional[int] = None


@dataclass
class RunStats:
    experiments: int
    runs: int
    recent: int
    users: int
    automated: int
    last: Optional[int]
    complete: bool = True


@dataclass(frozen=True)
class RepoCite:
    path: str
    lines: Optional[tuple[int, int]] = None


Cite = Union[Response, RepoCite]


def run_facts(tags: dict[str, str], *, source_type: str = "", user: str = "", start: Optional[int] = None,
              dataset: bool = False, params: Optional[dict[str, str]] = None) -> RunFacts:
    """One run, from its tags: ``mlflow.source.type`` JOB/PROJECT or a CI id tag means automation."""
    kind = (tags.get("mlflow.source.type") or source_type or "").upper()
    automated = kind in AUTOMATED_SOURCES or any(_CI_TAG.search(k) for k in tags)
    data_hash = any(_DATA_HASH.search(k) and v for k, v in {**(params or {}), **tags}.items())
    return RunFacts(
        commit=(tags.get(COMMIT_TAG) or "").strip(),
        automated=automated,
        dataset=dataset or data_hash,
        user=(tags.get("mlflow.user") or user or "").strip(),
        start=start,
    )


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
    return Version(
        model=_text(item.get("name")) or model,
        version=_text(item.get("version")),
        created=_int(item.get("creation_timestamp")),
        stage=_text(item.get("current_stage")),
        run_id=_text(item.get("run_id")),
        described=bool(_text(item.get("description")).strip()),
        owner=_owner(tags),
    )


def _rest_run(run: dict) -> tuple[str, RunFacts]:
    info = run.get("info") if isinstance(run.get("info"), dict) else {}
    data = run.get("data") if isinstance(run.get("data"), dict) else {}
    inputs = run.get("inputs") if isinstance(run.get("inputs"), dict) else {}
    dataset = any(
        isinstance(entry, dict) and isinstance(entry.get("dataset"), dict) and entry["dataset"].get("digest")
        for entry in inputs.get("dataset_inputs") or []
    )
    facts = run_facts(_pairs(data.get("tags")), source_type=_text(info.get("source_type")),
                      user=_text(info.get("user_id")), start=_int(info.get("start_time")),
                      dataset=dataset, params=_pairs(data.get("params")))
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
    return RunStats(
        experiments=experiments,
        runs=len(runs),
        recent=sum(1 for s in starts if since <= s < now + CLOCK_SLACK_MS),
        users=len({r.user for r in runs if r.user}),
        automated=sum(1 for r in runs if r.automated),
        last=max(starts) if starts else None,
        complete=complete,
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
            owner_keys = tuple(sorted(OWNER_KEYS))
            marks = ",".join("?" * len(owner_keys))
            sql = f'SELECT name, version, "key", value FROM model_version_tags WHERE lower("key") IN ({marks})'
            for name, version, key, value in self._rows("versions", sql, owner_keys):
                version_tags[(name, _text(version))][_text(key)] = _text(value)
        rows = self._rows("versions", "SELECT name, version, creation_time, current_stage, run_id, description "
                                      "FROM model_versions WHERE current_stage IS NULL "
                                      "OR current_stage != 'Deleted_Internal'")
        versions = [
            Version(name, _text(version), _int(created), _text(stage), _text(run_id), bool(_text(desc).strip()),
                    _owner(version_tags[(name, _text(version))]))
            for name, version, created, stage, run_id, desc in rows[:MAX_SQL_ROWS]
        ]
        return RegistryData(list(models.values()), versions, len(rows) <= MAX_SQL_ROWS)

    def run_stats(self, now: int) -> RunStats:
        self._require(TRACKING_SCHEMA)
        experiments = self._rows("runs", "SELECT COUNT(*) FROM experiments WHERE lifecycle_stage = 'active'")[0][0]
        rows = self._rows("runs", "SELECT r.run_uuid, r.user_id, r.start_time, r.source_type FROM runs r "
                                  "JOIN experiments e ON e.experiment_id = r.experiment_id "
                                  "WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'")
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        # only the tags that say who ran it and how: a CI id, the source type, the user
        sql = ('SELECT run_uuid, "key", value FROM tags WHERE "key" IN (\'mlflow.source.type\', \'mlflow.user\') '
               'OR upper("key") GLOB \'*_ID\' OR upper("key") GLOB \'*BUILD*\' OR "key" GLOB \'mlflow.databricks.job*\'')
        for run_id, key, value in self._rows("runs", sql):
            tags[run_id][_text(key)] = _text(value)
        seen = [run_facts(tags.get(run_id, {}), source_type=_text(source), user=_text(user), start=_int(start))
                for run_id, user, start, source in rows[:MAX_SQL_ROWS]]
        return _stats(int(experiments or 0), seen, now, len(rows) <= MAX_SQL_ROWS)

    def run(self, run_id: str) -> Optional[RunFacts]:
        if run_id not in self._runs:
            self._runs[run_id] = self._run(run_id)
        return self._runs[run_id]

    def _run(self, run_id: str) -> Optional[RunFacts]:
        self._require(TRACKING_SCHEMA)
        found = self._rows("lineage", "SELECT user_id, start_time, source_type FROM runs WHERE run_uuid = ?", (run_id,))
        if not found:
            return None
        user, start, source = found[0]
        tags = {_text(k): _text(v) for k, v in self._rows(
            "lineage", 'SELECT "key", value FROM tags WHERE run_uuid = ? LIMIT 5000', (run_id,))}
        params: dict[str, str] = {}
        if not self._has({"params": OPTIONAL_SCHEMA["params"]}):
            params = {_text(k): _text(v) for k, v in self._rows(
                "lineage", 'SELECT "key", value FROM params WHERE run_uuid = ? LIMIT 5000', (run_id,))}
        dataset = False
        if not self._has({"inputs": OPTIONAL_SCHEMA["inputs"], "datasets": OPTIONAL_SCHEMA["datasets"]}):
            dataset = bool(self._rows(
                "lineage",
                "SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
                "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND i.destination_id = ? "
                "AND d.digest IS NOT NULL AND d.digest != '' LIMIT 1", (run_id,)))
        return run_facts(tags, source_type=_text(source), user=_text(user), start=_int(start), dataset=dataset,
                         params=params)


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
                                  start=_int(meta.get("start_time"))))
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
        dataset = False
        for input_rel in self.inputs.get(run_id, []):
            entry = self._guard(input_rel)
            if _text(entry.get("source_type")).upper() != "DATASET":
                continue
            dataset_rel = self.datasets.get((exp, _text(entry.get("source_id"))))
            if dataset_rel and _text(self._guard(dataset_rel).get("digest")):
                dataset = True
                break
        source = RUN_SOURCE_TYPES.get(_int(meta.get("source_type")) or 0, _text(meta.get("source_type")))
        return run_facts(tags, source_type=source, user=_text(meta.get("user_id")),
                         start=_int(meta.get("start_time")), dataset=dataset)


Store = Union[RestStore, SqliteStore, FileStore]

_SERVER_ONLY_KINDS = ("mlflow.server.registry", "mlflow.server.production_marker", "mlflow.server.runs",
                      "mlflow.server.lineage", "mlflow.server.recent_lineage")


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
    if link is None and not ctx.paths:
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
        ), store.cite("runs", "experiments"), subject=store.label if store.committed else "")
    if registry is not None:
        yield from _lineage_evidence(ctx, store, registry, now)


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
    commits = Commits(ctx) if any(v.run_id for v in registry.versions) else None
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
    ),
    collect=collect,
    services=("mlflow",),
    needs_history=True,
)
