"""`git grep` and the Python search give the same answer, in every kind of tree.

The prefilter runs as one ``git grep -P`` on a git tree with many files and as ``bytes in`` /
``re`` on each file otherwise. These tests build real repositories with more files than the
threshold, run both ways on the same snapshot, and compare.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import scanner.facts as facts_module
from scanner.facts import Facts
from scanner.facts.needles import Needles, imports_of, line_local_problem
from scanner.snapshot import GitTree, WorkTree
from tests.gitrepo import git

NEEDLES = Needles(["mlflow", "def test", *imports_of("sklearn", "torch"), r"\.read_(?:csv|parquet)\b",
                   r"open\([ \t]*\r?$"])


def _fill(root: Path, count: int) -> set[str]:
    """``count`` Python files, every seventh one with something a needle finds; returns those."""
    hits = set()
    bodies = [
        "import mlflow\n", "from sklearn.linear_model import Ridge\n", "df = pd.read_csv(p)\n",
        "def test_it():\n    pass\n", "with open(\n    'data.csv'\n) as f:\n    pass\n",
        "import torch.nn as nn\n",
    ]
    for n in range(count):
        path = root / "pkg" / f"sub{n % 5}" / f"m{n:04d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "import json\nx = {}\n".format(n)
        if n % 7 == 0:
            body += bodies[(n // 7) % len(bodies)]
            hits.add(path.relative_to(root).as_posix())
        elif n % 7 == 3:
            body += "# sklearnx and ml-flow are not needles\nimport numpy\nopen(path)\n"
        path.write_text(body)
    return hits


def _repo(tmp_path: Path, count: int = 300) -> tuple[Path, set[str]]:
    root = tmp_path / "repo"
    root.mkdir()
    hits = _fill(root, count)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init")
    return root, hits


def _both_ways(snapshot, paths, monkeypatch) -> tuple[set[str], set[str], int]:
    by_git = Facts(snapshot)
    monkeypatch.setattr(facts_module, "GREP_MIN_FILES", 1)
    found_git = {p for p, _ in by_git.grep(paths, NEEDLES)}
    monkeypatch.setattr(facts_module, "GREP_MIN_FILES", 10**9)
    by_python = Facts(snapshot)
    found_python = {p for p, _ in by_python.grep(paths, NEEDLES)}
    assert by_git.files_read == by_python.files_read  # git's reads count as reads: same floor
    return found_git, found_python, by_git.files_read


def test_git_grep_equals_python_on_a_commit(tmp_path, monkeypatch):
    root, hits = _repo(tmp_path)
    with GitTree(root, "HEAD") as tree:
        assert tree.grep(tree.paths(), NEEDLES.pcre()) == hits  # git answered, not a fallback
        found_git, found_python, read = _both_ways(tree, tree.paths(), monkeypatch)
    assert found_git == found_python == hits
    assert read == 300


def test_git_grep_sees_the_work_tree_as_it_is(tmp_path, monkeypatch):
    root, hits = _repo(tmp_path)
    (root / "pkg" / "sub1" / "m0001.py").write_text("import mlflow  # edited, not committed\n")
    (root / "pkg" / "new.py").write_text("from torch import nn\n")  # untracked
    (root / ".gitignore").write_text("ignored.py\n")
    (root / "ignored.py").write_text("import mlflow\n")  # ignored: not in the scan
    (root / "pkg" / "sub0" / "m0000.py").write_text("import json\n")  # a hit no longer
    expected = (hits | {"pkg/sub1/m0001.py", "pkg/new.py"}) - {"pkg/sub0/m0000.py"}
    with WorkTree(root) as tree:
        py = [p for p in tree.paths() if p.endswith(".py")]
        assert "ignored.py" not in py
        assert tree.grep(py, NEEDLES.pcre()) == expected
        found_git, found_python, _ = _both_ways(tree, py, monkeypatch)
    assert found_git == found_python == expected


def test_git_grep_in_a_subdirectory_scan(tmp_path, monkeypatch):
    root, hits = _repo(tmp_path)
    with GitTree(root / "pkg" / "sub0", "HEAD") as tree:
        expected = {h[len("pkg/sub0/"):] for h in hits if h.startswith("pkg/sub0/")}
        found_git, found_python, _ = _both_ways(tree, tree.paths(), monkeypatch)
    assert found_git == found_python == expected and expected


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_and_oversized_files_are_decided_in_python(tmp_path, monkeypatch):
    root, hits = _repo(tmp_path)
    (root / "link.py").symlink_to(root / "pkg" / "sub0" / "m0000.py")
    (root / "big.py").write_text("import mlflow\n" + "x = 1\n" * 50_000)
    with WorkTree(root, max_file_bytes=100_000) as tree:
        assert not tree.greppable("link.py") and not tree.greppable("big.py")
        py = [p for p in tree.paths() if p.endswith(".py")]
        monkeypatch.setattr(facts_module, "GREP_MIN_FILES", 1)
        facts = Facts(tree)
        found = {p for p, _ in facts.grep(py, NEEDLES)}
    assert found == hits | {"link.py"}
    assert "over the" in facts.problems["big.py"]  # recorded, as the Python path records it


def test_a_file_read_earlier_is_tested_not_yielded_blindly(tmp_path, monkeypatch):
    root, hits = _repo(tmp_path)
    with GitTree(root, "HEAD") as tree:
        monkeypatch.setattr(facts_module, "GREP_MIN_FILES", 1)
        facts = Facts(tree)
        assert facts.text("pkg/sub1/m0001.py")  # read by some probe, matches no needle
        assert facts.text("pkg/sub0/m0000.py")
        found = {p for p, _ in facts.grep(tree.paths(), NEEDLES)}
    assert found == hits


def test_no_git_means_python(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    hits = _fill(root, 20)
    with WorkTree(root) as tree:
        assert tree.grep(tree.paths(), NEEDLES.pcre()) is None
        assert {p for p, _ in Facts(tree).grep(tree.paths(), NEEDLES)} == hits


@pytest.mark.parametrize("needle,ok", [
    ("mlflow", True), (r"import[ \t]+(?:a|b)\b", True), (r"open\([ \t]*\r?$", True),
    (r"""[^'"\n]*\.csv""", True), (r"open\(\s*'", False), (r"a\Wb", False), (r"""[^'"]*x""", False),
    ("(?s)a.b", False), ("a\nb", False),
])
def test_needles_must_be_line_local(needle, ok):
    assert (line_local_problem(needle) is None) is ok
    if not ok:
        with pytest.raises(ValueError, match="line-local"):
            Needles([needle])


def test_a_probe_with_a_multiline_token_is_refused_at_load():
    from scanner.probe import Probe

    with pytest.raises(ValueError, match="python token"):
        Probe(id="x", title="x", patterns=(), kinds=(), collect=lambda ctx: [], python_tokens=(r"a\s+b",))
