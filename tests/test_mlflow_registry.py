"""The mlflow_registry service probe against a real ``mlflow server`` on 127.0.0.1 (sqlite store).

One server per test session, seeded through ``MlflowClient``: two registered models with 30
versions (three pages at the page size the tests set), an alias, a legacy stage, owner tags, runs
tagged with a commit of a real git repository built in a tmp dir, and a dataset input with a digest.
Failure modes (port closed, a server slower than the timeout, 401) use tiny local HTTP servers on
127.0.0.1, since the real server cannot be made to fail on cue. mlflow is a test dependency only:
without it this module is skipped.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
import yaml

mlflow = pytest.importorskip("mlflow", reason="mlflow is not installed: the registry probe's server tests need it")

import probes.mlflow_registry as registry_probe
from scanner.config import Config
from scanner.models import Evidence, Outcome, Strength
from scanner.registry import all_probes, kind_index
from scanner.rulepack import default_pack_dir, load_pack
from scanner.runner import run_probes
from scanner.scan import scan
from scanner.services import ServiceLink, ServiceSession
from scanner.services.links import resolve_links
from scanner.snapshot import WorkTree
from tests.citations import check_citation
from tests.gitrepo import build_repo, git

STARTUP_SECONDS = 60
SERVER_KINDS = registry_probe.REGISTRY_KINDS + registry_probe.RUN_KINDS
FOREIGN_SHA = "0123456789abcdef0123456789abcdef01234567"  # a commit of some other repository

TRAIN_PY = '''"""Train the churn model and register it."""
import mlflow
import mlflow.sklearn
from sklearn.linear_model import LogisticRegression


def main() -> None:
    mlflow.set_experiment("churn-training")
    with mlflow.start_run():
        model = LogisticRegression(C=0.5)
        mlflow.log_param("C", 0.5)
        mlflow.log_metric("auc", 0.91)
        mlflow.sklearn.log_model(model, "model", registered_model_name="churn")


if __name__ == "__main__":
    main()
'''


# -- the real server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DATABRICKS_"))}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no background job workers in tests
    return env


def _healthy(url: str) -> bool:
    import requests

    try:
        return requests.get(url + "/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's own process group (it started uvicorn under it), then kill."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    db = root / "mlflow.db"
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{db}",
        "--default-artifact-root", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]
    with open(root / "server.log", "wb") as log:  # the server keeps its own descriptor
        proc = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=_clean_env(),
                                start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server did not start within {STARTUP_SECONDS} s:\n{tail}")
            time.sleep(0.25)
        yield {"url": url, "db": db, "root": root}
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def repo(tmp_path_factory) -> Path:
    """A training repository with two commits; the first one trained the champion."""
    src = tmp_path_factory.mktemp("churn-src")
    (src / "src").mkdir()
    (src / "src" / "train.py").write_text(TRAIN_PY)
    (src / "README.md").write_text("# churn\n\nTrains the churn model; serving loads models:/churn@champion.\n")
    (src / "requirements.txt").write_text("mlflow==2.16.2\nscikit-learn==1.5.2\n")
    history = [
        {"author": "Ann Lee <ann@example.com>", "date": "2026-03-02T10:00:00+00:00",
         "message": "Add training", "paths": ["src/**", "requirements.txt"]},
        {"author": "Bo Chen <bo@example.com>", "date": "2026-03-09T09:30:00+00:00", "message": "Add README"},
    ]
    return build_repo(src, tmp_path_factory.mktemp("churn") / "repo", history)


def _sha(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", rev).strip()


def _dataset():
    try:
        import pandas as pd

        frame = pd.DataFrame({"tenure": [1, 5, 12, 30], "churned": [1, 0, 0, 1]})
        return mlflow.data.from_pandas(frame, source="s3://example-bucket/churn/train.parquet", name="churn-train")
    except ImportError:
        import numpy as np

        return mlflow.data.from_numpy(np.arange(8).reshape(4, 2), source="data/train.npy", name="churn-train")


@pytest.fixture(scope="session")
def seeded(mlflow_server, repo) -> dict[str, Any]:
    """Seed the server: what each test expects is derived from this, not from the probe."""
    from mlflow import MlflowClient

    url = mlflow_server["url"]
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    trained_at = _sha(repo, "HEAD~1")
    experiment = client.create_experiment("churn-training")
    now_ms = int(time.time() * 1000)

    ci_run = client.create_run(experiment, start_time=now_ms - 3_600_000, tags={
        "mlflow.user": "ci-bot", "mlflow.source.type": "JOB", "mlflow.source.git.commit": trained_at,
        "GITHUB_RUN_ID": "8812345678",
    }).info.run_id
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(url)
    try:
        with mlflow.start_run(run_id=ci_run):
            mlflow.log_input(_dataset(), context="training")
    finally:
        mlflow.set_tracking_uri(previous)
    laptop_run = client.create_run(experiment, start_time=now_ms - 7_200_000, tags={
        "mlflow.user": "ann", "mlflow.source.type": "LOCAL", "mlflow.source.git.commit": FOREIGN_SHA,
    }).info.run_id
    client.set_terminated(laptop_run)
    old_run = client.create_run(experiment, start_time=now_ms - 400 * 86_400_000, tags={"mlflow.user": "bo"}).info.run_id
    client.set_terminated(old_run)
    # CO-j: a second person logs to the churn experiment; a third works alone on fraud
    shared_run = client.create_run(experiment, start_time=now_ms - 86_400_000, tags={"mlflow.user": "dana"}).info.run_id
    client.set_terminated(shared_run)
    fraud_experiment = client.create_experiment("fraud-training")
    client.set_terminated(client.create_run(fraud_experiment, start_time=now_ms - 2 * 86_400_000,
                                            tags={"mlflow.user": "cy"}).info.run_id)

    client.create_registered_model("churn", description="Monthly churn propensity", tags={"owner": "growth-ml"})
    for _ in range(24):
        client.create_model_version("churn", f"runs:/{laptop_run}/model", run_id=laptop_run)
    # the release job's audit record: who approved it, and the CI run that promoted it
    champion = client.create_model_version("churn", f"runs:/{ci_run}/model", run_id=ci_run,
                                           description="Retrained on March data",
                                           tags={"approved_by": "dana", "github_run_id": "8812399001"})
    client.set_registered_model_alias("churn", "champion", champion.version)
    client.create_registered_model("fraud")
    for _ in range(5):
        last = client.create_model_version("fraud", f"runs:/{laptop_run}/model", run_id=laptop_run)
    client.set_registered_model_alias("fraud", "challenger", "4")
    client.transition_model_version_stage("fraud", last.version, "Production")  # legacy stage (MLflow < 2.9)
    client.create_registered_model("scratch")
    return {
        "url": url, "db": mlflow_server["db"], "trained_at": trained_at, "champion": champion.version,
        "fraud_production": last.version, "ci_run": ci_run, "shared_run": shared_run,
    }


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch) -> None:
    """No link may come from the developer's environment, and GitHub is never linked."""
    for key in list(os.environ):
        if key.startswith(("MLFLOW_", "DATABRICKS_")) or key in ("GITHUB_TOKEN", "GH_TOKEN", "SOURCE_DATE_EPOCH"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def small_pages(monkeypatch) -> None:
    monkeypatch.setattr(registry_probe, "PAGE_SIZE", 10)


def server_items(items: list[Evidence], kind: Optional[str] = None) -> list[Evidence]:
    return [e for e in items if e.kind.startswith("mlflow.server.") and (kind is None or e.kind == kind)]


def one(items: list[Evidence], kind: str, **attrs: Any) -> Evidence:
    found = [e for e in server_items(items, kind) if all(e.attributes.get(k) == v for k, v in attrs.items())]
    assert len(found) == 1, f"{kind} {attrs}: {[(e.attributes, e.reason) for e in server_items(items, kind)]}"
    return found[0]


def run_probe(repo: Path, session: ServiceSession) -> list[Evidence]:
    with WorkTree(repo) as snapshot:
        result = run_probes(snapshot, [registry_probe.PROBE], services=session)
    assert not [p for p in result.problems if p.scope == "probe"], result.problems
    return result.evidence


def session_for(url: str, *, timeout: float = 5.0, token: Optional[str] = None) -> ServiceSession:
    link = ServiceLink(name="mlflow", url=url, token=token, source="test")
    return ServiceSession({"mlflow": link}, timeout=timeout)


# Exactly the rule changes proposed to the lead: each criterion also accepts the server kind.
SERVER_RULES = {
    "MD-2.1": {"kind": "mlflow.server.registry", "where": {"versions": {"gte": 1}}},
    "MD-2.2": {"kind": "mlflow.server.production_marker", "where": {"production": True}},
    "ET-2.3": {"kind": "mlflow.server.runs", "where": {"recent_runs_180d": {"gte": 1}}},
}


def pack_with_server_rules(tmp: Path):
    target = tmp / "rules"
    shutil.copytree(default_pack_dir(), target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for path in target.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for level in (doc.get("levels") or {}).values() if isinstance(doc, dict) else ():
            for criterion in level.get("criteria", []):
                extra = SERVER_RULES.get(criterion.get("id"))
                if extra and "match" in criterion:
                    criterion["match"] = {"any": [criterion["match"], extra]}
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_pack(kind_index(all_probes()), target)


# -- the real server --------------------------------------------------------------------------------


def test_registry_lineage_and_runs_from_the_server(seeded, repo, small_pages) -> None:
    card = scan(repo, mlflow_uri=seeded["url"])
    items = card.evidence
    for item in server_items(items):
        assert item.outcome == Outcome.present, item.reason
        assert item.strength == Strength.executed and not item.downgrades
        assert item.citation.source == "mlflow" and item.citation.response_digest.startswith("sha256:")
        assert item.citation.observed_at == card.header.generated_at

    registry = one(items, "mlflow.server.registry")
    assert registry.attributes == {"store": "rest", "models": 3, "versions": 30, "complete": True,
                                   "latest_version_created": registry.attributes["latest_version_created"]}
    assert registry.attributes["latest_version_created"] == time.strftime("%Y-%m-%d", time.gmtime())
    # 30 versions at 10 a page: every page was followed, and the citation says so
    assert "model-versions/search" in registry.citation.endpoint or "registered-models" in registry.citation.endpoint
    assert "(+" in registry.citation.endpoint

    champion = one(items, "mlflow.server.production_marker", model="churn", name="champion")
    assert champion.attributes == {"model": "churn", "marker": "alias", "name": "champion",
                                   "version": seeded["champion"], "production": True, "described": True, "owner": True}
    stage = one(items, "mlflow.server.production_marker", model="fraud", marker="stage")
    assert stage.attributes["name"] == "Production" and stage.attributes["version"] == seeded["fraud_production"]
    assert stage.attributes["production"] is True
    assert stage.attributes["described"] is False and stage.attributes["owner"] is False  # GV-g gaps
    challenger = one(items, "mlflow.server.production_marker", model="fraud", marker="alias")
    assert challenger.attributes["name"] == "challenger" and challenger.attributes["production"] is False

    lineage = one(items, "mlflow.server.lineage")
    assert lineage.attributes == {
        "aliased_versions": 2, "with_run": 2, "with_commit": 2, "commit_in_history": 1, "with_dataset": 1,
        "automated": 1, "completeness": 0.5, "commit_share": 0.5, "dataset_share": 0.5, "automated_share": 0.5,
        "history_checked": True,
    }
    recent = one(items, "mlflow.server.recent_lineage")
    assert recent.attributes["versions"] == 30 and recent.attributes["checked"] == 30
    assert recent.attributes["commit_in_history"] == 1 and recent.attributes["with_dataset"] == 1

    runs = one(items, "mlflow.server.runs")
    assert runs.attributes == {"store": "rest", "experiments": 3, "runs": 5, "recent_runs_180d": 4, "users": 5,
                               "automated_runs": 1, "last_run": runs.attributes["last_run"], "complete": True,
                               # ci-bot is automation: churn-training has two people (ann, dana), fraud one
                               "recent_users_180d": 4, "max_humans_per_experiment": 2, "shared_experiments": 1}

    champion_audit = one(items, "mlflow.server.promotion", model="churn")
    assert champion_audit.attributes == {
        "model": "churn", "version": seeded["champion"], "markers": ["champion"], "run": True,
        "commit_in_history": True, "data_digest": True, "dataset_input": True, "dataset_source": True,
        "described": True, "approval": True, "approver": True, "promoted_by_ci": True, "audit_complete": True,
        "missing": [], "history_checked": True, "created": registry.attributes["latest_version_created"]}
    fraud_audit = one(items, "mlflow.server.promotion", model="fraud")
    assert fraud_audit.attributes["markers"] == ["Production"] and fraud_audit.attributes["run"] is True
    assert fraud_audit.attributes["missing"] == ["approver", "commit", "data digest", "description"]
    assert not fraud_audit.attributes["audit_complete"] and not fraud_audit.attributes["promoted_by_ci"]
    assert not fraud_audit.attributes["dataset_source"]
    # no model card in this repository: neither production version has a current card
    for model in ("churn", "fraud"):
        card = one(items, "mlflow.server.model_card", model=model)
        assert card.attributes["card"] is None and card.attributes["current"] is False

    assert one(items, "mlflow.server.staleness", model="churn").attributes["days"] == 0
    assert one(items, "mlflow.server.staleness", model="fraud").attributes["version"] == seeded["fraud_production"]
    frequency = one(items, "mlflow.server.deploy_frequency", model="churn")
    assert frequency.attributes["versions_180d"] == 25
    assert frequency.attributes["versions_per_month"] == round(25 / (180 / 30.4375), 2)
    assert {e.attributes["model"] for e in server_items(items, "mlflow.server.staleness")} == {"churn", "fraud"}


def test_criteria_pass_with_the_server_rules(seeded, repo, tmp_path) -> None:
    pack = pack_with_server_rules(tmp_path)
    card = scan(repo, mlflow_uri=seeded["url"], pack=pack)
    results = {c.id: c for c in card.criteria}
    for criterion in ("MD-2.1", "MD-2.2", "ET-2.3"):
        assert results[criterion].status == "pass", (criterion, results[criterion].reason)
    evidence = {e.id: e.kind for e in card.evidence}
    assert {evidence[i] for i in results["MD-2.1"].evidence} == {"mlflow.server.registry"}
    assert {evidence[i] for i in results["ET-2.3"].evidence} == {"mlflow.server.runs"}
    # without the link the same criteria cannot pass: nothing in the repository proves it ran
    offline = {c.id: c for c in scan(repo, pack=pack).criteria}
    assert all(offline[c].status != "pass" for c in ("MD-2.1", "MD-2.2", "ET-2.3"))


def test_ages_are_measured_at_scan_time_and_ids_stay_stable(seeded, repo, monkeypatch) -> None:
    # a few seconds past now: SOURCE_DATE_EPOCH is whole seconds, and a version created within
    # the current second would otherwise be a hair younger than 10 days
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 5 + 10 * 86_400))
    later = scan(repo, mlflow_uri=seeded["url"]).evidence
    assert one(later, "mlflow.server.staleness", model="churn").attributes["days"] == 10
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 5 + 40 * 86_400))
    much_later = scan(repo, mlflow_uri=seeded["url"]).evidence
    assert one(much_later, "mlflow.server.staleness", model="churn").attributes["days"] == 40
    # counts and ages are measurements: the same facts keep their ids
    assert {e.id for e in server_items(later)} == {e.id for e in server_items(much_later)}


