"""Probes run in forked workers give the same scorecard as one process, byte for byte."""

from __future__ import annotations

import os

import pytest

from scanner.facts import Facts
from scanner.models import Strength
from scanner.probe import Attributes, Kind, Probe
from scanner.registry import all_probes
from scanner.runner import default_jobs, run_probes
from scanner.scan import ScanOptions, scan_with
from scanner.snapshot import open_snapshot
from scanner.workers import can_fork
from tests.conftest import FIXTURE_REPOS

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork")

REPOS = sorted(p.name for p in FIXTURE_REPOS.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", REPOS)
def test_workers_give_the_same_json_as_one_process(name, fixture_repo, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # zeroes timings, fixes the date
    repo = fixture_repo(name)
    for rev in (None, "HEAD"):
        one = scan_with(repo, ScanOptions(rev=rev, jobs=1, offline=True)).to_json()
        two = scan_with(repo, ScanOptions(rev=rev, jobs=2, offline=True)).to_json()
        assert one == two


def test_workers_report_reads_and_problems_like_one_process(fixture_repo):
    repo = fixture_repo("platform-mature")
    probes = all_probes()
    results = []
    for jobs in (1, 3):
        with open_snapshot(repo) as snapshot:
            facts = Facts(snapshot, python_tokens=[t for p in probes for t in p.python_tokens])
            run = run_probes(snapshot, probes, facts, jobs=jobs, record_inputs=True)
            results.append((run.files_read, facts.paths_read(), run.problems,
                            {k: (v.reads, v.digest, v.problems) for k, v in run.probe_runs.items()}))
    assert results[0] == results[1]
    assert results[0][0] > 0


class _Nothing(Attributes):
    pid_was_parent: bool


def _probe(probe_id: str, collect, services: tuple[str, ...] = ()) -> Probe:
    return Probe(id=probe_id, title=probe_id, patterns=("**",), services=services,
                 kinds=(Kind(f"{probe_id}.seen", _Nothing, "test"),), collect=collect)


def test_a_worker_that_dies_is_replaced_by_a_run_here(fixture_repo):
    """A probe whose worker process dies (killed, out of memory) runs again in the parent."""
    parent = os.getpid()

    def fatal(ctx):
        if os.getpid() != parent:
            os._exit(3)  # the worker dies without a word
        yield ctx.evidence("fatal.seen", {"pid_was_parent": True}, strength=Strength.mention)

    def calm(ctx):
        yield ctx.evidence("calm.seen", {"pid_was_parent": os.getpid() == parent}, strength=Strength.mention)

    with open_snapshot(fixture_repo("scripts-basic")) as snapshot:
        run = run_probes(snapshot, [_probe("calm", calm), _probe("fatal", fatal)], jobs=2)
    by_kind = {e.kind: e for e in run.evidence}
    assert by_kind["fatal.seen"].attributes == {"pid_was_parent": True}
    assert "calm.seen" in by_kind


def test_service_probes_stay_in_the_parent(fixture_repo):
    parent = os.getpid()

    def seen(ctx):
        yield ctx.evidence(f"{ctx.probe.id}.seen", {"pid_was_parent": os.getpid() == parent},
                           strength=Strength.mention)

    with open_snapshot(fixture_repo("scripts-basic")) as snapshot:
        run = run_probes(snapshot, [_probe("svc", seen, ("mlflow",)), _probe("other", seen),
                                    _probe("more", seen)], jobs=2)
    seen = {e.probe: e.attributes["pid_was_parent"] for e in run.evidence}
    assert seen["svc"] is True and seen["other"] is False


def test_small_trees_stay_in_one_process():
    assert default_jobs(50) == 1
    assert default_jobs(50_000) >= 1


def test_a_diff_with_workers_equals_one_process(fixture_repo, tmp_path, monkeypatch):
    """Workers take base/head pairs; the diff (regressions, evidence changes, reuse) is the same."""
    import shutil

    from scanner.diff import DiffOptions, diff
    from scanner.rulepack import load_pack
    from scanner.registry import kind_index
    from tests.gitrepo import commit

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    root = tmp_path / "mature"
    shutil.copytree(fixture_repo("platform-mature"), root, symlinks=True)
    base = root / ".github" / "workflows"
    victim = sorted(base.glob("*.yml"))[0]
    victim.write_text(victim.read_text().replace("pytest", "pytest || true"))
    commit(root, "Bo Chen <bo@example.com>", "2026-10-02T10:00:00+00:00", "Make tests non-blocking")
    probes = all_probes()
    pack = load_pack(kind_index(probes))
    results = []
    for jobs in (1, 2):
        options = DiffOptions(base="HEAD~1", head="HEAD", scan=ScanOptions(jobs=jobs, offline=True))
        results.append(diff(root, options, probes, pack).model_dump_json())
    assert results[0] == results[1]
    assert '"reused_probes":[]' not in results[0]  # some probes were reused, in both modes
