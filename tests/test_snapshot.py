"""Snapshots against real git repositories built in tmp dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.snapshot import FileSkipped, GitTree, SnapshotError, WorkTree, permalink, web_base
from tests.gitrepo import commit, git


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "train.py").write_text("print('v1')\n")
    (root / "README.md").write_text("# demo\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", "git@github.com:acme/churn.git")
    commit(root, "Ann <ann@example.com>", "2026-01-01T00:00:00+00:00", "first")
    (root / "src" / "train.py").write_text("print('v2')\n")
    (root / "data.csv").write_text("a,b\n1,2\n")
    commit(root, "Bo <bo@example.com>", "2026-02-01T00:00:00+00:00", "second")
    return root


def test_worktree_lists_tracked_and_untracked_but_not_ignored(repo: Path):
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "debug.log").write_text("x")
    (repo / "new.py").write_text("x = 1\n")
    with WorkTree(repo) as snap:
        assert snap.paths() == [".gitignore", "README.md", "data.csv", "new.py", "src/train.py"]
        assert snap.read_bytes("src/train.py") == b"print('v2')\n"
        assert snap.permalink("src/train.py", 1, 1).startswith("https://github.com/acme/churn/blob/")
        assert snap.permalink("new.py", 1, 1) is None  # untracked: no honest permalink


def test_gittree_reads_old_commit_without_touching_worktree(repo: Path):
    status_before = git(repo, "status", "--porcelain=v2")
    index_before = (repo / ".git" / "index").read_bytes()
    (repo / "src" / "train.py").write_text("print('dirty')\n")
    with GitTree(repo, "HEAD~1") as snap:
        assert snap.paths() == ["README.md", "src/train.py"]
        assert snap.read_bytes("src/train.py") == b"print('v1')\n"
        assert snap.blob_id("src/train.py") == git(repo, "rev-parse", "HEAD~1:src/train.py").strip()
    assert (repo / "src" / "train.py").read_text() == "print('dirty')\n"
    assert (repo / ".git" / "index").read_bytes() == index_before
    (repo / "src" / "train.py").write_text("print('v2')\n")
    assert git(repo, "status", "--porcelain=v2") == status_before


def test_unknown_rev_and_not_a_repo(repo: Path, tmp_path: Path):
    with pytest.raises(SnapshotError, match="unknown revision"):
        GitTree(repo, "no-such-branch")
    with pytest.raises(SnapshotError, match="unknown revision"):
        GitTree(repo, "--output=/tmp/x")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SnapshotError, match="not a git repository"):
        GitTree(plain, "HEAD")
    with pytest.raises(SnapshotError, match="no such directory"):
        WorkTree(tmp_path / "missing")


def test_size_cap_is_a_recorded_skip(repo: Path):
    with GitTree(repo, "HEAD", max_file_bytes=4) as snap:
        with pytest.raises(FileSkipped, match="over the 4-byte cap"):
            snap.read_bytes("src/train.py")


def test_missing_object_is_a_skip_not_a_crash(repo: Path):
    blob = git(repo, "rev-parse", "HEAD:README.md").strip()
    obj = repo / ".git" / "objects" / blob[:2] / blob[2:]
    os.chmod(obj, 0o644)
    obj.unlink()
    with GitTree(repo, "HEAD") as snap:
        with pytest.raises(FileSkipped, match="missing"):
            snap.read_bytes("README.md")
        assert snap.read_bytes("data.csv") == b"a,b\n1,2\n"


def test_symlinks_never_escape(tmp_path: Path, repo: Path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, repo / "escape.txt")
    os.symlink("README.md", repo / "inside.md")
    commit(repo, "Ann <ann@example.com>", "2026-03-01T00:00:00+00:00", "links")
    with WorkTree(repo) as snap:
        assert "escape.txt" not in snap.paths()
        assert snap.read_bytes("inside.md") == b"# demo\n"
    with GitTree(repo, "HEAD") as snap:
        with pytest.raises(FileSkipped, match="leaves the tree"):
            snap.read_bytes("escape.txt")
        assert snap.read_bytes("inside.md") == b"# demo\n"


def test_plain_directory_walk_skips_vendor_dirs(tmp_path: Path):
    root = tmp_path / "plain"
    for rel in ("a.py", "node_modules/x.js", ".venv/lib/y.py", "env/pyvenv.cfg", "env/z.py", "pkg/b.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    with WorkTree(root) as snap:
        assert snap.paths() == ["a.py", "pkg/b.py"]
        assert snap.commit is None and snap.permalink("a.py", 1, 1) is None


def test_subdirectory_scan_keeps_paths_relative_and_links_absolute(repo: Path):
    with WorkTree(repo / "src") as snap:
        assert snap.paths() == ["train.py"]
        assert snap.subpath == "src"
        assert "/blob/" in snap.permalink("train.py", 1, 1) and snap.permalink("train.py", 1, 1).endswith("/src/train.py#L1")


def test_changed_paths_uses_diff_tree(repo: Path):
    with GitTree(repo, "HEAD") as snap:
        assert snap.changed_paths("HEAD~1") == ["data.csv", "src/train.py"]


@pytest.mark.parametrize("remote,expected", [
    ("https://github.com/o/r.git", ("github", "https://github.com/o/r")),
    ("git@github.com:o/r.git", ("github", "https://github.com/o/r")),
    ("ssh://git@github.com/o/r", ("github", "https://github.com/o/r")),
    ("https://user:tok@gitlab.com/g/sub/r.git", ("gitlab", "https://gitlab.com/g/sub/r")),
    ("git@bitbucket.org:team/r.git", ("bitbucket", "https://bitbucket.org/team/r")),
    ("/srv/git/r.git", None),
])
def test_web_base(remote, expected):
    assert web_base(remote) == expected


def test_permalink_forms():
    assert permalink("git@gitlab.com:g/r.git", "abc", "a b.py", 3, 5) == "https://gitlab.com/g/r/-/blob/abc/a%20b.py#L3-5"
    assert permalink("git@bitbucket.org:t/r.git", "abc", "x.py", 2, 2) == "https://bitbucket.org/t/r/src/abc/x.py#lines-2"
    assert permalink("https://github.com/o/r", "abc", "x.py", 2, 4) == "https://github.com/o/r/blob/abc/x.py#L2-L4"


def test_streaming_many_blobs_through_one_cat_file(repo: Path):
    for n in range(80):
        (repo / f"f{n:02d}.txt").write_text(f"file {n}\n")
    commit(repo, "Ann <ann@example.com>", "2026-03-01T00:00:00+00:00", "many")
    blob = git(repo, "rev-parse", "HEAD:f07.txt").strip()
    obj = repo / ".git" / "objects" / blob[:2] / blob[2:]
    os.chmod(obj, 0o644)
    obj.unlink()
    with GitTree(repo, "HEAD") as snap:
        wanted = [p for p in snap.paths() if p.endswith(".txt")] + ["not-there.txt"]
        got = {path: (data, why) for path, data, why in snap.iter_bytes(wanted)}
    assert got["f00.txt"] == (b"file 0\n", "")
    assert got["f79.txt"] == (b"file 79\n", "")
    assert got["f07.txt"][0] is None and "missing" in got["f07.txt"][1]
    assert got["not-there.txt"] == (None, "not in the tree")


def test_worktree_sizes_follow_the_disk_where_git_sees_a_change(repo: Path):
    """Unchanged files take HEAD's blob size; edited, untracked and symlinked ones are stat'ed."""
    (repo / "README.md").write_text("# demo\n" + "x" * 5000)  # edited, not committed
    (repo / "new.txt").write_text("fresh\n")
    with WorkTree(repo, max_file_bytes=1000) as tree:
        for path in tree.paths():
            assert tree.size(path) == os.path.getsize(repo / path), path
        with pytest.raises(FileSkipped, match="over the"):
            tree.read_bytes("README.md")
        assert tree.read_bytes("src/train.py") == b"print('v2')\n"