def test_sqlite_store_read_directly(seeded, repo, small_pages) -> None:
    over_rest = scan(repo, mlflow_uri=seeded["url"]).evidence
    direct = scan(repo, mlflow_uri=f"sqlite:///{seeded['db']}").evidence
    for kind in ("mlflow.server.lineage", "mlflow.server.recent_lineage"):
        assert one(direct, kind).attributes == one(over_rest, kind).attributes
    for kind in ("mlflow.server.registry", "mlflow.server.runs"):
        rest_attrs = {k: v for k, v in one(over_rest, kind).attributes.items() if k != "store"}
        assert {k: v for k, v in one(direct, kind).attributes.items() if k != "store"} == rest_attrs
        assert one(direct, kind).attributes["store"] == "sqlite"
    markers = sorted((e.attributes["model"], e.attributes["name"], e.attributes["version"])
                     for e in server_items(direct, "mlflow.server.production_marker"))
    assert markers == sorted((e.attributes["model"], e.attributes["name"], e.attributes["version"])
                             for e in server_items(over_rest, "mlflow.server.production_marker"))
    cited = one(direct, "mlflow.server.registry").citation
    assert cited.source == "mlflow" and cited.endpoint.startswith("sqlite:///") and cited.response_digest


def test_committed_sqlite_store_is_a_downgraded_mention(seeded, repo, tmp_path) -> None:
    src = tmp_path / "src"
    (src / "tracking").mkdir(parents=True)
    (src / "train.py").write_text(TRAIN_PY)
    shutil.copyfile(seeded["db"], src / "tracking" / "mlflow.db")
    committed = build_repo(src, tmp_path / "repo")
    card = scan(committed, pack=pack_with_server_rules(tmp_path))
    registry = one(card.evidence, "mlflow.server.registry")
    assert registry.strength == Strength.mention and registry.downgrades
    assert registry.citation.path == "tracking/mlflow.db" and registry.attributes["versions"] == 30
    assert not check_citation(committed, registry)
    assert {c.id: c for c in card.criteria}["MD-2.1"].status != "pass"


