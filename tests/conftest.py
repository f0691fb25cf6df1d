from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import build_fixture

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_REPOS = ROOT / "fixtures" / "repos"


@pytest.fixture(scope="session")
def fixture_repo(tmp_path_factory):
    """Build (once per session) the git repository of ``fixtures/repos/<name>``."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = build_fixture(FIXTURE_REPOS / name, tmp_path_factory.mktemp(name) / name)
        return built[name]

    return get


@pytest.fixture(autouse=True)
def _result_cache(tmp_path_factory, monkeypatch):
    """Each test's CLI runs start with an empty result cache of their own (never ~/.cache): a
    test sees what a first scan does, unless it scans twice on purpose."""
    monkeypatch.setenv("MLSCAN_CACHE_DIR", str(tmp_path_factory.mktemp("mlscan-cache")))
