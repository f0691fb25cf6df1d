"""The rule engine and loader on a small synthetic pack, independent of the built-in probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine import EngineInput, score
from scanner.models import DIMENSIONS, Evidence, Outcome, Strength, Waiver, fingerprint
from scanner.probe import Attributes, Kind
from scanner.rulepack import RuleError, load_pack


class Job(Attributes):
    name: str
    stages: int = 0
    blocking: bool = True
    tags: list[str] = []


KINDS = {k.name: k for k in (Kind("t.job", Job, "a job"), Kind("t.other", Job, "another"))}


def ev(kind: str = "t.job", strength: Strength = Strength.configured, downgrades=(), outcome=Outcome.present,
       reason=None, **attrs) -> Evidence:
    attrs = Job(**{"name": "x", **attrs}).model_dump()
    return Evidence(id=fingerprint(kind, "", "f", {**attrs, "s": strength.value, "o": outcome.value}), kind=kind,
                    probe="t", attributes=attrs, strength=strength, downgrades=list(downgrades), outcome=outcome,
                    reason=reason)


def write_pack(tmp: Path, criteria_yaml: str, dim: str = "data_management") -> Path:
    (tmp / "pack.yaml").write_text("id: p\nversion: '1'\ndimensions:\n" + "".join(f"  - {d}.yaml\n" for d in DIMENSIONS))
    for d in DIMENSIONS:
        body = criteria_yaml if d == dim else (
            "levels:\n  1:\n    criteria:\n      - id: X-" + d + "\n        title: t\n        remediation: r\n"
            "        match: {kind: t.other}\n")
        (tmp / f"{d}.yaml").write_text(f"dimension: {d}\ntitle: {d}\n" + body)
    return tmp


LEVELS = """levels:
  1:
    criteria:
      - id: A-1
        title: a job
        remediation: add a job
        match: {kind: t.job}
  2:
    criteria:
      - id: A-2
        title: a multi-stage job
        remediation: add stages
        match:
          kind: t.job
          where: {stages: {gte: 2}}
  3:
    criteria:
      - id: A-3
        title: it ran
        remediation: run it
        match: {kind: t.job}
        min_strength: executed
        verify_with: [github]
  4:
    criteria:
      - id: A-4
        title: not observable
        remediation: later
        unobservable: no probe for this yet
"""


def run(tmp_path, evidence, criteria=LEVELS, **kw):
    pack = load_pack(KINDS, write_pack(tmp_path, criteria))
    dims, results = score(pack, EngineInput(evidence=evidence, **kw))
    return dims[0], {r.id: r for r in results}


def test_cumulative_levels_and_unverified(tmp_path):
    dim, res = run(tmp_path, [ev(stages=3)])
    assert [res[c].status for c in ("A-1", "A-2", "A-3", "A-4")] == ["pass", "pass", "unverified", "unknown"]
    assert (dim.level, dim.verified_level) == (3, 2)
    assert [g.criterion for g in dim.not_verifiable] == ["A-4"]
    assert "github not linked" in res["A-3"].reason
    assert dim.coverage == 0.75


def test_linked_service_that_shows_nothing_fails(tmp_path):
    _, res = run(tmp_path, [ev(stages=3)], services={"github": "linked"})
    assert res["A-3"].status == "fail"


def test_downgraded_evidence_is_not_unverified(tmp_path):
    dim, res = run(tmp_path, [ev(stages=3, strength=Strength.mention, downgrades=["continue-on-error"])])
    assert res["A-1"].status == "fail"
    assert "continue-on-error" in res["A-1"].reason
    assert dim.level == 0


def test_unknown_caps_and_is_not_fail(tmp_path):
    dim, res = run(tmp_path, [ev(outcome=Outcome.unknown, reason="probe t failed: boom")])
    assert res["A-1"].status == "unknown"
    assert "boom" in res["A-1"].reason
    assert dim.level == 0 and dim.not_verifiable[0].criterion == "A-1"


def test_highest_band_out_of_order(tmp_path):
    criteria = LEVELS.replace("match: {kind: t.job}\n  2", "match: {kind: t.other}\n  2", 1)
    dim, res = run(tmp_path, [ev(stages=3)], criteria=criteria)
    assert res["A-1"].status == "fail"
    assert dim.level == 0 and dim.highest_band == 3


def test_waiver_and_not_applicable(tmp_path):
    criteria = LEVELS.replace("        match:\n          kind: t.job\n          where: {stages: {gte: 2}}",
                              "        applies_when: {serving: [online]}\n        match:\n          kind: t.job\n          where: {stages: {gte: 2}}")
    waiver = Waiver(criterion="A-1", reason="accepted-risk", justification="legacy", owner="ann")
    dim, res = run(tmp_path, [], criteria=criteria, context={"serving": "batch"}, waivers=[waiver])
    assert res["A-1"].status == "waived" and res["A-1"].self_reported
    assert res["A-2"].status == "not_applicable"
    assert dim.level == 2


@pytest.mark.parametrize("op,operand,value,expected", [
    ("gt", 1, 2, True), ("lt", 1, 2, False), ("in", "[a, b]", "a", True), ("ne", "a", "a", False),
    ("matches", "'^dep'", "deploy", True), ("exists", "true", "x", True), ("contains", "ml", ["ml"], True),
])
def test_operators(tmp_path, op, operand, value, expected):
    attr = "tags" if op == "contains" else ("stages" if isinstance(value, int) else "name")
    criteria = f"""levels:
  1:
    criteria:
      - id: A-1
        title: t
        remediation: r
        match:
          kind: t.job
          where: {{{attr}: {{{op}: {operand}}}}}