def test_unknown_sqlite_schema_is_unknown(tmp_path, repo) -> None:
    import sqlite3

    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
        conn.execute("CREATE TABLE registered_models (name TEXT)")
    session = session_for(f"sqlite:///{db}")
    items = run_probe(repo, session)
    registry = one(items, "mlflow.server.registry")
    assert registry.outcome == Outcome.unknown and "unknown MLflow schema" in registry.reason
    assert one(items, "mlflow.server.runs").outcome == Outcome.unknown
    assert session.states()["mlflow"].startswith("unreachable: unknown MLflow schema")  # not verifiable


def test_missing_sqlite_store_is_not_verifiable(repo, tmp_path) -> None:
    session = session_for(f"sqlite:///{tmp_path / 'absent' / 'mlflow.db'}")
    assert_unknown_everywhere(run_probe(repo, session), "cannot open")
    assert session.states()["mlflow"].startswith("unreachable: cannot open the sqlite store")


# -- failure modes ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: "_LocalServer"

    def _answer(self) -> None:
        self.server.hits.append((self.command, self.path, dict(self.headers)))
        if self.server.behaviour == "slow":
            self.server.release.wait(timeout=10)
        status, answer = 200, {}
        if self.server.behaviour == "auth":
            status, answer = 401, {"error_code": "UNAUTHENTICATED"}
        elif self.server.behaviour == "legacy":
            status, answer = _legacy_answer(self.path)
        body = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the slow case)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def _legacy_answer(path: str) -> tuple[int, dict]:
    """An older registry that wants ``filter=name='...'`` on version searches (the real server
    here does not, so this stand-in answers in the documented shapes)."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(path)
    query = parse_qs(parts.query)
    if parts.path.endswith("/registered-models/search"):
        return 200, {"registered_models": [{"name": "churn", "latest_versions": [
            {"name": "churn", "version": "3", "current_stage": "Production", "creation_timestamp": "1767614400000",
             "run_id": ""}]}]}
    if parts.path.endswith("/model-versions/search"):
        if query.get("filter") != ["name='churn'"]:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "filter is required"}
        return 200, {"model_versions": [
            {"name": "churn", "version": str(n), "current_stage": "Production" if n == 3 else "Archived",
             "creation_timestamp": str(1767614400000 - (3 - n) * 86_400_000)} for n in (1, 2, 3)]}
    if parts.path.endswith("/experiments/search"):
        return 200, {"experiments": []}
    return 404, {"error_code": "ENDPOINT_NOT_FOUND"}


class _LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.hits: list[tuple[str, str, dict]] = []
        self.release = threading.Event()


@contextmanager
def local_server(behaviour: str) -> Iterator[tuple[str, _LocalServer]]:
    server = _LocalServer(behaviour)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def assert_unknown_everywhere(items: list[Evidence], needle: str) -> None:
    kinds = {e.kind for e in server_items(items)}
    assert kinds == set(SERVER_KINDS), kinds
    for item in server_items(items):
        assert item.outcome == Outcome.unknown and needle in item.reason, (item.kind, item.reason)
        assert item.citation.source == "mlflow"


def test_server_down_is_unknown_and_unreachable(repo) -> None:
    port = _free_port()  # bound, then closed: nothing listens there
    session = session_for(f"http://127.0.0.1:{port}")
    items = run_probe(repo, session)
    assert_unknown_everywhere(items, "connection failed")
    assert session.states()["mlflow"].startswith("unreachable: connection failed")
    assert session._used["mlflow"] == 1  # gave up after the first refusal


def test_server_down_makes_criteria_not_verifiable(repo, tmp_path) -> None:
    card = scan(repo, mlflow_uri=f"http://127.0.0.1:{_free_port()}", pack=pack_with_server_rules(tmp_path))
    results = {c.id: c for c in card.criteria}
    # the repository registers models (configured), the server that could prove it is down
    reason = results["MD-2.1"].reason
    assert results["MD-2.1"].status == "unverified" and ("mlflow unreachable" in reason or "mlflow could not" in reason)
    # nothing in the repository says runs exist: not verifiable, never failed
    assert results["ET-2.3"].status == "unknown" and "connection failed" in results["ET-2.3"].reason


def test_slow_server_times_out(repo) -> None:
    with local_server("slow") as (url, _server):
        session = session_for(url, timeout=0.3)
        started = time.monotonic()
        items = run_probe(repo, session)
        assert time.monotonic() - started < 5
    assert_unknown_everywhere(items, "timed out")
    assert session.states()["mlflow"] == "unreachable: timed out after 0.3 s"


def test_auth_required_sends_basic_credentials_and_never_reports_them(repo, monkeypatch) -> None:
    with local_server("auth") as (url, server):
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret-pw")
        links = resolve_links(Config(), None, mlflow_uri=url,
                              env={"MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "s3cret-pw"})
        session = ServiceSession(links, timeout=5)
        items = run_probe(repo, session)
    assert_unknown_everywhere(items, "authentication required")
    assert session.states()["mlflow"].startswith("unreachable: authentication required")
    sent = server.hits[0][2].get("Authorization", "")
    assert sent == "Basic " + base64.b64encode(b"ann:s3cret-pw").decode()
    assert "s3cret" not in json.dumps([e.model_dump(mode="json") for e in items])


def test_bearer_token(repo) -> None:
    with local_server("auth") as (url, server):
        items = run_probe(repo, session_for(url, token="tok-123"))
    assert server.hits[0][2].get("Authorization") == "Bearer tok-123"
    assert "tok-123" not in json.dumps([e.model_dump(mode="json") for e in items])


def test_offline_makes_no_request(repo) -> None:
    with local_server("ok") as (url, server):
        card = scan(repo, mlflow_uri=url, offline=True)
    assert server.hits == []
    offline = server_items(card.evidence)
    assert offline and all(e.outcome == Outcome.unknown and "mlflow offline" in e.reason for e in offline)


def test_page_size_stays_within_the_api_limit() -> None:
    assert 0 < registry_probe.PAGE_SIZE <= 1000


def test_legacy_registry_needs_a_name_filter_and_has_stages(repo) -> None:
    with local_server("legacy") as (url, server):
        session = session_for(url)
        items = run_probe(repo, session)
    registry = one(items, "mlflow.server.registry")
    assert registry.outcome == Outcome.present and registry.attributes["versions"] == 3
    marker = one(items, "mlflow.server.production_marker")
    assert marker.attributes == {"model": "churn", "marker": "stage", "name": "Production", "version": "3",
                                 "production": True, "described": False, "owner": False}
    assert any("filter=name" in hit[1] or "filter=name%3D" in hit[1] for hit in server.hits)
    assert session.states()["mlflow"] == "linked"


def test_databricks_uri_uses_the_workspace_host_and_token(repo) -> None:
    with local_server("auth") as (url, server):
        links = resolve_links(Config(), None, env={"MLFLOW_TRACKING_URI": "databricks", "DATABRICKS_HOST": url,
                                                  "DATABRICKS_TOKEN": "dapi-test-token"})
        items = run_probe(repo, ServiceSession(links, timeout=5))
    _, path, headers = server.hits[0]
    assert path.startswith("/api/2.0/mlflow/registered-models/search")
    assert headers.get("Authorization") == "Bearer dapi-test-token"
    assert "dapi-test-token" not in json.dumps([e.model_dump(mode="json") for e in items])


def test_databricks_without_host_is_not_verifiable(repo) -> None:
    links = resolve_links(Config(), None, env={"MLFLOW_TRACKING_URI": "databricks"})
    session = ServiceSession(links, timeout=5)
    assert_unknown_everywhere(run_probe(repo, session), "DATABRICKS_HOST")
    assert session.states()["mlflow"].startswith("unreachable: databricks tracking URI")


LINKED_REPO = {
    ".github/workflows/ci.yml": """name: ci
