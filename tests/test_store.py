"""The result store: a rescan reuses recorded probe runs only when their inputs hash the same, and
the report is byte-identical to a scan without the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.models import Strength
from scanner.probe import Attributes, Kind, Probe
from scanner.registry import all_probes
from scanner.runner import run_probes
from scanner.scan import ScanOptions, scan_with
from scanner.snapshot import open_snapshot
from scanner.store import KEEP_GENERATIONS, RunStore, code_fingerprint
from tests.conftest import FIXTURE_REPOS
from tests.gitrepo import build_fixture, git

REPOS = sorted(p.name for p in FIXTURE_REPOS.iterdir() if p.is_dir())
SERVICE_PROBES = {p.id for p in all_probes() if p.services}


@pytest.fixture(autouse=True)
def _reproducible(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # zeroes timings, fixes the date


def _scan(repo: Path, rev=None, cache=None, progress=None, jobs=1) -> str:
    return scan_with(repo, ScanOptions(rev=rev, offline=True, jobs=jobs, cache_dir=cache, progress=progress)).to_json()


def _messages() -> tuple[list[str], Callable[[str], None]]:
    said: list[str] = []
    return said, said.append


@pytest.mark.parametrize("name", REPOS)
def test_a_rescan_from_the_store_is_byte_identical(name, fixture_repo, tmp_path):
    repo = fixture_repo(name)
    for rev in (None, "HEAD"):
        plain = _scan(repo, rev)
        assert _scan(repo, rev, tmp_path / "cache") == plain  # first: runs and records
        said, say = _messages()
        assert _scan(repo, rev, tmp_path / "cache", say) == plain  # second: recalled
        assert any("result cache" in m for m in said)


def test_every_probe_but_the_service_probes_is_recalled(fixture_repo, tmp_path):
    repo = fixture_repo("platform-mature")
    probes = all_probes()
    store = RunStore(tmp_path / "cache", probes)
    for expected_recalled in (set(), {p.id for p in probes} - SERVICE_PROBES):
        with open_snapshot(repo) as snapshot:
            run = run_probes(snapshot, probes, jobs=1, store=store)
        assert set(run.recalled) == expected_recalled
    assert SERVICE_PROBES  # the registry and GitHub probes exist, and are never taken from the store


def _own_copy(name: str, tmp_path: Path) -> Path:
    return build_fixture(FIXTURE_REPOS / name, tmp_path / name)


def test_a_change_reruns_the_probes_that_read_it_and_nothing_else(tmp_path):
    repo = _own_copy("churn-dvc-gx", tmp_path)
    cache = tmp_path / "cache"
    probes = all_probes()
    store = RunStore(cache, probes)
    with open_snapshot(repo) as snapshot:
        run_probes(snapshot, probes, jobs=1, store=store)
    card = repo / "MODEL_CARD.md"
    assert card.exists()
    card.write_text(card.read_text() + "\n## Caveats\n\nNot for use on customers outside the EU.\n")
    with open_snapshot(repo) as snapshot:
        run = run_probes(snapshot, probes, jobs=1, store=store)
    rerun = {p.id for p in probes} - set(run.recalled) - SERVICE_PROBES
    assert "model_card" in rerun
    assert "dvc" not in rerun and "great_expectations" not in rerun
    # and what came out equals a scan without any store, in the dirty work tree and once committed
    assert _scan(repo, cache=cache) == _scan(repo)
    git(repo, "commit", "-qam", "caveats", env={"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
                                                 "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x"})
    assert _scan(repo, "HEAD", cache) == _scan(repo, "HEAD")


def test_recalled_evidence_is_cited_at_the_new_commit(tmp_path):
    """A probe whose inputs did not change between two commits gives its evidence at the new
    commit: the permalinks point at it, not at the commit the run was recorded on."""
    repo = _own_copy("churn-dvc-gx", tmp_path)
    git(repo, "config", "remote.origin.url", "https://github.com/acme/churn.git")
    cache = tmp_path / "cache"
    first = json.loads(_scan(repo, "HEAD", cache))
    (repo / "NOTES.md").write_text("unrelated\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "notes", env={"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
                                             "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x"})
    head = git(repo, "rev-parse", "HEAD").strip()
    said, say = _messages()
    second_text = _scan(repo, "HEAD", cache, say)
    assert second_text == _scan(repo, "HEAD")
    assert any("result cache" in m for m in said)
    second = json.loads(second_text)
    dvc = [e for e in second["evidence"] if e["probe"] == "dvc" and e.get("citation", {}).get("url")]
    assert dvc and all(f"/blob/{head}/" in e["citation"]["url"] for e in dvc)
    assert all(e["citation"]["commit"] == head for e in dvc)
    assert first["header"]["target"]["commit"] != head


def test_a_corrupt_entry_is_a_miss(fixture_repo, tmp_path):
    repo = fixture_repo("scripts-basic")
    cache = tmp_path / "cache"
    plain = _scan(repo)
    _scan(repo, cache=cache)
    entries = [p for p in cache.rglob("*.json")]
    assert entries
    for entry in entries:
        entry.write_text('{"not": "what was written"')
    assert _scan(repo, cache=cache) == plain
    for entry in cache.rglob("*.json"):
        entry.write_text(json.dumps([{"reads": [], "digest": "x", "problems": {}, "where": [], "evidence": [{"id": 1}]}]))
    assert _scan(repo, cache=cache) == plain


def test_evidence_that_no_longer_validates_is_a_miss(fixture_repo, tmp_path):
    """A record whose evidence the models reject (written by another version, or tampered with)
    is run again, never trusted."""
    repo = fixture_repo("scripts-basic")
    probes = all_probes()
    store = RunStore(tmp_path / "cache", probes)
    with open_snapshot(repo) as snapshot:
        first = run_probes(snapshot, probes, jobs=1, store=store)
    entries = list((tmp_path / "cache").glob("runs-*/repo/*.json"))
    assert entries
    for entry in entries:
        data = json.loads(entry.read_text())
        for run in data:
            run["evidence"] = [{**item, "strength": "sworn"} for item in run["evidence"]]
        entry.write_text(json.dumps(data))
    with open_snapshot(repo) as snapshot:  # a later process: a store opened afresh
        second = run_probes(snapshot, probes, jobs=1, store=RunStore(tmp_path / "cache", probes))
    assert "repo" not in second.recalled and "dvc" in second.recalled
    assert [e.model_dump() for e in second.evidence] == [e.model_dump() for e in first.evidence]


def test_an_unwritable_cache_costs_speed_not_the_scan(fixture_repo, tmp_path):
    repo = fixture_repo("scripts-basic")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    said, say = _messages()
    assert _scan(repo, cache=blocker / "cache", progress=say) == _scan(repo)
    assert any("result cache not written" in m for m in said)


def _probe(probe_id: str, collect) -> Probe:
    return Probe(id=probe_id, title=probe_id, patterns=("**/*.py",),
                 kinds=(Kind(f"{probe_id}.seen", _Seen, "test"),), collect=collect)


class _Seen(Attributes):
    files: int


def test_a_changed_probe_never_sees_its_old_results(fixture_repo, tmp_path):
    """The store is keyed by the scanner's and the probes' code: a probe that changes (here, the
    same id with other declarations) starts afresh, and old generations are cleared away."""
    repo = fixture_repo("scripts-basic")

    def counting(ctx):
        yield ctx.evidence("counter.seen", {"files": len(ctx.paths)}, strength=Strength.mention)

    def doubling(ctx):
        yield ctx.evidence("counter.seen", {"files": 2 * len(ctx.paths)}, strength=Strength.mention)

    first = _probe("counter", counting)
    second = Probe(id="counter", title="counter", patterns=("**/*.py", "*.md"), kinds=first.kinds, collect=doubling)
    assert code_fingerprint([first]) != code_fingerprint([second])
    results = []
    for probe in (first, second):
        with open_snapshot(repo) as snapshot:
            run = run_probes(snapshot, [probe], jobs=1, store=RunStore(tmp_path / "cache", [probe]))
        results.append((run.recalled, run.evidence[0].attributes["files"]))
    assert results[0][0] == [] and results[1][0] == []
    assert results[1][1] != results[0][1]
    for n in range(KEEP_GENERATIONS + 2):  # more generations than are kept
        variant = Probe(id="counter", title="counter", patterns=(f"v{n}/**",), kinds=first.kinds, collect=counting)
        with open_snapshot(repo) as snapshot:
            run_probes(snapshot, [variant], jobs=1, store=RunStore(tmp_path / "cache", [variant]))
    assert len(list((tmp_path / "cache").glob("runs-*"))) == KEEP_GENERATIONS


def test_workers_record_and_recall_like_one_process(fixture_repo, tmp_path):
    from scanner.workers import can_fork

    if not can_fork():
        pytest.skip("needs fork")
    repo = fixture_repo("monorepo-platform")
    plain = _scan(repo)
    assert _scan(repo, cache=tmp_path / "c", jobs=2) == plain
    assert _scan(repo, cache=tmp_path / "c", jobs=1) == plain
    assert _scan(repo, cache=tmp_path / "c", jobs=2) == plain


def test_cli_uses_the_cache_dir_and_no_cache_writes_nothing(fixture_repo, tmp_path, monkeypatch):
    repo = fixture_repo("scripts-basic")
    monkeypatch.setenv("MLSCAN_CACHE_DIR", str(tmp_path / "env-cache"))
    runner = CliRunner()
    quiet = runner.invoke(main, ["scan", str(repo), "--format", "json", "--no-cache", "-q"])
    assert quiet.exit_code == 0, quiet.output
    assert not (tmp_path / "env-cache").exists()
    first = runner.invoke(main, ["scan", str(repo), "--format", "json", "-q"])
    assert first.exit_code == 0 and (tmp_path / "env-cache").is_dir()
    chosen = runner.invoke(main, ["scan", str(repo), "--format", "json", "-q", "--cache-dir", str(tmp_path / "mine")])
    assert chosen.exit_code == 0 and (tmp_path / "mine").is_dir()
    assert first.stdout == quiet.stdout == chosen.stdout
    again = runner.invoke(main, ["scan", str(repo), "--format", "json", "--cache-dir", str(tmp_path / "mine")])
    assert again.exit_code == 0
    assert "unchanged since an earlier scan (result cache)" in again.stderr


def test_diff_with_the_store_equals_diff_without(tmp_path):
    repo = _own_copy("churn-dvc-gx", tmp_path)
    git(repo, "branch", "base")
    (repo / "MODEL_CARD.md").unlink()
    git(repo, "commit", "-qam", "drop the card", env={"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
                                                     "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x"})
    runner = CliRunner()
    args = ["diff", str(repo), "--base", "base", "--head", "HEAD", "--format", "json", "-q", "--offline"]
    plain = json.loads(runner.invoke(main, [*args, "--no-cache"]).stdout)
    for jobs in ("1", "2", "1"):  # cold, then warm, in both run modes
        out = runner.invoke(main, [*args, "--cache-dir", str(tmp_path / "c"), "--jobs", jobs])
        assert out.exit_code == 1, out.output  # the model card loss is a regression either way
        report = json.loads(out.stdout)
        assert report["regressions"] == plain["regressions"]
        assert {k: v for k, v in report.items() if k != "reused_probes"} == \
               {k: v for k, v in plain.items() if k != "reused_probes"}


def test_a_cache_inside_the_checkout_is_not_scanned(tmp_path):
    """CI caches must live in the project directory (GitLab): the cache is left out of the scan,
    so its JSON files never count as the project's files."""
    repo = _own_copy("scripts-basic", tmp_path)
    plain = _scan(repo)
    inside = repo / ".mlscan-cache"
    assert _scan(repo, cache=inside) == plain
    assert any(inside.rglob("*.json"))
    assert _scan(repo, cache=inside) == plain


