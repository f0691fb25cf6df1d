"""The pre-merge gate on real git repositories: one base commit, one head commit per regression."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.diff import compare, parse_fail_on
from tests.gitrepo import commit, git

ROLLBACK = """name: rollback
on:
  workflow_dispatch:
    inputs:
      revision:
        description: Helm revision to return to
        required: true
jobs:
  rollback:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - name: Roll the scorer back
        run: helm rollback churn-scorer "${{ inputs.revision }}" --namespace ml --wait
"""

ALERTS = """groups:
  - name: churn-model
    rules:
      - alert: ChurnFeatureDrift
        expr: max(churn_feature_psi) > 0.2
        for: 1h
        labels:
          severity: page
        annotations:
          summary: Input drift on the churn model
      - alert: ChurnScorerErrors
        expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05
        labels:
          severity: page
"""

ALERTMANAGER = """route:
  receiver: ml-oncall
receivers:
  - name: ml-oncall
    slack_configs:
      - channel: "#churn-model"
        api_url_file: /etc/alertmanager/slack_url
"""

# The same alert rules, reformatted: flow style, keys reordered, other indentation.
ALERTS_REFORMATTED = """groups:
- name: churn-model
  rules:
  - alert: ChurnScorerErrors
    labels: {severity: page}
    expr: rate(http_requests_total{status=~"5.."}[5m]) > 0.05
  - expr: max(churn_feature_psi) > 0.2
    alert: ChurnFeatureDrift
    annotations: {summary: Input drift on the churn model}
    labels: {severity: page}
    for: 1h