on:
  push:
    branches: [main]
  pull_request:
env:
  MLFLOW_TRACKING_URI: ${{ secrets.MLFLOW_TRACKING_URI }}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: pytest tests
""",
    "MLproject": "name: churn\nentry_points:\n  main:\n    parameters:\n      n_estimators: {type: int, default: 200}\n"
                 "    command: python src/churn/train.py --n-estimators {n_estimators}\n",
    "src/churn/__init__.py": "",
    "src/churn/train.py": """import argparse

import mlflow
import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def main(n_estimators: int) -> None:
    frame = pd.read_parquet("data/train.parquet")
    with mlflow.start_run():
        mlflow.log_param("n_estimators", n_estimators)
        model = RandomForestClassifier(n_estimators=n_estimators).fit(frame.drop(columns="y"), frame["y"])
        mlflow.log_metric("train_rows", len(frame))
        mlflow.sklearn.log_model(model, "model")  # registration happens in the platform's release job


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-estimators", type=int, default=200)
    main(parser.parse_args().n_estimators)
""",
    "src/churn/serve.py": """import mlflow
from fastapi import FastAPI

app = FastAPI()
model = mlflow.pyfunc.load_model("models:/churn@champion")


@app.get("/health")
def health() -> dict:
    return {"ok": True}


