"""``mlscan diff`` against one ``mlscan scan`` on the benchmark monorepo, measured in the same run.

Builds (or reuses, with --keep) the 20,000-file monorepo of bench_scan.py, adds a head commit that
touches a few files the way a pull request does (a training module, a workflow, a manifest), and
prints the diff time over the time of scanning the head alone. Target: <= 1.3x.

Three diffs are timed: with no result cache (everything computed in this process); as a CI gate
runs it, with the base's probe runs already in the result cache; and the same diff repeated.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scan import ROOT, build_monorepo, mlscan_cmd  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.com",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "b@example.com"}


def make_head(repo: Path) -> None:
    """A pull-request-sized change on top of the monorepo's first commit, on branch `pr`."""
    subprocess.run(["git", "checkout", "-q", "-B", "pr", "main"], cwd=repo, check=True)
    ml = next(p for p in sorted((repo / "packages" / "pkg03").rglob("*.py")) if "mlflow" in p.read_text())
    with open(ml, "a") as handle:
        handle.write("\n\ndef evaluate_extra(frame):\n    mlflow.log_metric('rows', len(frame))\n")
    workflow = repo / ".github" / "workflows" / "pkg03.yml"
    workflow.write_text(workflow.read_text().replace("pytest packages/pkg03/tests -q", "pytest packages/pkg03/tests -q -x"))
    manifest = repo / "deploy" / "k8s" / "svc0003.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 2", "replicas: 3"))
    subprocess.run(["git", "commit", "-q", "-am", "PR: tweak pkg03"], cwd=repo, check=True, env=ENV)


def timed(args: list[str], repeat: int, prepare=None) -> float:
    samples = []
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        start = time.perf_counter()
        subprocess.run(mlscan_cmd() + args, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="mlscan-bench-"))
    repo = work / "mono"
    caches = Path(tempfile.mkdtemp(prefix="mlscan-cache-"))
    try:
        if not repo.exists():
            build_monorepo(repo, args.files)
        make_head(repo)
        common = ["--format", "json", "-q", "-o", os.devnull]
        scan = ["scan", str(repo), "--rev", "pr", *common]
        diff = ["diff", str(repo), "--base", "main", "--head", "pr", *common]
        # Interleaved, one ratio per round: this machine's speed drifts by 20% within a minute,
        # so a scan and a diff timed apart would compare two different machines.
        rounds = [(timed([*scan, "--no-cache"], 1), timed([*diff, "--no-cache"], 1)) for _ in range(args.repeat)]
        ratios = sorted(d / s for s, d in rounds)
        scan_s = statistics.median(s for s, _ in rounds)
        diff_s = statistics.median(d for _, d in rounds)
        print(f"one scan of the head: {scan_s:.3f} s (no result cache)")
        print(f"diff, no result cache: {diff_s:.3f} s; ratio {statistics.median(ratios):.2f}x (target <= 1.3x); "
              f"per round: {', '.join(f'{r:.2f}' for r in ratios)}")

        # The gate as CI runs it: the base was scanned before (main's own scan, or this pull
        # request's previous push), so its probe runs are in the result cache; the head is new.
        primed = caches / "base-scanned"
        subprocess.run(mlscan_cmd() + ["scan", str(repo), "--rev", "main", *common, "--cache-dir", str(primed)],
                       check=True, env=ENV)
        fresh = caches / "run"

        def copy_primed() -> None:
            shutil.rmtree(fresh, ignore_errors=True)
            shutil.copytree(primed, fresh)

        gate_s = timed([*diff, "--cache-dir", str(fresh)], args.repeat, prepare=copy_primed)
        print(f"diff, base already in the result cache: {gate_s:.3f} s; ratio {gate_s / scan_s:.2f}x one scan")
        again_s = timed([*diff, "--cache-dir", str(fresh)], args.repeat)
        print(f"the same diff again (both sides cached): {again_s:.3f} s; ratio {again_s / scan_s:.2f}x one scan")
        print(f"medians of {args.repeat}")
    finally:
        shutil.rmtree(caches, ignore_errors=True)
        subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=False)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