def test_gitlab_template_keeps_the_cache_in_the_project():
    import yaml

    template = yaml.safe_load((FIXTURE_REPOS.parent.parent / "ci" / "gitlab" / "mlscan.gitlab-ci.yml").read_text())
    job = template[".mlscan"]
    assert job["variables"]["MLSCAN_CACHE_DIR"] == "$CI_PROJECT_DIR/.mlscan-cache"
    assert job["cache"]["paths"] == [".mlscan-cache/"]
    assert job["cache"]["fallback_keys"] == ["mlscan-$CI_DEFAULT_BRANCH"]


def test_cache_info_and_clear(fixture_repo, tmp_path):
    repo = fixture_repo("scripts-basic")
    root = tmp_path / "c"
    (root / "unrelated").mkdir(parents=True)
    (root / "unrelated" / "keep.txt").write_text("not ours")
    runner = CliRunner()
    empty = runner.invoke(main, ["cache", "info", "--cache-dir", str(root)])
    assert empty.exit_code == 0 and "generations: 0 (this mlscan's: none yet)" in empty.stdout
    assert runner.invoke(main, ["scan", str(repo), "-q", "--format", "json", "--cache-dir", str(root)]).exit_code == 0
    info = runner.invoke(main, ["cache", "info", "--cache-dir", str(root)])
    assert "generations: 1 (this mlscan's: yes)" in info.stdout
    entries = int(info.stdout.split("entries: ")[1].split(",")[0])
    assert entries == len(list(root.glob("runs-*/**/*.json"))) > 0
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(root)])
    assert cleared.exit_code == 0 and "removed 1 generations" in cleared.stdout
    assert not list(root.glob("runs-*")) and (root / "unrelated" / "keep.txt").exists()


