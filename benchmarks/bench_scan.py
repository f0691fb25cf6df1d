"""Scan speed against the I/O floor, measured in the same run on the same machine.

Builds a monorepo of >= 20,000 files (Python packages, CI files, k8s and Helm YAML, notebooks,
DVC pointers, docs), then prints:

- the work-tree scan (``mlscan scan PATH``) against its floor: ``git ls-files`` plus ``cat`` of
  every file the probes asked for;
- the commit scan (``mlscan scan --rev HEAD``) against its floor: ``git ls-tree`` plus
  ``git cat-file --batch`` of the same files;
- peak memory of the scan process;
- ``mlscan --version`` start-up time.

Ratios, not absolute seconds, are the figures to compare across machines. Run:
``python benchmarks/bench_scan.py [--files N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PY_TEMPLATE = '''"""Module {name} of package {pkg}."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
{extra_import}

log = logging.getLogger(__name__)


@dataclass
class Config{n}:
    path: str = "data/{pkg}/input_{n}.parquet"
    batch_size: int = {n}
    threshold: float = 0.{n}


def load_{n}(cfg: Config{n}) -> list[dict]:
    log.info("loading %s", cfg.path)
    with open(cfg.path) as handle:
        return [json.loads(line) for line in handle]


def transform_{n}(rows: list[dict], cfg: Config{n}) -> list[dict]:
    out = []
    for row in rows:
        value = float(row.get("value", 0))
        if value > cfg.threshold:
            out.append({{"id": row["id"], "value": value * 2}})
    return out
{extra_body}
'''

ML_IMPORT = "import mlflow\nimport pandas as pd\nfrom sklearn.ensemble import RandomForestClassifier"
ML_BODY = '''

def train_{n}(frame: "pd.DataFrame") -> None:
    with mlflow.start_run():
        mlflow.log_param("n_estimators", {n})
        model = RandomForestClassifier(n_estimators={n}).fit(frame.drop(columns="y"), frame["y"])
        mlflow.log_metric("train_rows", len(frame))
        mlflow.sklearn.log_model(model, "model", registered_model_name="model-{pkg}")


if __name__ == "__main__":
    train_{n}(pd.read_parquet("data/train.parquet"))
