"""Unit tests for the repo probe's parsers: the cases a fixture tree would make clumsy to show."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from probes._repo_binary import LfsRules, classify
from probes._repo_docs import guess_spdx, readme_facts
from probes._repo_env import fully_pinned, pyproject_declares_deps
from probes._repo_history import is_ml_path, min_authors_for_half
from probes._repo_owners import compile_git_pattern, covered_dirs, ml_dirs, parse_codeowners
from scanner.registry import all_probes
from scanner.runner import run_probes
from scanner.snapshot import WorkTree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "probes" / "repo"


@pytest.mark.parametrize(
    "pattern, path, recursive, expected",
    [
        ("*.csv", "data/raw/a.csv", False, True),  # no slash: any depth
        ("/data/", "data/raw/a.csv", True, True),  # anchored directory, recursive in CODEOWNERS
        ("data/", "src/data/x.py", True, True),  # trailing slash only: a directory anywhere
        ("/data/", "src/data/x.py", True, False),
        ("docs/*", "docs/a.md", True, True),
        ("docs/*", "docs/deep/a.md", False, False),  # gitattributes: no recursion into dirs
        ("data/processed/*.parquet", "data/processed/f.parquet", False, True),
        ("data/processed/*.parquet", "x/data/processed/f.parquet", False, False),  # has a slash: anchored
        ("models/**", "models/a/b.pt", False, True),
        ("!keep.csv", "keep.csv", False, None),  # negations are not attributes patterns
    ],
)
def test_git_patterns(pattern: str, path: str, recursive: bool, expected: bool | None) -> None:
    regex = compile_git_pattern(pattern, recursive=recursive)
    if expected is None:
        assert regex is None
    else:
        assert bool(regex.match(path)) is expected


def test_codeowners_gitlab_sections_and_comments() -> None:
    owners = parse_codeowners(
        [
            "# comment",
            "[Data Science][2] @acme/ds @sam",
            "/features/",
            "/train.py @acme/ml   # trailing comment",
            "^[Optional]",
            "[Dd]ocs/ @acme/docs",  # a character class, not a section
            "path\\ with\\ space.md @acme/docs",
        ]
    )
    assert owners.sections == 2
    assert [(r.pattern, r.owners) for r in owners.rules] == [
        ("/features/", ("@acme/ds", "@sam")),
        ("/train.py", ("@acme/ml",)),
        ("[Dd]ocs/", ("@acme/docs",)),
        ("path\\ with\\ space.md", ("@acme/docs",)),
    ]


def test_codeowners_coverage_is_by_directory_not_by_extension() -> None:
    rules = parse_codeowners(["* @all", "*.py @py-team", "/models/* @ml", "infra/ @ops"]).rules
    dirs = ml_dirs(["src/app.py", "models/m.txt", "deploy/infra/main.tf", "data/README.md"])
    assert dirs == ["data", "deploy/infra", "models", "src"]
    assert covered_dirs(rules, dirs) == ["deploy/infra", "models"]


@pytest.mark.parametrize(
    "path, size, expected",
    [
        ("data/raw/big.csv", 2_000_000, ("data", "csv")),
        ("data/raw/small.csv", 99_999, None),
        ("models/model.pkl", 10, ("model", "pkl")),
        ("data/frames/train.pkl", 500_000, ("data", "pkl")),  # a pickled DataFrame under data/
        ("data/cache.h5", 50_000, None),  # data, and small
        ("weights/model.h5", 50_000, ("model", "h5")),
        ("export/events.jsonl", 999_999, None),
        ("export/events.jsonl", 1_000_001, ("data", "jsonl")),
        ("models/adapter.bin", 2_000_000, ("model", "bin")),
        ("models/README", 10, None),
        ("docs/diagram.PNG", 5_000_000, None),
        ("models/Model.ONNX", 10, ("model", "onnx")),
    ],
)
def test_classify_binaries(path: str, size: int, expected: tuple[str, str] | None) -> None:
    assert classify(path, size) == expected


def test_lfs_rules_last_match_wins_and_nested_files() -> None:
    class Ctx:  # the two members LfsRules reads
        paths = [".gitattributes", "data/.gitattributes"]

        class facts:
            @staticmethod
            def lines(path: str) -> list[str]:
                return {
                    ".gitattributes": ["*.parquet filter=lfs diff=lfs merge=lfs -text", "# note", "[attr]binary -diff"],
                    "data/.gitattributes": ["small/*.parquet -filter", "*.csv filter=lfs"],
                }[path]

    rules = LfsRules(Ctx())  # type: ignore[arg-type]
    assert rules.tracks("x/y.parquet")
    assert not rules.tracks("data/small/y.parquet")
    assert rules.tracks("data/deep/z.csv")
    assert not rules.tracks("other/z.csv")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("numpy==1.26.4\npandas==2.2.2 ; python_version >= '3.10'\n", True),
        ("-r base.txt\n--index-url https://pypi.org/simple\ntorch==2.3.0+cpu\n", True),
        ("numpy==1.26.4 \\\n    --hash=sha256:abc\n", True),
        ("numpy==1.26.4\npandas>=2\n", False),
        ("numpy==1.*\n", False),
        ("-r base.txt\n", False),  # nothing pinned here
        ("mylib @ git+https://github.com/a/b@0123456789abcdef0123456789abcdef01234567\n", True),
    ],
)
def test_fully_pinned(text: str, expected: bool) -> None:
    assert fully_pinned(text.splitlines()) is expected


def test_pyproject_deps_by_section() -> None:
    assert not pyproject_declares_deps(["[tool.ruff]", "line-length = 100", "[project]", 'name = "x"'])
    assert pyproject_declares_deps(["[project]", "dependencies = [", '  "pandas>=2",', "]"])
    assert not pyproject_declares_deps(["[project]", "dependencies = []"])
    assert pyproject_declares_deps(["[tool.poetry.dependencies]", 'python = "^3.11"', 'torch = "^2.3"'])
    assert not pyproject_declares_deps(["[tool.poetry.dependencies]", 'python = "^3.11"'])
    assert pyproject_declares_deps(["[project]", 'dynamic = ["version", "dependencies"]'])


def test_spdx_guesses() -> None:
    assert guess_spdx("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007") == "LGPL-3.0"
    assert guess_spdx("GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007") == "GPL-3.0"
    assert guess_spdx("Redistribution and use in source and binary forms, with or without") == "BSD-2-Clause"
    assert guess_spdx("// SPDX-License-Identifier: MPL-2.0\n") == "MPL-2.0"
    assert guess_spdx("All rights reserved. Internal use only.") is None


def test_readme_ignores_code_and_finds_setext_headings() -> None:
    words, headings, setup = readme_facts(
        ["Title", "=====", "", "Some words here.", "```", "not counted at all", "```", "Quick start", "-----------"]
    )
    assert headings == ["Title", "Quick start"]
    assert setup is True
    assert words == 1 + 3 + 2


def test_bus_factor_and_ml_paths() -> None:
    assert min_authors_for_half(Counter({"a": 5, "b": 3, "c": 2})) == 1
    assert min_authors_for_half(Counter({"a": 2, "b": 2, "c": 1})) == 2
    assert min_authors_for_half(Counter()) == 0
    assert is_ml_path("training/loop.py", set())
    assert is_ml_path("data/raw.csv.dvc", set())
    assert is_ml_path("src/app.py", {"src/app.py"})
    assert not is_ml_path("src/app.py", set())


def test_no_git_history_is_unknown_not_zero(tmp_path: Path) -> None:
    """A plain directory has no history: contributor kinds say so; binaries carry no recency."""
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "committed_binaries" / "repo", tree)
    probes = [p for p in all_probes() if p.id == "repo"]
    with WorkTree(tree) as snapshot:
        assert snapshot.repo is None
        result = run_probes(snapshot, probes)
    by_kind = {e.kind: e for e in result.evidence}
    assert by_kind["repo.contributors"].outcome.value == "unknown"
    assert "not a git repository" in (by_kind["repo.contributors"].reason or "")
    assert by_kind["repo.bus_factor"].outcome.value == "unknown"
    binaries = [e for e in result.evidence if e.kind == "repo.committed_binary"]
    assert binaries and all(e.attributes["changed_180d"] is None for e in binaries)


def test_module_map_knows_nested_packages_by_their_import_name():
    from probes._repo_code import module_map

    found = module_map(["pipelines/training/src/crt/__init__.py", "pipelines/training/src/crt/features.py", "scripts/a.py"])
    assert found["crt.features"] == "pipelines/training/src/crt/features.py"
    assert "a" not in found  # a loose script is not importable by its bare name