@app.post("/predict")
def predict(rows: list[dict]) -> list[float]:
    return list(model.predict(rows))
""",
    "tests/test_model.py": "from sklearn.ensemble import RandomForestClassifier\n\n\ndef test_fits():\n"
                           "    assert RandomForestClassifier(n_estimators=2).fit([[0], [1]], [0, 1])\n",
    "charts/churn/Chart.yaml": "apiVersion: v2\nname: churn\nversion: 0.1.0\n",
    "charts/churn/values.yaml": "replicas: 2\n",
    "charts/churn/values-staging.yaml": "replicas: 1\n",
    "charts/churn/values-production.yaml": "replicas: 4\n",
    "requirements.txt": "mlflow\nscikit-learn\nfastapi\n",
}


def test_linking_the_registry_raises_levels_and_offline_is_not_failure(seeded, tmp_path) -> None:
    """Issue must-show: linked to the registry, model_deployment's level and experiment_tracking's
    verified level rise, with service citations in the JSON report; --offline, the same criteria
    are not verifiable (unknown or unverified) rather than failed."""
    import json

    src = tmp_path / "src"
    for rel, text in LINKED_REPO.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    repo = build_repo(src, tmp_path / "repo")
    linked = scan(repo, mlflow_uri=seeded["url"])
    offline = scan(repo, mlflow_uri=seeded["url"], offline=True)
    md_off, md_on = offline.dimension("model_deployment"), linked.dimension("model_deployment")
    et_off, et_on = offline.dimension("experiment_tracking"), linked.dimension("experiment_tracking")
    assert md_on.level >= md_off.level + 1, (md_off, md_on)
    assert et_on.verified_level >= et_off.verified_level + 1, (et_off, et_on)
    report = json.loads(linked.to_json())
    cited = [e for e in report["evidence"] if (e["citation"] or {}).get("source") == "mlflow"]
    assert cited and all(e["citation"]["endpoint"] and e["citation"]["response_digest"] for e in cited)
    off = {c.id: c for c in offline.criteria}
    assert off["MD-2.1"].status == "unknown" and "mlflow offline" in off["MD-2.1"].reason
    assert off["ET-2.3"].status == "unverified"
    on = {c.id: c.status for c in linked.criteria}
    assert on["MD-2.1"] == on["MD-2.2"] == on["ET-2.3"] == "pass"


def test_a_declared_tracking_uri_is_read_only_when_allowed(seeded, tmp_path) -> None:
    """The repository's own set_tracking_uri("http://...") links the server with --link-declared;
    by default mlscan never contacts a host a scanned repository chose."""
    src = tmp_path / "src"
    (src / "src").mkdir(parents=True)
    (src / "src" / "train.py").write_text(
        f'import mlflow\n\nmlflow.set_tracking_uri("{seeded["url"]}")\n\nif __name__ == "__main__":\n'
        '    with mlflow.start_run():\n        mlflow.log_metric("auc", 0.9)\n')
    repo = build_repo(src, tmp_path / "repo")
    default = scan(repo)
    assert all(e.outcome == Outcome.unknown for e in server_items(default.evidence))
    followed = scan(repo, follow_declared=True)
    registry = one(followed.evidence, "mlflow.server.registry")
    assert registry.outcome == Outcome.present and registry.citation.source == "mlflow"
    offline = server_items(scan(repo, follow_declared=True, offline=True).evidence)
    assert offline and all(e.outcome == Outcome.unknown and "mlflow offline" in e.reason for e in offline)


# -- promotions, lineage to the dataset, the model card, shared experiments ----------------------

PROMOTE_PY = '''"""Release job: promote a validated version to champion, only with its audit record."""
import os

from mlflow import MlflowClient

REQUIRED_TAGS = ("approved_by", "github_run_id")


def main(version: str) -> None:
    client = MlflowClient()
    found = client.get_model_version("churn", version)
    missing = [t for t in REQUIRED_TAGS if not found.tags.get(t)]
    if missing or not found.description:
        raise SystemExit(f"churn v{version} lacks {missing or 'a description'}")
    client.set_registered_model_alias("churn", "champion", version)


if __name__ == "__main__":
    main(os.environ["MODEL_VERSION"])
'''

TRAIN_WITH_INPUTS_PY = '''"""Train the churn model on the versioned extract and register it."""
import mlflow
import mlflow.sklearn
import pandas as pd
from sklearn.linear_model import LogisticRegression


def main() -> None:
    mlflow.set_experiment("churn-training")
    frame = pd.read_parquet("s3://example-bucket/churn/train.parquet")
    with mlflow.start_run():
        mlflow.log_input(mlflow.data.from_pandas(frame, source="s3://example-bucket/churn/train.parquet"),
                         context="training")
        model = LogisticRegression(C=0.5).fit(frame.drop(columns="churned"), frame["churned"])
        mlflow.log_metric("auc", 0.91)
        mlflow.sklearn.log_model(model, "model", registered_model_name="churn")


if __name__ == "__main__":
    main()
'''


def model_card(version: str) -> str:
    return f"""# Model card: churn