"""
    _, res = run(tmp_path, [ev(**{attr: value})], criteria=criteria)
    assert (res["A-1"].status == "pass") is expected


def test_all_any_not(tmp_path):
    criteria = """levels:
  1:
    criteria:
      - id: A-1
        title: t
        remediation: r
        match:
          all:
            - kind: t.job
            - not: {kind: t.other}
      - id: A-2
        title: t
        remediation: r
        match:
          any:
            - kind: t.other
            - {kind: t.job, count: {gte: 2}}
"""
    _, res = run(tmp_path, [ev(name="a"), ev(name="b")], criteria=criteria)
    assert res["A-1"].status == "pass" and res["A-2"].status == "pass"
    _, res = run(tmp_path, [ev(name="a"), ev(kind="t.other")], criteria=criteria)
    assert res["A-1"].status == "fail" and res["A-2"].status == "pass"


def test_requires_prerequisite(tmp_path):
    criteria = LEVELS.replace("        title: a multi-stage job\n", "        title: a multi-stage job\n        requires: [ET>=1]\n")
    dim, res = run(tmp_path, [ev(stages=3)], criteria=criteria)
    assert res["A-2"].status == "fail"
    assert "prerequisite not met: experiment_tracking>=1" in res["A-2"].reason
    assert dim.level == 1


@pytest.mark.parametrize("body,message", [
    ("match: {kind: t.nope}", "unknown evidence kind 't.nope'"),
    ("match: {kind: t.job, where: {stagez: 1}}", "has no attribute 'stagez'"),
    ("match: {kind: t.job, where: {stages: {bigger: 1}}}", "unknown operator 'bigger'"),
    ("match: {kind: t.job}\n        min_strength: proven", "unknown strength 'proven'"),
])
def test_loader_errors_name_file_and_line(tmp_path, body, message):
    criteria = f"levels:\n  1:\n    criteria:\n      - id: A-1\n        title: t\n        remediation: r\n        {body}\n"
    with pytest.raises(RuleError) as err:
        load_pack(KINDS, write_pack(tmp_path, criteria))
    assert message in str(err.value)
    assert "data_management.yaml:" in str(err.value)
    line = int(str(err.value).split("data_management.yaml:")[1].split(":")[0])
    assert 6 <= line <= 10


def test_reasons_name_a_service_answer_by_its_service_and_subject():
    """Evidence from a linked service has no file: the reason names the service and the subject
    (a model, a pull request), not the kind twice."""
    from scanner.engine import _describe
    from scanner.models import Citation

    answer = Evidence(id="a", kind="registry.version", probe="mlflow_registry", subject="fraud v3",
                      citation=Citation(source="mlflow", endpoint="http://127.0.0.1:5000/api/2.0/mlflow"))
    in_file = Evidence(id="b", kind="ci.job", probe="ci", citation=Citation(path=".github/workflows/ci.yml"))
    bare = Evidence(id="c", kind="repo.readme", probe="repo")
    assert _describe([answer]) == "registry.version from mlflow (fraud v3)"
    assert _describe([in_file, bare]) == "ci.job at .github/workflows/ci.yml, repo.readme"
