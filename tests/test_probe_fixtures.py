"""One data-driven test for every probe fixture case (Checkov/Semgrep style).

Each case is ``fixtures/probes/<probe>/<case>/`` with the tree under ``repo/`` and the findings in
``expected.yaml``::

    probes: [dvc]              # optional; defaults to the family folder name
    history: [...]             # optional; see tests/gitrepo.py
    expect:                    # each must match at least one evidence item
      - kind: dvc.pipeline
        path: dvc.yaml
        lines: [1, 24]
        strength: configured
        outcome: present
        attributes: {stages: 3}   # subset match
        downgraded: true          # has at least one downgrade reason
        reason_contains: "cap"
    absent:                    # none may match
      - kind: dvc.remote
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.models import Evidence
from scanner.registry import all_probes
from scanner.runner import run_probes
from scanner.services import ServiceSession
from scanner.snapshot import WorkTree
from tests.citations import check_citation
from tests.gitrepo import build_repo, git

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "fixtures" / "probes").glob("*/*/expected.yaml"))


def _subset(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(actual[k], v) for k, v in expected.items())
    return actual == expected


def matches(item: Evidence, spec: dict[str, Any]) -> bool:
    cit = item.citation
    checks = [
        item.kind == spec["kind"],
        "path" not in spec or (cit is not None and cit.path == spec["path"]),
        "lines" not in spec or (cit is not None and [cit.start_line, cit.end_line] == list(spec["lines"])),
        "strength" not in spec or item.strength.value == spec["strength"],
        "outcome" not in spec or item.outcome.value == spec["outcome"],
        "subject" not in spec or item.subject == spec["subject"],
        "attributes" not in spec or _subset(item.attributes, spec["attributes"]),
        "downgraded" not in spec or bool(item.downgrades) == spec["downgraded"],
        "reason_contains" not in spec or spec["reason_contains"] in (item.reason or " ".join(item.downgrades)),
    ]
    return all(checks)


def _describe(evidence: list[Evidence]) -> str:
    rows = []
    for e in evidence:
        c = e.citation
        where = f"{c.path}:{c.start_line}-{c.end_line}" if c else "-"
        rows.append(f"  {e.kind} [{e.strength.value}/{e.outcome.value}] {where} {e.attributes} {e.downgrades} {e.reason or ''}")
    return "\n".join(rows)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.parent.name}/{c.parent.name}" for c in CASES])
def test_probe_case(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load(case.read_text()) or {}
    family = case.parent.parent.name
    wanted = set(spec.get("probes", [family]))
    probes = [p for p in all_probes() if p.id in wanted]
    assert {p.id for p in probes} == wanted, f"unknown probe ids in {case}"
    repo = build_repo(case.parent / "repo", tmp_path / "repo", spec.get("history"))
    with WorkTree(repo) as snapshot:
        # as in a real scan without links: services are "not linked", and nothing is contacted; the
        # scan time is the head commit's, so ages measured by probes are the same on every run
        head_time = git(repo, "log", "-1", "--format=%cI").strip()
        result = run_probes(snapshot, probes, services=ServiceSession({}, observed_at=head_time))
    assert not [p for p in result.problems if p.scope == "probe"], result.problems
    listing = _describe(result.evidence)
    for expected in spec.get("expect", []):
        assert any(matches(e, expected) for e in result.evidence), f"missing {expected}\nemitted:\n{listing}"
    for forbidden in spec.get("absent", []):
        hits = [e for e in result.evidence if matches(e, forbidden)]
        assert not hits, f"unexpected {forbidden}\nemitted:\n{_describe(hits)}"
    problems = [p for e in result.evidence for p in check_citation(repo, e)]
    assert not problems, problems