## Model details
Logistic regression predicting monthly churn propensity, owned by the growth ML team.
Registered model `churn`, production version: {version} (alias `champion`).

## Intended use
Ranking active subscribers for the retention campaign; not for pricing or credit decisions.

## Training data
The March extract of active subscribers (s3://example-bucket/churn/train.parquet), 7,043 rows.

## Metrics
AUC 0.91 on the April hold-out; recall at the top decile 0.62.

## Ethical considerations
Tenure and charges only; no protected attributes are used as features.

## Caveats and recommendations
Retrain monthly: the churn rate drifts with seasonal promotions.
"""


def release_repo(repo: Path, dest: Path, card: Optional[str], card_date: str, card_path: str = "MODEL_CARD.md") -> Path:
    """The session repository (its history holds the champion's commit), plus a release job, serving
    files, and a model card committed at ``card_date``."""
    from tests.gitrepo import commit

    git(dest.parent, "clone", "-q", str(repo), str(dest))
    git(dest, "config", "commit.gpgsign", "false")
    files = {**LINKED_REPO, "src/promote.py": PROMOTE_PY, "src/train.py": TRAIN_WITH_INPUTS_PY}
    for rel, text in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    commit(dest, "Bo Chen <bo@example.com>", "2026-03-12T09:00:00+00:00", "Release job and serving")
    if card is not None:
        (dest / card_path).parent.mkdir(parents=True, exist_ok=True)
        (dest / card_path).write_text(card)
        commit(dest, "Ann Lee <ann@example.com>", card_date, "Model card")
    return dest


def store_copy(seeded: dict[str, Any], dest: Path, change) -> str:
    """A copy of the seeded store changed by MLflow's own client (``change(client)``), read as a
    linked sqlite store. The sqlite backup API also copies pages still in the server's journal."""
    import sqlite3

    from mlflow import MlflowClient

    dest.mkdir(parents=True, exist_ok=True)
    copy = dest / "mlflow.db"
    with sqlite3.connect(seeded["db"]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    uri = f"sqlite:///{copy}"
    change(MlflowClient(tracking_uri=uri, registry_uri=uri))
    return uri


@pytest.fixture(scope="module")
def released_store(seeded, tmp_path_factory) -> str:
    """The release team archived the fraud model's legacy Production stage: only the audited
    champion holds a production marker now."""
    return store_copy(seeded, tmp_path_factory.mktemp("released"), lambda client: client.transition_model_version_stage(
        "fraud", seeded["fraud_production"], "Archived"))


PROMOTION_CRITERIA = ("DM-4.3", "GV-4.2", "MD-4.5", "GV-3.4")


def results_of(card) -> dict[str, Any]:
    return {c.id: c for c in card.criteria}


def test_audit_lineage_and_card_from_the_seeded_server(seeded, repo) -> None:
    """The fraud model's legacy Production version has no dataset, approver, description or commit
    of this repository, and no card names either production version: every promotion criterion
    fails, with the registry's evidence cited."""
    card = scan(repo, mlflow_uri=seeded["url"])
    results = results_of(card)
    evidence = {e.id: e for e in card.evidence}
    for criterion in PROMOTION_CRITERIA:
        assert results[criterion].status == "fail", (criterion, results[criterion].reason)
    cited = {evidence[i].kind for i in results["GV-4.2"].evidence}
    assert cited == {"mlflow.server.promotion"}
    assert all(evidence[i].citation.source == "mlflow" and evidence[i].citation.response_digest
               for i in results["GV-4.2"].evidence)
    # people, not just accounts, share the churn experiment (ann and dana; ci-bot is automation)
    assert results["CO-3.4"].status == "pass"
    assert results["GV-4.5"].status == "unknown" and "webhooks" in results["GV-4.5"].reason


def test_a_fully_audited_release_passes(seeded, repo, released_store, tmp_path) -> None:
    dest = release_repo(repo, tmp_path / "release", model_card(seeded["champion"]), "2026-03-20T10:00:00+00:00")
    card = scan(dest, mlflow_uri=released_store)
    results = results_of(card)
    for criterion in PROMOTION_CRITERIA + ("CO-3.4",):
        assert results[criterion].status == "pass", (criterion, results[criterion].reason)
    promotions = server_items(card.evidence, "mlflow.server.promotion")
    assert [(e.attributes["model"], e.attributes["audit_complete"]) for e in promotions] == [("churn", True)]
    assert promotions[0].strength == Strength.executed and promotions[0].citation.endpoint.startswith("sqlite:///")
    synced = one(card.evidence, "mlflow.server.model_card", model="churn")
    # the card was committed in March, before the version: it is current because it names it
    assert synced.attributes == {
        "model": "churn", "version": seeded["champion"], "card": "MODEL_CARD.md", "names_version": True,
        "updated_after_version": False, "current": True, "history_checked": True, "card_updated": "2026-03-20",
        "version_created": synced.attributes["version_created"]}
    # without the registry the same repository is unverified, never failed: it logs dataset inputs,
    # registers and promotes in code, and keeps a model card
    offline = results_of(scan(dest))
    for criterion in PROMOTION_CRITERIA:
        assert offline[criterion].status == "unverified", (criterion, offline[criterion].reason)
    assert offline["GV-4.5"].status == "unknown"
    # a repository with none of that in code: not verifiable
    bare = results_of(scan(repo))
    assert all(bare[c].status == "unknown" and "mlflow not linked" in bare[c].reason for c in PROMOTION_CRITERIA)


def test_a_card_committed_after_the_version_is_current(seeded, repo, released_store, tmp_path) -> None:
    undated = model_card(seeded["champion"]).replace(f"production version: {seeded['champion']}", "the champion")
    tomorrow = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 86_400))
    fresh = release_repo(repo, tmp_path / "fresh", undated, tomorrow)
    synced = one(scan(fresh, mlflow_uri=released_store).evidence, "mlflow.server.model_card", model="churn")
    assert (synced.attributes["names_version"], synced.attributes["updated_after_version"]) == (False, True)
    assert synced.attributes["current"] is True
    stale = release_repo(repo, tmp_path / "stale", undated, "2026-03-20T10:00:00+00:00")
    card = scan(stale, mlflow_uri=released_store)
    synced = one(card.evidence, "mlflow.server.model_card", model="churn")
    assert synced.attributes["card"] == "MODEL_CARD.md" and synced.attributes["current"] is False
    assert results_of(card)["GV-3.4"].status == "fail"


def test_a_model_card_toolkit_card_names_its_version(seeded, repo, released_store, tmp_path) -> None:
    toolkit = {"model_details": {"name": "churn", "overview": "Monthly churn propensity for retention.",
                                 "version": {"name": seeded["champion"], "date": "2026-03-20"},
                                 "owners": [{"name": "Growth ML", "contact": "growth-ml@example.com"}]},
               "considerations": {"use_cases": [{"description": "Rank subscribers for retention offers."}]}}
    dest = release_repo(repo, tmp_path / "toolkit", json.dumps(toolkit, indent=2), "2026-03-20T10:00:00+00:00",
                        card_path="docs/model_card.json")
    synced = one(scan(dest, mlflow_uri=released_store).evidence, "mlflow.server.model_card", model="churn")
    assert synced.attributes["card"] == "docs/model_card.json"
    assert synced.attributes["names_version"] is True and synced.attributes["updated_after_version"] is False


def test_one_person_per_experiment_is_not_a_shared_platform(seeded, repo, tmp_path) -> None:
    """Without dana's run, churn-training has one person and ci-bot, fraud-training one person:
    four users in all (ET-3.4 counts them), but no experiment two people share."""
    uri = store_copy(seeded, tmp_path / "alone", lambda client: client.delete_run(seeded["shared_run"]))
    card = scan(repo, mlflow_uri=uri)
    runs = one(card.evidence, "mlflow.server.runs")
    assert runs.attributes["recent_users_180d"] == 3 and runs.attributes["max_humans_per_experiment"] == 1
    assert runs.attributes["shared_experiments"] == 0
    assert results_of(card)["CO-3.4"].status == "fail"


def test_promotion_and_card_read_the_same_over_rest_and_sqlite(seeded, repo) -> None:
    over_rest = scan(repo, mlflow_uri=seeded["url"]).evidence
    direct = scan(repo, mlflow_uri=f"sqlite:///{seeded['db']}").evidence
    for kind in ("mlflow.server.promotion", "mlflow.server.model_card"):
        assert sorted(json.dumps(e.attributes, sort_keys=True) for e in server_items(direct, kind)) == \
            sorted(json.dumps(e.attributes, sort_keys=True) for e in server_items(over_rest, kind))


def test_committed_file_store_audit_tags_are_a_downgraded_mention(tmp_path) -> None:
    """The committed tutorial store, with the approver and CI tags a release job writes as
    ``tags/<key>`` files: read, but a frozen local copy is never executed evidence."""
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "probes" / "mlflow_registry" / "committed_local_registry"
    src = tmp_path / "src"
    shutil.copytree(fixture / "repo", src)
    tags = src / "mlruns" / "models" / "churn" / "version-2" / "tags"
    tags.mkdir()
    (tags / "approved_by").write_text("maria")
    (tags / "ci_pipeline_id").write_text("118832")
    (tags / "model_validation_status").write_text("PENDING")
    spec = yaml.safe_load((fixture / "expected.yaml").read_text())
    committed = build_repo(src, tmp_path / "repo", spec["history"])
    promotion = one(scan(committed).evidence, "mlflow.server.promotion")
    assert promotion.strength == Strength.mention and promotion.downgrades
    assert promotion.citation.path == "mlruns/models/churn/version-2/meta.yaml"
    assert promotion.attributes["markers"] == ["champion"] and promotion.attributes["dataset_source"] is True
    assert (promotion.attributes["approver"], promotion.attributes["promoted_by_ci"]) == (True, True)
    assert promotion.attributes["missing"] == ["commit", "description"]  # a laptop commit; no version text


@pytest.mark.parametrize("text, found", [
    ("Registered model `churn`, production version: 25", True),
    ("| Model version | 25 |", True),
    ("Serving loads models:/churn/25 behind the API.", True),
    ("champion v25, promoted in March", True),
    ("Requires Python version 25 or later", False),  # a version, but not of the model
    ("Production version: 250", False),
    ("Production version: 25.1", False),
    ("model_version: 25", True),
])
def test_names_version(text: str, found: bool) -> None:
    assert registry_probe.names_version(text, "churn", "25") is found


@pytest.mark.parametrize("user, person", [
    ("ann", True), ("anna.smith@example.com", True), ("ci-bot", False), ("github-actions[bot]", False),
    ("svc-trainer", False), ("root", False), ("jenkins", False), ("4f1e2d3c-1a2b-4c3d-9e8f-0a1b2c3d4e5f", False),
])
def test_people_and_service_accounts(user: str, person: bool) -> None:
    assert registry_probe.is_person(user) is person


def test_audit_tags() -> None:
    assert registry_probe.audit_tags({"governance.approved_by": "dana", "GITHUB_RUN_ID": "1"}) == (True, True, True)
    assert registry_probe.audit_tags({"approved_by": "pending", "model_validation_status": "PASSED"}) == (True, False, False)
    assert registry_probe.audit_tags({"approver": "", "validation_status": "FAILED"}) == (False, False, False)
