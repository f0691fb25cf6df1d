"""Facts.per_file: a value of one file, computed once per blob across a diff's two scans; and the
garbage-collector policy a scan runs under."""

from __future__ import annotations

import gc
from pathlib import Path

from scanner.facts import BlobCache, Facts
from scanner.gcpolicy import SCAN_THRESHOLDS, fewer_collections, frozen_for_fork
from scanner.snapshot import GitTree
from tests.gitrepo import git


def _two_commits(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "same.yaml").write_text("a: 1\n")
    (repo / "edited.yaml").write_text("b: 1\n")
    (repo / "broken.yaml").write_text("c: [1\n")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "base")
    git(repo, "tag", "base")
    (repo / "edited.yaml").write_text("b: 2\n")
    (repo / "added.yaml").write_text("d: 1\n")  # the path list changes too
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "head")
    return repo


def _pair(repo: Path) -> tuple[Facts, Facts]:
    cache = BlobCache()
    return Facts(GitTree(repo, "base"), cache=cache), Facts(GitTree(repo, "HEAD"), cache=cache)


def _keys(facts: Facts, path: str) -> list[str]:
    docs = facts.yaml(path)
    return sorted(str(k) for k in docs[0]) if docs else []


def test_a_file_with_the_same_blob_is_computed_once_across_the_two_scans(tmp_path):
    base, head = _pair(_two_commits(tmp_path))
    calls: list[str] = []

    def value(facts: Facts, path: str) -> list[str]:
        return facts.per_file("keys", path, lambda: calls.append(path) or _keys(facts, path))

    assert value(base, "same.yaml") == ["a"] and value(base, "edited.yaml") == ["b"]
    head.begin()
    assert value(head, "same.yaml") == ["a"]  # taken, although the head lists another file
    assert head.end() == {"same.yaml"}  # ...and recorded as read, as if computed here
    assert value(head, "edited.yaml") == ["b"]  # another blob: computed again
    assert calls == ["same.yaml", "edited.yaml", "edited.yaml"]


def test_what_the_first_computation_met_is_replayed(tmp_path):
    base, head = _pair(_two_commits(tmp_path))
    assert base.per_file("keys", "broken.yaml", lambda: _keys(base, "broken.yaml")) == []
    assert "broken.yaml" in base.problems
    assert head.per_file("keys", "broken.yaml", lambda: ["not called"]) == []
    assert head.problems["broken.yaml"] == base.problems["broken.yaml"]


def test_a_value_that_read_another_file_is_recomputed_when_that_file_changed(tmp_path):
    base, head = _pair(_two_commits(tmp_path))
    both = base.per_file("pair", "same.yaml", lambda: _keys(base, "same.yaml") + _keys(base, "edited.yaml"))
    assert both == ["a", "b"]
    assert head.per_file("pair", "same.yaml", lambda: ["recomputed"]) == ["recomputed"]


def test_a_value_that_used_a_shared_index_is_never_kept(tmp_path):
    base, head = _pair(_two_commits(tmp_path))
    base.per_file("index", "same.yaml", lambda: base.note("<python index>") or 1)
    assert head.per_file("index", "same.yaml", lambda: 2) == 2


def test_without_a_blob_cache_it_is_a_plain_call(tmp_path):
    facts = Facts(GitTree(_two_commits(tmp_path), "HEAD"))
    calls: list[int] = []
    for _ in range(2):
        facts.per_file("keys", "same.yaml", lambda: calls.append(1))
    assert calls == [1, 1]


def test_derived_values_that_may_look_at_the_path_list_are_not_taken_across_listings(tmp_path):
    base, head = _pair(_two_commits(tmp_path))
    base.derived("listing", lambda: len(base.snapshot.paths()))
    assert head.derived("listing", lambda: len(head.snapshot.paths())) == 4
    base.derived("content", lambda: _keys(base, "same.yaml"), listing_matters=False)
    assert head.derived("content", lambda: ["recomputed"], listing_matters=False) == ["a"]


def test_fewer_collections_raises_thresholds_then_restores_them():
    before = gc.get_threshold()
    try:
        gc.set_threshold(100_000, 5, 5)
        with fewer_collections():
            assert gc.get_threshold() == (100_000, SCAN_THRESHOLDS[1], SCAN_THRESHOLDS[2])  # never lowered
            with fewer_collections():
                pass
            assert gc.get_threshold()[0] == 100_000
        assert gc.get_threshold() == (100_000, 5, 5)
    finally:
        gc.set_threshold(*before)


def test_frozen_for_fork_unfreezes_only_what_it_froze():
    assert gc.get_freeze_count() == 0
    with frozen_for_fork():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with frozen_for_fork():
            pass
        assert gc.get_freeze_count() == frozen  # the caller's freeze is left as it was
    finally:
        gc.unfreeze()