def test_a_plugin_helper_module_is_part_of_the_fingerprint(tmp_path, monkeypatch):
    """A third-party probe whose logic lives in a helper module of its package: editing the
    helper must make its stored runs stale, like editing the probe itself."""
    import importlib
    import sys

    package = tmp_path / "acme_mlscan_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("def count(paths):\n    return len(paths)\n")
    (package / "probe.py").write_text(
        "from .helper import count\n\n\ndef collect(ctx):\n    yield from ()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("acme_mlscan_probe.probe")
    try:
        probe = Probe(id="acme", title="acme", patterns=("**",), kinds=(Kind("acme.seen", _Seen, "test"),),
                      collect=module.collect)
        before = code_fingerprint([probe])
        (package / "helper.py").write_text("def count(paths):\n    return 2 * len(paths)\n")
        assert code_fingerprint([probe]) != before
    finally:
        for name in [n for n in sys.modules if n.startswith("acme_mlscan_probe")]:
            del sys.modules[name]


def test_prune_keeps_the_entries_scans_still_need(fixture_repo, tmp_path):
    """Least recently *used* goes first: a hit refreshes its entry, so a repository scanned
    again keeps its runs while one not scanned since loses them."""
    import os

    root = tmp_path / "c"
    again, once = fixture_repo("scripts-basic"), fixture_repo("churn-dvc-gx")
    _scan(again, cache=root)
    files_again = set(root.glob("runs-*/**/*.json"))
    _scan(once, cache=root)
    for path in root.glob("runs-*/**/*.json"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # both scans long ago
    said, progress = _messages()
    _scan(again, cache=root, progress=progress)  # every probe recalled, its entry refreshed
    assert any("unchanged since an earlier scan" in m for m in said)
    only_once = set(root.glob("runs-*/**/*.json")) - files_again
    assert only_once
    keep = sum(p.stat().st_size for p in files_again)
    result = CliRunner().invoke(main, ["cache", "prune", "--max-size", str(keep), "--cache-dir", str(root)])
    assert result.exit_code == 0, result.output
    assert f"removed {len(only_once)} entries" in result.stdout
    assert all(p.exists() for p in files_again) and not any(p.exists() for p in only_once)
    assert _scan(again, cache=root) == _scan(again)  # what is left still serves, unchanged


def test_prune_sizes_and_errors(tmp_path):
    runner = CliRunner()
    (tmp_path / "unrelated.json").write_text("{}")
    ok = runner.invoke(main, ["cache", "prune", "--max-size", "1.5GiB", "--cache-dir", str(tmp_path)])
    assert ok.exit_code == 0 and "removed 0 entries" in ok.stdout
    assert (tmp_path / "unrelated.json").exists()  # never a file this store did not write
    bad = runner.invoke(main, ["cache", "prune", "--max-size", "lots", "--cache-dir", str(tmp_path)])
    assert bad.exit_code == 2 and "is not a size" in bad.output
