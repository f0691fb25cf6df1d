"""Every bundled example repository, scanned end to end as a real git repository.

Each ``fixtures/repos/<name>/fixture.yaml`` states the level it must reach per dimension
(``expected:``); every citation in every report is re-checked against the git objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanner.models import DIMENSIONS
from scanner.scan import scan
from tests.citations import check_citation
from tests.conftest import FIXTURE_REPOS

NAMES = sorted(p.parent.name for p in FIXTURE_REPOS.glob("*/fixture.yaml"))


def expected_levels(name: str) -> dict:
    spec = yaml.safe_load((FIXTURE_REPOS / name / "fixture.yaml").read_text(encoding="utf-8")) or {}
    return spec.get("expected") or {}


def test_there_are_at_least_five_examples():
    assert len(NAMES) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_levels_match_expectations(name, fixture_repo):
    card = scan(fixture_repo(name))
    expected = expected_levels(name)
    assert set(expected) == set(DIMENSIONS), f"{name}: fixture.yaml must give an expected level per dimension"
    got = {d.id: {"level": d.level, "verified_level": d.verified_level} for d in card.dimensions}
    want = {dim: ({"level": v, "verified_level": v} if isinstance(v, int) else v) for dim, v in expected.items()}
    assert got == want


@pytest.mark.parametrize("name", NAMES)
def test_every_citation_holds(name, fixture_repo):
    repo: Path = fixture_repo(name)
    card = scan(repo)
    problems = [p for e in card.evidence for p in check_citation(repo, e)]
    assert not problems, problems
    assert all(e.citation is None or e.citation.commit == card.header.target.commit for e in card.evidence)
