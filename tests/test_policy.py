"""Waivers and the central policy, on real repositories."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from scanner.scan import load_policy, scan
from tests.gitrepo import commit, git

CONFIG = """context: {serving: batch}
waivers:
  - criterion: MO-1.2
    reason: accepted-risk
    justification: Dependencies are pinned by the platform image
    owner: ml-platform@example.com
    expires: 2027-01-31
  - criterion: MO-1.1
    reason: because-we-said-so
    justification: nope
  - criterion: CO-2.3
    reason: remediated-elsewhere
    justification: Hooks live in the monorepo root
    owner: ann
    expires: 2027-01-31
    path: services/legacy
"""


def make_repo(tmp_path: Path, config: str = CONFIG) -> Path:
    root = tmp_path / "r"
    (root / "src").mkdir(parents=True)
    (root / "src" / "train.py").write_text("import sklearn\n\nif __name__ == '__main__':\n    pass\n")
    (root / ".mlscan.yaml").write_text(config)
    git(root, "init", "-q", "-b", "main")
    commit(root, "Ann <ann@example.com>", "2026-06-01T00:00:00+00:00", "init")
    return root


def statuses(card) -> dict[str, str]:
    return {c.id: c.status for c in card.criteria}


def test_malformed_and_scoped_waivers_stop_applying_visibly(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # 2026-05-28
    card = scan(make_repo(tmp_path))
    waivers = {w.criterion: w for w in card.waivers}
    assert waivers["MO-1.2"].active and statuses(card)["MO-1.2"] == "waived"
    assert not waivers["MO-1.1"].active and "malformed waiver ignored" in waivers["MO-1.1"].note
    assert ".mlscan.yaml:" in waivers["MO-1.1"].note
    assert statuses(card)["MO-1.1"] == "fail"
    assert not waivers["CO-2.3"].active and "scoped to services/legacy" in waivers["CO-2.3"].note
    assert card.header.context == {"serving": "batch"}


def test_policy_forbids_repo_waivers_caps_length_and_overrides_context(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("forbid_repo_waivers: true\ncontext: {serving: online}\nmin_levels: {governance: 1}\n")
    card = scan(make_repo(tmp_path), policy=load_policy(policy_file))
    waiver = next(w for w in card.waivers if w.criterion == "MO-1.2")
    assert not waiver.active and "forbidden by the central policy" in waiver.note
    assert statuses(card)["MO-1.2"] == "fail"
    assert card.header.context["serving"] == "online"

    capped = tmp_path / "cap.yaml"
    capped.write_text("max_waiver_days: 30\n")
    card = scan(tmp_path / "r", policy=load_policy(capped))
    waiver = next(w for w in card.waivers if w.criterion == "MO-1.2")
    assert not waiver.active and "30-day cap" in waiver.note


def test_policy_minimum_levels_gate_the_cli(tmp_path):
    repo = make_repo(tmp_path)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("min_levels: {governance: 1}\n")
    result = CliRunner().invoke(main, ["scan", str(repo), "--quiet", "--policy", str(policy_file)])
    assert result.exit_code == 1 and "governance is 0, needs 1" in result.output
    policy_file.write_text("min_levels: {governance: 9}\n")
    result = CliRunner().invoke(main, ["scan", str(repo), "--quiet", "--policy", str(policy_file)])
    assert result.exit_code == 2 and "policy.yaml:1" in result.output
