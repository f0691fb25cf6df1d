"""A diff's two scorecards are the scorecards two plain scans give, byte for byte.

A diff reuses work between its sides: parsed files, needle searches and CI pipelines per blob,
whole probe runs whose inputs hash the same, and evidence re-cited instead of rebuilt. None of
that may show in the result. Every fixture repository gets a pull-request-like commit that
touches CI files, YAML and Python, and both sides are compared with plain scans, in one process
and in workers, and through the result store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import Config
from scanner.facts import BlobCache
from scanner.registry import all_probes, kind_index
from scanner.rulepack import load_pack
from scanner.scan import ScanOptions, open_services, scan_pair, scan_snapshot, scan_time, scan_with
from scanner.snapshot import GitTree
from scanner.workers import can_fork
from tests.conftest import FIXTURE_REPOS
from tests.gitrepo import build_fixture, git

REPOS = sorted(p.name for p in FIXTURE_REPOS.iterdir() if p.is_dir())
PROBES = all_probes()
PACK = load_pack(kind_index(PROBES))
AUTHOR = {"GIT_AUTHOR_NAME": "Pat", "GIT_AUTHOR_EMAIL": "pat@example.com",
          "GIT_COMMITTER_NAME": "Pat", "GIT_COMMITTER_EMAIL": "pat@example.com"}


def _touch(repo: Path, reshape: bool) -> None:
    """A pull request's worth of change: comments in YAML (CI files among them), a function
    added to some Python modules; with ``reshape``, one YAML file removed and a file added (the
    path list differs, so nothing keyed by it can be shared)."""
    files = sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts)
    yamls = [p for p in files if p.suffix in (".yml", ".yaml")]
    for path in yamls[::2]:
        path.write_text(path.read_text(encoding="utf-8") + "\n# touched by the pull request\n", encoding="utf-8")
    for path in [p for p in files if p.suffix == ".py"][:3]:
        path.write_text(path.read_text(encoding="utf-8") + "\n\ndef _touched():\n    return 1\n", encoding="utf-8")
    if reshape and len(yamls) > 2:
        yamls[1].unlink()
    notes = repo / "CHANGES.md" if reshape else files[0]
    notes.write_text((notes.read_text(encoding="utf-8") if notes.exists() else "") + "- touched\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "touch", env=AUTHOR)


@pytest.fixture(scope="module")
def touched(tmp_path_factory):
    built: dict[tuple[str, bool], Path] = {}

    def get(name: str, reshape: bool) -> Path:
        if (name, reshape) not in built:
            repo = build_fixture(FIXTURE_REPOS / name, tmp_path_factory.mktemp(name) / name)
            _touch(repo, reshape)
            built[name, reshape] = repo
        return built[name, reshape]

    return get


def _options(rev: str, cache_dir=None) -> ScanOptions:
    return ScanOptions(rev=rev, offline=True, jobs=1, cache_dir=cache_dir)


@pytest.mark.parametrize("reshape", [False, True], ids=["edits", "adds-and-removes"])
@pytest.mark.parametrize("name", REPOS)
def test_both_sides_of_a_diff_equal_plain_scans(name, reshape, touched, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    repo = touched(name, reshape)
    plain = (scan_with(repo, _options("HEAD~1")).to_json(), scan_with(repo, _options("HEAD")).to_json())
    modes = [("serial", 1, None), ("pairs", 2, None), ("pairs+store", 2, tmp_path / "c"), ("pairs+store", 2, tmp_path / "c")]
    for label, jobs, cache_dir in modes:
        if jobs > 1 and not can_fork():
            continue
        base_options, head_options = _options("HEAD~1", cache_dir), _options("HEAD", cache_dir)
        with GitTree(repo, "HEAD~1") as base, GitTree(repo, "HEAD") as head:
            services = open_services(Config(), head.remote, head_options, scan_time())
            if label == "serial":
                cache = BlobCache()
                base_card, base_run = scan_snapshot(base, PROBES, PACK, base_options, cache=cache, services=services)
                head_card, _ = scan_snapshot(head, PROBES, PACK, head_options, cache=cache, prior=base_run,
                                             services=services)
            else:
                base_card, _, head_card, _ = scan_pair(base, head, PROBES, PACK, base_options, head_options,
                                                       services, jobs)
        assert (base_card.to_json(), head_card.to_json()) == plain, label
