"""The CLI as a user meets it: formats, exit codes, bad input, failing probes, plugins."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap

import jsonschema
import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.models import DIMENSIONS
from scanner.registry import all_probes
from scanner.scan import scan
from tests.gitrepo import commit, git

DEMO = "churn-dvc-gx"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_scan_terminal_shows_six_levels(fixture_repo):
    result = invoke("scan", str(fixture_repo(DEMO)), "--quiet")
    assert result.exit_code == 0, result.output
    for title in ("Data management", "Experiment tracking", "Model deployment", "Monitoring", "Governance", "Collaboration"):
        assert title in result.output


def test_json_report_validates_against_schema(fixture_repo, tmp_path):
    out = tmp_path / "report.json"
    assert invoke("scan", str(fixture_repo(DEMO)), "--format", "json", "-o", str(out), "--quiet").exit_code == 0
    report = json.loads(out.read_text())
    schema = json.loads(invoke("schema").output)
    jsonschema.validate(report, schema)
    assert [d["id"] for d in report["dimensions"]] == list(DIMENSIONS)
    assert all({"level", "verified_level"} <= set(d) for d in report["dimensions"])
    cited = [e for e in report["evidence"] if e["citation"] and e["citation"]["path"]]
    assert cited and all(not e["citation"]["path"].startswith("/") for e in cited)


def test_markdown_report(fixture_repo):
    result = invoke("scan", str(fixture_repo(DEMO)), "--format", "md", "--quiet")
    assert result.exit_code == 0
    assert result.output.startswith("## mlscan:") and "| Dimension | Level |" in result.output


def test_fail_under_gate(fixture_repo):
    repo = str(fixture_repo(DEMO))
    assert invoke("scan", repo, "--quiet", "--fail-under", "data_management=0").exit_code == 0
    failing = invoke("scan", repo, "--quiet", "--fail-under", "monitoring=4")
    assert failing.exit_code == 1
    assert "gate failed" in failing.output


@pytest.mark.parametrize("args,message", [
    (["scan", "{missing}"], "no such directory"),
    (["scan", "{repo}", "--rev", "no-such-rev"], "unknown revision"),
    (["scan", "{repo}", "--fail-under", "vibes=3"], "DIMENSION=LEVEL"),
    (["explain", "XX-9.9"], "neither a dimension nor a criterion"),
])
def test_bad_input_exits_2_with_a_clear_message(fixture_repo, tmp_path, args, message):
    args = [a.format(missing=tmp_path / "nope", repo=fixture_repo(DEMO)) for a in args]
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_malformed_config_exits_2_with_file_and_line(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / ".mlscan.yaml").write_text("version: 1\ncontext:\n  team_size: many\n")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "Ann <ann@example.com>", "2026-01-01T00:00:00+00:00", "cfg")
    result = invoke("scan", str(repo))
    assert result.exit_code == 2
    assert ".mlscan.yaml:3" in result.output and "team_size" in result.output


def test_malformed_files_are_reported_and_the_scan_goes_on(tmp_path):
    repo = tmp_path / "r"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "dvc.yaml").write_text("stages:\n  train:\n    cmd: [python train.py\n")
    (repo / "params.yaml").write_bytes(b"lr: \xff\xfe\n")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "Ann <ann@example.com>", "2026-01-01T00:00:00+00:00", "broken")
    card = scan(repo)
    problems = {p.subject: p.message for p in card.errors}
    assert "malformed YAML" in problems["dvc.yaml"]
    assert "UTF-8" in problems["params.yaml"]
    assert any(e.outcome.value == "unknown" and e.citation and e.citation.path == "dvc.yaml" for e in card.evidence)


def test_a_probe_that_raises_does_not_stop_the_scan(fixture_repo):
    def boom(ctx):
        raise RuntimeError("boom")

    probes = [dataclasses.replace(p, collect=boom) if p.id == "dvc" else p for p in all_probes()]
    card = scan(fixture_repo(DEMO), probes=probes)
    assert any(p.scope == "probe" and p.subject == "dvc" and "boom" in p.message for p in card.errors)
    dm = {c.id: c for c in card.criteria}
    assert dm["DM-2.1"].status == "unknown" and "boom" in dm["DM-2.1"].reason
    assert card.dimension("model_deployment").level >= 1  # the other probes still ran


def test_rev_scan_leaves_worktree_and_index_alone(fixture_repo):
    repo = fixture_repo(DEMO)
    head = git(repo, "rev-parse", "HEAD").strip()
    status = git(repo, "status", "--porcelain=v2", "--untracked-files=all")
    index = (repo / ".git" / "index").read_bytes()
    result = invoke("scan", str(repo), "--rev", "HEAD~1", "--format", "json", "--quiet")
    assert result.exit_code == 0
    assert json.loads(result.output)["header"]["target"]["commit"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain=v2", "--untracked-files=all") == status
    assert (repo / ".git" / "index").read_bytes() == index


def test_byte_identical_json(fixture_repo, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    repo = str(fixture_repo(DEMO))
    first = invoke("scan", repo, "--format", "json", "--quiet").output
    second = invoke("scan", repo, "--format", "json", "--quiet").output
    assert first == second
    assert json.loads(first)["header"]["generated_at"].startswith("2026-05-28")


def test_probes_rules_explain_list_everything():
    listing = invoke("probes").output
    for probe in all_probes():
        assert probe.id in listing
    assert "DM-2.1" in invoke("rules").output
    text = invoke("explain", "model_deployment").output
    assert "Level 3" in text and "How to get there" in text
    assert "unverified" in invoke("explain", "MD-1.1").output


def test_version_is_fast_path():
    out = subprocess.run([sys.executable, "-c", "import scanner.cli, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'git', 'rich', 'mlflow')))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_probe_via_entry_point(tmp_path, monkeypatch, fixture_repo):
    """A separately installed distribution (a real dist-info on sys.path) adds a probe."""
    site = tmp_path / "site"
    (site / "mlscan_demo_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "mlscan_demo_plugin-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: mlscan-demo-plugin\nVersion: 0.1\n")
    (site / "mlscan_demo_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[mlscan.probes]\nlicense_words = mlscan_demo_plugin:PROBE\n")
    (site / "mlscan_demo_plugin.py").write_text(textwrap.dedent('''
        from scanner.probe import Attributes, Kind, Probe

        class Words(Attributes):
            words: int

        def collect(ctx):
            for path in ctx.paths:
                yield ctx.evidence("plugin.license_words", {"words": len((ctx.facts.text(path) or "").split())},
                                   path=path, lines=(1, 1))

        PROBE = Probe(id="license_words", title="Words in LICENSE", patterns=("LICENSE",),
                      kinds=(Kind("plugin.license_words", Words, "How long the license is"),), collect=collect)
    '''))
    monkeypatch.syspath_prepend(str(site))
    assert "license_words" in [p.id for p in all_probes()]
    assert "plugin.license_words" in invoke("probes").output
    card = scan(fixture_repo(DEMO))
    assert any(e.kind == "plugin.license_words" and e.attributes["words"] > 10 for e in card.evidence)


def test_target_gap_analysis_cheapest_first(fixture_repo):
    result = invoke("scan", str(fixture_repo(DEMO)), "--quiet", "--target", "model_deployment=3")
    assert result.exit_code == 0
    gaps = result.output.split("To reach the targets (model_deployment=3), cheapest first:")[1]
    ids = [line.split()[0] for line in gaps.splitlines() if line.startswith("  MD-")]
    assert ids and all(i.startswith("MD-") for i in ids)
    efforts = [line.split("[")[1].split()[0] for line in gaps.splitlines() if line.startswith("  MD-")]
    order = {"low": 0, "medium": 1, "high": 2}
    assert [order[e] for e in efforts] == sorted(order[e] for e in efforts)


def test_json_has_one_evidence_item_per_line_and_round_trips(fixture_repo):
    from scanner.scan import scan

    card = scan(fixture_repo(DEMO))
    text = card.to_json()
    assert json.loads(text) == card.model_dump(mode="json")
    lines = text.splitlines()
    start = lines.index('  "evidence": [')
    assert all(line.startswith('    {"attributes": ') for line in lines[start + 1:start + 1 + len(card.evidence)])