'''

WORKFLOW = """name: {name}
on:
  push:
    branches: [main]
    paths: ["packages/{pkg}/**"]
  pull_request:
  schedule:
    - cron: "0 {hour} * * 1"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -e packages/{pkg}[test]
      - run: pytest packages/{pkg}/tests -q
  train:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: dvc repro packages/{pkg}/dvc.yaml
      - run: dvc push
"""

K8S = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: server
          image: registry.example.com/{name}:1.{n}.0
          ports: [{{containerPort: 8080}}]
          readinessProbe:
            httpGet: {{path: /health, port: 8080}}
          livenessProbe:
            httpGet: {{path: /health, port: 8080}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""

HELM_TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}-{name}
spec:
  replicas: {{{{ .Values.replicas }}}}
  template:
    spec:
      containers:
        - name: {name}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
"""

DVC_YAML = """stages:
  prepare:
    cmd: python -m {pkg}.prepare
    deps: [data/raw.csv, src/{pkg}/prepare.py]
    outs: [data/prepared.parquet]
  train:
    cmd: python -m {pkg}.train
    deps: [data/prepared.parquet, src/{pkg}/train.py]
    params: [train]
    outs: [models/model.pkl]
    metrics: [{{metrics.json: {{cache: false}}}}]
"""

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Exploration {n}\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": ["import pandas as pd\n", "df = pd.read_csv('data/sample_{n}.csv')\n", "df.describe()"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build_monorepo(dest: Path, files: int, seed: int = 7) -> int:
    """Write a monorepo of about ``files`` files and commit it; returns the file count."""
    rng = random.Random(seed)
    count = 0
    packages = 40
    per_package = max(10, (files - 4000) // packages)
    for p in range(packages):
        pkg = f"pkg{p:02d}"
        base = dest / "packages" / pkg
        write(base / "pyproject.toml", f'[project]\nname = "{pkg}"\nversion = "0.{p}.0"\n')
        write(base / "dvc.yaml", DVC_YAML.format(pkg=pkg))
        write(base / "params.yaml", f"train:\n  n_estimators: {100 + p}\n  max_depth: {p % 9 + 2}\n")
        count += 3
        for n in range(per_package):
            kind = rng.random()
            if kind < 0.06:
                text = PY_TEMPLATE.format(name=f"m{n}", pkg=pkg, n=n, extra_import=ML_IMPORT,
                                          extra_body=ML_BODY.format(n=n, pkg=pkg))
            else:
                text = PY_TEMPLATE.format(name=f"m{n}", pkg=pkg, n=n, extra_import="", extra_body="")
            folder = "tests" if n % 10 == 0 else f"src/{pkg}/sub{n % 7}"
            name = f"test_m{n}.py" if folder == "tests" else f"m{n}.py"
            write(base / folder / name, text)
            count += 1
    for w in range(30):
        write(dest / ".github" / "workflows" / f"pkg{w:02d}.yml", WORKFLOW.format(name=f"pkg{w:02d}", pkg=f"pkg{w:02d}", hour=w % 24))
        count += 1
    for k in range(1200):
        write(dest / "deploy" / "k8s" / f"svc{k:04d}.yaml", K8S.format(name=f"svc{k:04d}", n=k))
        count += 1
    for c in range(40):
        chart = dest / "charts" / f"chart{c:02d}"
        write(chart / "Chart.yaml", f"apiVersion: v2\nname: chart{c:02d}\nversion: 0.1.{c}\n")
        write(chart / "values.yaml", "replicas: 2\nimage:\n  repository: registry.example.com/x\n  tag: latest\n")
        write(chart / "values-production.yaml", "replicas: 6\n")
        count += 3
        for t in range(10):
            write(chart / "templates" / f"deploy{t}.yaml", HELM_TEMPLATE.format(name=f"c{c}t{t}"))
            count += 1
    for n in range(600):
        nb = json.loads(json.dumps(NOTEBOOK).replace("{n}", str(n)))
        write(dest / "notebooks" / f"explore_{n:03d}.ipynb", json.dumps(nb, indent=1))
        count += 1
    for n in range(800):
        write(dest / "data" / f"table_{n:03d}.parquet.dvc",
              f"outs:\n- md5: {n:032x}\n  size: {1000 + n}\n  path: table_{n:03d}.parquet\n")
        count += 1
    for n in range(max(0, files - count)):
        write(dest / "docs" / f"section{n // 100:02d}" / f"page{n:05d}.md", f"# Page {n}\n\nSome text about component {n}.\n")
        count += 1
    write(dest / "README.md", "# Monorepo\n\n## Setup\n\n`pip install -e packages/pkg00`\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2026-06-01T00:00:00+00:00", "GIT_COMMITTER_DATE": "2026-06-01T00:00:00+00:00"}
    for args in (["init", "-q", "-b", "main"], ["remote", "add", "origin", "https://github.com/bench/mono.git"],
                 ["add", "-A"], ["commit", "-q", "-m", "monorepo"]):
        subprocess.run(["git", *args], cwd=dest, check=True, env=env)
    return count + 1


def files_the_probes_read(repo: Path, rev: str | None) -> list[str]:
    from scanner.facts import Facts
    from scanner.registry import all_probes
    from scanner.runner import run_probes
    from scanner.snapshot import open_snapshot

    probes = all_probes()
    with open_snapshot(repo, rev) as snapshot:
        facts = Facts(snapshot, python_tokens=[t for p in probes for t in p.python_tokens])
        run_probes(snapshot, probes, facts)
        return facts.paths_read()


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def floor_worktree(repo: Path, paths: list[str]) -> None:
    subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["xargs", "-0", "cat"], cwd=repo, input="\0".join(paths).encode(), check=True,
                   stdout=subprocess.DEVNULL)


def floor_git_objects(repo: Path, paths: list[str]) -> None:
    listing = subprocess.run(["git", "ls-tree", "-r", "-l", "-z", "HEAD"], cwd=repo, check=True,
                             capture_output=True).stdout.decode()
    wanted = set(paths)
    blobs = []
    for record in filter(None, listing.split("\0")):
        meta, path = record.split("\t", 1)
        if path in wanted:
            blobs.append(meta.split()[2])
    subprocess.run(["git", "cat-file", "--batch"], cwd=repo, input=("\n".join(blobs) + "\n").encode(),
                   check=True, stdout=subprocess.DEVNULL)


def mlscan_cmd() -> list[str]:
    exe = shutil.which("mlscan", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "scanner.cli"]


def run_scan(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `mlscan` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(mlscan_cmd() + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the repo here and keep it")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="mlscan-bench-"))
    repo = work / "mono"
    if not repo.exists():
        started = time.perf_counter()
        total = build_monorepo(repo, args.files)
        print(f"built {total} files in {time.perf_counter() - started:.1f}s at {repo}")
    else:
        print(f"reusing {repo}")
    try:
        report(repo, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def compile_bytecode() -> None:
    """Write the .pyc files an installed mlscan has (pip compiles them at install time), so
    start-up is measured as users see it, also where PYTHONDONTWRITEBYTECODE is set."""
    import compileall

    for package in ("scanner", "probes"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def report(repo: Path, repeat: int) -> None:
    compile_bytecode()
    listed = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.count("\n")
    rows = []
    peaks = []
    for label, rev, floor in (("work tree", None, floor_worktree), ("--rev HEAD", "HEAD", floor_git_objects)):
        paths = files_the_probes_read(repo, rev)
        floor_s = timed(lambda: floor(repo, paths), repeat)
        scan_args = ["scan", str(repo), "--format", "json", "--quiet", "-o", os.devnull] + (["--rev", rev] if rev else [])
        samples = [run_scan(scan_args + ["--no-cache"]) for _ in range(repeat)]
        peaks.append(max(m for _, m in samples))
        rows.append((label, "first scan", len(paths), floor_s, statistics.median(s for s, _ in samples)))
        with tempfile.TemporaryDirectory(prefix="mlscan-cache-") as cache:
            cached = scan_args + ["--cache-dir", cache]
            run_scan(cached)  # records every probe's run
            samples = [run_scan(cached) for _ in range(repeat)]
        peaks.append(max(m for _, m in samples))
        rows.append((label, "rescan", len(paths), floor_s, statistics.median(s for s, _ in samples)))
    version_s = timed(lambda: subprocess.run(mlscan_cmd() + ["--version"], check=True, stdout=subprocess.DEVNULL,
                                             env={**os.environ, "PYTHONPATH": str(ROOT)}), 5)
    python_s = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 5)
    print(f"\nrepository: {listed} files; medians of {repeat} runs")
    print("first scan: no result cache (--no-cache); rescan: the same tree again, probes' runs in the cache\n")
    print(f"{'scan':<12}{'':<12}{'files read':>12}{'floor s':>10}{'scan s':>10}{'ratio':>8}   target")
    for label, kind, n, floor_s, scan_s in rows:
        print(f"{label:<12}{kind:<12}{n:>12}{floor_s:>10.3f}{scan_s:>10.3f}{scan_s / floor_s:>8.1f}x  <= 3x and < 3 s")
    print(f"\npeak memory of the scan process: {max(peaks):.0f} MiB (target <= 300 MiB)")
    print(f"mlscan --version: {version_s:.3f} s (bare python start-up {python_s:.3f} s; target <= 0.3 s)")


if __name__ == "__main__":
    main()