"""


@pytest.fixture()
def repo(fixture_repo, tmp_path: Path) -> Path:
    """The churn demo plus a rollback job and routed drift alerts, as one more base commit."""
    root = tmp_path / "churn"
    shutil.copytree(fixture_repo("churn-dvc-gx"), root, symlinks=True)
    (root / ".github" / "workflows" / "rollback.yml").write_text(ROLLBACK)
    (root / "monitoring").mkdir()
    (root / "monitoring" / "alerts.yml").write_text(ALERTS)
    (root / "monitoring" / "alertmanager.yml").write_text(ALERTMANAGER)
    commit(root, "Maya Okafor <maya@example.com>", "2026-10-01T10:00:00+00:00", "Rollback job and drift alerts")
    git(root, "tag", "base")
    return root


def head_commit(root: Path, message: str) -> None:
    commit(root, "Bo Chen <bo@example.com>", "2026-10-02T10:00:00+00:00", message)


JOBS = ["1"]


@pytest.fixture(params=["1", "2"], autouse=True, ids=["one-process", "workers"])
def jobs(request, monkeypatch):
    """Every diff test runs twice: in one process, and with forked workers taking base/head pairs."""
    monkeypatch.setattr(f"{__name__}.JOBS", [request.param])
    return request.param


def run_diff(root: Path, *extra: str):
    return CliRunner().invoke(main, ["diff", str(root), "--base", "base", "--head", "HEAD", "--quiet",
                                     "--jobs", JOBS[0], *extra], catch_exceptions=False)


def diff_json(root: Path, *extra: str) -> tuple[int, dict]:
    result = run_diff(root, "--format", "json", *extra)
    return result.exit_code, json.loads(result.stdout)


def regressed(report: dict) -> set[str]:
    return {r["criterion"] for r in report["regressions"] if r["type"] == "criterion-regression"}


def test_rollback_job_removed(repo: Path):
    (repo / ".github" / "workflows" / "rollback.yml").unlink()
    head_commit(repo, "Drop the rollback workflow")
    code, report = diff_json(repo)
    assert code == 1
    assert "MD-3.5" in regressed(report)
    lost = [e for e in report["evidence"] if e["change"] == "lost" and e["kind"] == "ci.job.rollback"]
    assert lost and lost[0]["citation"]["path"] == ".github/workflows/rollback.yml"


def test_validation_made_non_blocking(repo: Path):
    for name in ("validate-data.yml", "train.yml"):  # both workflows gate on the checkpoint
        workflow = repo / ".github" / "workflows" / name
        text = workflow.read_text().replace(
            "        run: python -m churn.validate --checkpoint raw_customers\n",
            "        run: python -m churn.validate --checkpoint raw_customers\n        continue-on-error: true\n")
        assert "continue-on-error" in text
        workflow.write_text(text)
    head_commit(repo, "Do not block PRs on flaky data checks")
    code, report = diff_json(repo)
    assert code == 1
    assert "DM-3.2" in regressed(report)
    reason = next(c["reason"] for c in report["criteria"] if c["id"] == "DM-3.2")
    assert "continue-on-error" in reason


def test_drift_alert_commented_out(repo: Path):
    alerts = repo / "monitoring" / "alerts.yml"
    lines = ALERTS.splitlines(keepends=True)
    drift = "".join("# " + line if 3 <= i <= 9 else line for i, line in enumerate(lines))
    alerts.write_text(drift)
    head_commit(repo, "Silence the drift alert for now")
    code, report = diff_json(repo)
    assert code == 1
    assert "MO-3.3" in regressed(report)


def test_codeowners_emptied(repo: Path):
    (repo / ".github" / "CODEOWNERS").write_text("")
    head_commit(repo, "Owners are in the wiki now")
    code, report = diff_json(repo)
    assert code == 1
    assert "CO-2.4" in regressed(report)
    assert any(d["id"] == "collaboration" for d in report["dimensions"])


def test_model_card_deleted(repo: Path):
    (repo / "MODEL_CARD.md").unlink()
    head_commit(repo, "Remove stale model card")
    code, report = diff_json(repo)
    assert code == 1
    assert "GV-1.1" in regressed(report)
    drop = [r for r in report["regressions"] if r["type"] == "level-drop"]
    assert [r["dimension"] for r in drop] == ["governance"]


def test_reformat_and_moved_lines_are_not_a_regression(repo: Path):
    (repo / "monitoring" / "alerts.yml").write_text(ALERTS_REFORMATTED)
    workflow = repo / ".github" / "workflows" / "rollback.yml"
    workflow.write_text("# Manual rollback of the churn scorer.\n\n" + workflow.read_text().replace("    runs-on: ubuntu-latest\n    environment: production\n", "    environment: production\n    runs-on: ubuntu-latest\n"))
    head_commit(repo, "Reformat YAML")
    code, report = diff_json(repo, "--fail-on", "level-drop,criterion-regression,evidence-lost")
    assert code == 0, report["regressions"]
    assert report["regressions"] == []
    assert report["evidence"] == []


def test_unchanged_probes_are_reused_and_the_worktree_is_the_default_head(repo: Path):
    (repo / "MODEL_CARD.md").write_text((repo / "MODEL_CARD.md").read_text() + "\nReviewed again in October.\n")
    result = CliRunner().invoke(main, ["diff", str(repo), "--base", "base", "--format", "json", "--quiet",
                                       "--jobs", JOBS[0]], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert report["head"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert {"ci", "dvc", "great_expectations", "mlflow", "serving"} <= set(report["reused_probes"])
    assert "model_card" not in report["reused_probes"]


def test_fail_on_none_and_bad_policy(repo: Path):
    (repo / "MODEL_CARD.md").unlink()
    head_commit(repo, "Remove stale model card")
    assert run_diff(repo, "--fail-on", "none").exit_code == 0
    bad = run_diff(repo, "--fail-on", "vibes")
    assert bad.exit_code == 2 and "--fail-on" in bad.output
    with pytest.raises(ValueError):
        parse_fail_on("level-drop,nope")


def test_merge_base_is_used(repo: Path):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "MODEL_CARD.md").unlink()
    head_commit(repo, "Feature work that deletes the card")
    git(repo, "checkout", "-q", "main")
    (repo / "NOTES.md").write_text("main moved on\n")
    head_commit(repo, "Unrelated work on main")
    result = CliRunner().invoke(main, ["diff", str(repo), "--base", "main", "--head", "feature", "--format", "json",
                                       "--quiet"], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert report["base"]["commit"] == git(repo, "rev-parse", "base").strip()  # the merge-base
    assert result.exit_code == 1


def test_unjustified_waiver_added_in_head_is_a_regression(repo: Path, fixture_repo):
    from scanner.scan import scan

    base_card = scan(repo)
    (repo / ".mlscan.yaml").write_text("waivers:\n  - {criterion: MD-4.1, reason: accepted-risk, owner: bo}\n")
    head_commit(repo, "Waive canaries")
    head_card = scan(repo)
    result = compare(base_card, head_card)
    assert [r.type for r in result.regressions] == ["unjustified-waiver"]
    assert result.failed


def test_a_change_to_a_file_no_probe_parses_reuses_the_python_probes(repo: Path):
    init = repo / "src" / "churn" / "__init__.py"
    init.write_text(init.read_text() + "\n__all__ = []\n")
    head_commit(repo, "Tidy the package init")
    code, report = diff_json(repo)
    assert code == 0
    assert {"mlflow", "trackers", "ci", "great_expectations"} <= set(report["reused_probes"])
