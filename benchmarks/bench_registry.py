"""The MLflow registry probe against a real ``mlflow server`` holding 10,000 model versions.

Seeding 10,000 versions through the client would take minutes, so the store is built the fast
way: MLflow itself creates the sqlite schema (and a few runs with commit tags and dataset inputs
through its client), then the registered models, versions and aliases are bulk-inserted with
``sqlite3`` in one transaction. The server is started on 127.0.0.1 over that store, and two things
are timed against it, each on a cold session, median of ``--repeat``:

* the probe: ``run_probes`` with only ``mlflow_registry``, a fresh ``ServiceSession`` each time;
* the floor: a bare ``requests`` loop over exactly the requests the probe made (same pages, same
  page tokens), decoding each JSON body as any paginated client must.

The ratio probe/floor is the probe's own overhead (parsing, evidence, citations). Run it with an
interpreter that has mlflow installed (a test dependency: ``pip install ".[test]"``).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import probes.mlflow_registry as registry_probe
from scanner.runner import run_probes
from scanner.services import Response, ServiceLink, ServiceSession
from scanner.snapshot import WorkTree
from tests.gitrepo import build_repo, git

STARTUP_SECONDS = 90


class RecordingSession(ServiceSession):
    """A session that remembers each request it sent, for the floor to replay."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, str, Any, Any]] = []

    def request(self, name: str, method: str, path: str, **kwargs: Any) -> Response:
        self.sent.append((method, path, kwargs.get("params"), kwargs.get("body")))
        return super().request(name, method, path, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DATABRICKS_"))}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


def make_repo(work: Path) -> tuple[Path, str]:
    src = work / "src"
    src.mkdir()
    (src / "train.py").write_text("import mlflow\n\nif __name__ == '__main__':\n    mlflow.autolog()\n")
    repo = build_repo(src, work / "repo")
    return repo, git(repo, "rev-parse", "HEAD").strip()


def seed(db: Path, commit: str, models: int, versions: int) -> float:
    """Schema and runs through MLflow (in process), then registry rows in bulk; returns seconds."""
    started = time.perf_counter()
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("forecast", artifact_location=str(db.parent / "artifacts"))
    runs = []
    for index in range(3):
        run = client.create_run(experiment, tags={
            "mlflow.user": f"user{index}", "mlflow.source.type": "JOB" if index else "LOCAL",
            "mlflow.source.git.commit": commit, "GITHUB_RUN_ID": str(1000 + index),
        })
        runs.append(run.info.run_id)
    mlflow.set_tracking_uri(uri)
    import numpy as np

    with mlflow.start_run(run_id=runs[1]):
        mlflow.log_input(mlflow.data.from_numpy(np.arange(10).reshape(5, 2), source="data/train.npy"), context="training")
    mlflow.set_tracking_uri("")
    client.create_registered_model("schema-probe")  # makes sure every registry table exists
    client.delete_registered_model("schema-probe")

    now = int(time.time() * 1000)
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(model_versions)")}
        per_model = versions // models
        model_rows, version_rows, alias_rows = [], [], []
        for m in range(models):
            name = f"model-{m:03d}"
            model_rows.append({"name": name, "creation_time": now, "last_updated_time": now,
                               "description": f"forecast model {m}"})
            for v in range(1, per_model + 1):
                version_rows.append({
                    "name": name, "version": v, "creation_time": now - (per_model - v) * 3_600_000,
                    "last_updated_time": now, "description": "", "user_id": None, "current_stage": "None",
                    "source": f"runs:/{runs[v % 3]}/model", "run_id": runs[v % 3], "status": "READY",
                    "status_message": None, "run_link": "", "storage_location": f"runs:/{runs[v % 3]}/model",
                })
            alias_rows.append({"alias": "champion", "version": per_model, "name": name})
        insert(conn, "registered_models", model_rows)
        insert(conn, "model_versions", [{k: v for k, v in row.items() if k in columns} for row in version_rows])
        insert(conn, "registered_model_aliases", alias_rows)
    return time.perf_counter() - started


def insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})"
    conn.executemany(sql, [tuple(row[k] for k in keys) for row in rows])


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{db}",
               "--default-artifact-root", str(db.parent / "artifacts"), "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1"]
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=db.parent, stdout=out, stderr=subprocess.STDOUT,
                                env=clean_env(), start_new_session=True)


def wait_healthy(url: str, proc: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("mlflow server exited during start-up")
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise SystemExit(f"mlflow server not healthy after {STARTUP_SECONDS} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def probe_once(repo: Path, url: str) -> tuple[float, RecordingSession, list]:
    session = RecordingSession({"mlflow": ServiceLink(name="mlflow", url=url)}, timeout=60)
    with WorkTree(repo) as snapshot:
        started = time.perf_counter()
        result = run_probes(snapshot, [registry_probe.PROBE], services=session)
        elapsed = time.perf_counter() - started
    session.close()
    return elapsed, session, result.evidence


def floor_once(url: str, sent: list[tuple[str, str, Any, Any]]) -> float:
    import requests

    with requests.Session() as http:
        started = time.perf_counter()
        for method, path, params, body in sent:
            answer = http.request(method, url + path, params=params, json=body, timeout=60)
            answer.raise_for_status()
            answer.json()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlscan-bench-registry-") as tmp:
        work = Path(tmp)
        repo, commit = make_repo(work)
        db = work / "store" / "mlflow.db"
        db.parent.mkdir()
        seconds = seed(db, commit, args.models, args.versions)
        print(f"seeded {args.versions} versions of {args.models} models in {seconds:.1f} s")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(db, port, work / "server.log")
        try:
            wait_healthy(url, proc)
            _, session, evidence = probe_once(repo, url)  # warm-up, and the request list
            floor_once(url, session.sent)
            registry = next(e for e in evidence if e.kind == "mlflow.server.registry")
            assert registry.attributes["versions"] == args.versions, registry.attributes
            probe_times, floor_times = [], []
            for turn in range(args.repeat):  # alternate which goes first: the server warms up too
                if turn % 2:
                    floor_times.append(floor_once(url, session.sent))
                probe_times.append(probe_once(repo, url)[0])
                if not turn % 2:
                    floor_times.append(floor_once(url, session.sent))
        finally:
            stop(proc)
    print(f"requests per scan: {len(session.sent)} (page size {registry_probe.PAGE_SIZE})")
    print(f"registry evidence: {registry.attributes}")
    for label, pick in (("median", statistics.median), ("best", min)):
        probe, floor = pick(probe_times), pick(floor_times)
        print(f"{label:>6}: probe {probe:.3f} s   raw paginated REST floor {floor:.3f} s   ratio {probe / floor:.2f}x")


if __name__ == "__main__":
    main()
