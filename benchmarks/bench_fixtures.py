"""Scan time of every fixture repository against its I/O floor, measured in the same run.

For each ``fixtures/repos/<name>`` this builds the git repository and prints, as medians:

- the floor: ``git ls-files`` plus ``cat`` of every file;
- the scan in one process that already imported mlscan (how a platform team's batch job, or the
  Python API, scans repository after repository);
- the same scan again with the result cache holding the first one's probe runs (a rescan);
- the full ``mlscan scan`` command, start-up included (no result cache).

Small repositories are dominated by fixed costs (git processes, the rule engine), which this
makes visible. Run: ``python benchmarks/bench_fixtures.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_scan import compile_bytecode, mlscan_cmd, timed as median_seconds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    compile_bytecode()

    from scanner.registry import all_probes, kind_index
    from scanner.rulepack import load_pack
    from scanner.scan import ScanOptions, scan_with
    from tests.gitrepo import build_fixture

    probes = all_probes()
    pack = load_pack(kind_index(probes))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"{'fixture':32}{'files':>6}{'floor ms':>10}{'in-process ms':>15}{'ratio':>7}"
          f"{'rescan ms':>11}{'ratio':>7}{'command ms':>12}")
    with tempfile.TemporaryDirectory(prefix="mlscan-fixtures-") as tmp:
        for fixture in sorted(p for p in (ROOT / "fixtures" / "repos").iterdir() if p.is_dir()):
            repo = build_fixture(fixture, Path(tmp) / fixture.name)
            files = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout

            def floor() -> None:
                subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True)
                subprocess.run(["xargs", "-0", "cat"], cwd=repo, input=files, capture_output=True, check=True)

            def in_process() -> None:
                scan_with(repo, ScanOptions(probes=probes, pack=pack, offline=True))

            cache = Path(tmp) / f"{fixture.name}-cache"

            def rescan() -> None:
                scan_with(repo, ScanOptions(probes=probes, pack=pack, offline=True, cache_dir=cache))

            def command() -> None:
                subprocess.run(mlscan_cmd() + ["scan", str(repo), "--offline", "--format", "json", "-q",
                                               "--no-cache", "-o", os.devnull], check=True, env=env)

            floor_s = median_seconds(floor, args.repeat)
            scan_s = median_seconds(in_process, args.repeat)
            rescan()  # records the probe runs
            rescan_s = median_seconds(rescan, args.repeat)
            command_s = median_seconds(command, max(1, args.repeat // 2))
            count = files.count(b"\0")
            print(f"{fixture.name:32}{count:>6}{floor_s * 1000:>10.1f}{scan_s * 1000:>15.1f}"
                  f"{scan_s / floor_s:>6.1f}x{rescan_s * 1000:>11.1f}{rescan_s / floor_s:>6.1f}x{command_s * 1000:>12.0f}")


if __name__ == "__main__":
    main()
