"""SARIF, JUnit and the diff comment, rendered from real scans of real git repositories.

The SARIF schema is the OASIS one, read from ``../shared/schemas`` beside the checkout (never
copied into the project); those checks skip, saying why, where it is absent.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scanner.cli import main
from scanner.diff import compare
from scanner.gaps import blocking_criteria
from scanner.models import (
    Citation,
    DiffResult,
    EvidenceChange,
    Regression,
    Scorecard,
    Strength,
)
from scanner.registry import all_probes, kind_index
from scanner.report.diff_markdown import render_diff_markdown
from scanner.report.junit import render_junit
from scanner.report.sarif import SYNTHETIC_RULES, render_sarif
from scanner.rulepack import RulePack, load_pack
from scanner.scan import scan
from tests.gitrepo import commit, git

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"

INJECTION = "Pipes | and <img src=x onerror=alert(1)> and [link](javascript:alert(1)) @alice"

WAIVERS = f"""version: 1
waivers:
  - criterion: MO-2.1
    reason: accepted-risk
    justification: "{INJECTION}"
    owner: ml-platform@example.com
    expires: 2099-03-31
  - criterion: MO-2.3
    reason: remediated-elsewhere
    justification: Alerts live in the platform repository.
    owner: ml-platform@example.com
    expires: 2020-01-31
"""


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack(kind_index(all_probes()))


@pytest.fixture(scope="module")
def churn(fixture_repo) -> Scorecard:
    return scan(fixture_repo("churn-dvc-gx"))


@pytest.fixture(scope="module")
def claims(fixture_repo) -> Scorecard:
    return scan(fixture_repo("readme-only-claims"))


@pytest.fixture(scope="module")
def waived(fixture_repo, tmp_path_factory) -> Scorecard:
    """The churn demo scanned with a config that waives MO-2.1 and holds an expired MO-2.3 waiver."""
    config = tmp_path_factory.mktemp("config") / "mlscan.yaml"
    config.write_text(WAIVERS, encoding="utf-8")
    return scan(fixture_repo("churn-dvc-gx"), config_file=config)


@pytest.fixture(scope="module")
def regressed(fixture_repo, tmp_path_factory) -> DiffResult:
    """A pull request on the churn demo that makes the test step non-blocking, deletes the model
    card and waives GV-2.2 with a justification that tries to inject Markdown."""
    root = tmp_path_factory.mktemp("pr") / "churn"
    shutil.copytree(fixture_repo("churn-dvc-gx"), root, symlinks=True)
    base = git(root, "rev-parse", "HEAD").strip()
    ci = root / ".github" / "workflows" / "ci.yml"
    step = "        run: pytest --cov=churn --cov-report=term-missing --cov-fail-under=80\n"
    assert step in ci.read_text()
    ci.write_text(ci.read_text().replace(step, step + "        continue-on-error: true\n"))
    (root / "MODEL_CARD.md").unlink()
    (root / ".mlscan.yaml").write_text(
        "version: 1\nwaivers:\n  - criterion: GV-2.2\n    reason: accepted-risk\n"
        f"    justification: \"{INJECTION}\"\n    owner: ml@example.com\n    expires: 2099-01-01\n")
    commit(root, "Bo Chen <bo@example.com>", "2026-10-02T10:00:00+00:00", "Faster CI, drop the stale card")
    return compare(scan(root, rev=base), scan(root, rev="HEAD"))


def validate_sarif(text: str) -> dict:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF 2.1.0 schema not found at {SARIF_SCHEMA} (it lives in ../shared/schemas beside the checkout)")
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    assert validator_class is jsonschema.Draft4Validator  # the schema's $schema is draft-04
    validator_class(schema, format_checker=validator_class.FORMAT_CHECKER).validate(json.loads(text))
    log = json.loads(text)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    return log


def results_by_rule(log: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for result in log["runs"][0]["results"]:
        out.setdefault(result["ruleId"], []).append(result)
    return out


# -- SARIF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["churn", "claims"])
def test_sarif_validates_and_declares_every_criterion(name, request, pack):
    card: Scorecard = request.getfixturevalue(name)
    log = validate_sarif(render_sarif(card, pack))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert set(ids) == {c.id for c in pack.criteria()} | set(SYNTHETIC_RULES)
    assert len(ids) == len(set(ids))
    assert run["tool"]["driver"]["name"] == "mlscan"
    assert run["tool"]["driver"]["version"] == card.header.scanner_version
    by_id = {r["id"]: r for r in rules}
    dm21 = by_id["DM-2.1"]
    assert dm21["shortDescription"]["text"] == pack.criterion("DM-2.1").title
    assert dm21["help"]["text"].startswith(pack.criterion("DM-2.1").remediation)
    assert dm21["properties"]["dimension"] == "data_management" and dm21["properties"]["level"] == 2
    assert dm21["properties"]["min_strength"] == "configured"
    assert "data_management" in dm21["properties"]["tags"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_results_are_the_blocking_criteria(claims, pack):
    log = validate_sarif(render_sarif(claims, pack))
    blocking = blocking_criteria(claims, {})
    assert blocking, "the anti-gaming fixture must have gaps"
    results = results_by_rule(log)
    assert set(results) == {c.id for c in blocking}
    for criterion in blocking:
        [result] = results[criterion.id]
        assert result["level"] == ("note" if criterion.status == "unknown" else "error")
        if criterion.status == "unknown":
            assert criterion.reason in result["message"]["text"]


def test_sarif_locations_cite_the_downgraded_evidence(claims, pack):
    """The continue-on-error test job of the anti-gaming repo is where MD-1.1's alert points."""
    log = validate_sarif(render_sarif(claims, pack))
    evidence = {e.id: e for e in claims.evidence}
    located = 0
    for result in log["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        artifact = physical["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not re.search(r"[\s<>\"`{}|\\^]", artifact["uri"]), artifact["uri"]
        assert physical["region"]["startLine"] >= 1
        fingerprints = result["partialFingerprints"]
        assert "primaryLocationLineHash" not in fingerprints  # GitHub's upload action computes that one
        if "mlscanEvidence/v1" in fingerprints:
            cited = evidence[fingerprints["mlscanEvidence/v1"]].citation
            assert artifact["uri"] == cited.path
            assert physical["region"]["startLine"] == cited.start_line
            assert physical["region"]["endLine"] == cited.end_line
            located += 1
        else:
            assert fingerprints == {"mlscanCriterion/v1": result["ruleId"]}
            assert artifact["uri"] == ".mlscan.yaml" and physical["region"]["startLine"] == 1
    assert located, "some blocking criterion must cite a file"
    [md11] = results_by_rule(log)["MD-1.1"]
    uri = md11["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith(".github/workflows/")
    assert "continue-on-error" in md11["message"]["text"] or "downgraded" in md11["message"]["text"]


def test_sarif_targets_and_config_path(churn, pack):
    default = results_by_rule(json.loads(render_sarif(churn, pack)))
    assert not any(rule.startswith("MO-3") for rule in default)  # monitoring is at 1: level 2 is next
    wanted = results_by_rule(json.loads(render_sarif(churn, pack, targets={"monitoring": 3}, config_path="ci/policy.yaml")))
    blocking = {c.id for c in blocking_criteria(churn, {"monitoring": 3})}
    assert set(wanted) == blocking
    assert any(rule.startswith("MO-3") for rule in wanted)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for rs in wanted.values() for r in rs}
    assert "ci/policy.yaml" in uris
    props = json.loads(render_sarif(churn, pack, targets={"monitoring": 3}))["runs"][0]["properties"]
    assert props["dimensions"]["monitoring"] == {"level": 1, "verified_level": 1, "target": 3}


def test_sarif_is_deterministic(churn, pack):
    first = render_sarif(churn, pack)
    assert first == render_sarif(churn.model_copy(deep=True), pack)
    stamps = set(re.findall(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", first))
    assert stamps <= {churn.header.generated_at[:19]}


def test_sarif_waivers_are_suppressions(waived, pack):
    statuses = {c.id: c.status for c in waived.criteria}
    assert statuses["MO-2.1"] == "waived" and statuses["MO-2.3"] == "fail"
    log = validate_sarif(render_sarif(waived, pack))
    results = results_by_rule(log)
    [mo21] = results["MO-2.1"]
    [suppression] = mo21["suppressions"]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert suppression["justification"] == INJECTION
    assert suppression["properties"]["owner"] == "ml-platform@example.com"
    assert mo21["level"] == "note"
    # The expired waiver does not hide MO-2.3: it stays an error, its suppression rejected.
    [mo23] = results["MO-2.3"]
    assert mo23["level"] == "error"
    assert [s["status"] for s in mo23["suppressions"]] == ["rejected"]
    assert "expired" in mo23["suppressions"][0]["justification"]
    unsuppressed = [r for r in log["runs"][0]["results"] if not r.get("suppressions")]
    assert all(r["ruleId"] != "MO-2.1" for r in unsuppressed)


def test_sarif_paths_are_relative_to_the_repository_root(fixture_repo, tmp_path, pack):
    """Scanning a subdirectory still gives repo-root paths: code scanning matches committed files."""
    mono = tmp_path / "mono"
    shutil.copytree(fixture_repo("churn-dvc-gx"), mono / "ml" / "churn", ignore=shutil.ignore_patterns(".git"))
    (mono / "README.md").write_text("# Monorepo\n")
    git(mono, "init", "-q", "-b", "main")
    commit(mono, "Ann Lee <ann@example.com>", "2026-10-01T10:00:00+00:00", "Monorepo")
    card = scan(mono / "ml" / "churn")
    assert card.header.target.subpath == "ml/churn"
    log = validate_sarif(render_sarif(card, pack))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]]
    assert uris and all(u.startswith("ml/churn/") for u in uris)
    assert (mono / uris[0]).exists() or uris[0] == "ml/churn/.mlscan.yaml"


def test_sarif_with_diff_reports_each_regression(regressed, pack):
    assert regressed.failed
    log = validate_sarif(render_sarif(regressed.head_card, pack, diff=regressed))
    regressions = [r for r in log["runs"][0]["results"] if "mlscanRegression/v1" in r["partialFingerprints"]]
    assert len(regressions) == len(regressed.regressions)
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert all(r["ruleId"] in rules for r in regressions)
    by_type: dict[str, list[dict]] = {}
    for result in regressions:
        by_type.setdefault(result["properties"]["regression"], []).append(result)
    assert {r["ruleId"] for r in by_type["level-drop"]} == {"MLSCAN-LEVEL-DROP"}
    assert all(r["level"] == "error" for r in by_type["level-drop"])
    assert {r["ruleId"] for r in by_type["evidence-lost"]} == {"MLSCAN-EVIDENCE-LOST"}
    assert all(r["level"] == "warning" for r in by_type["evidence-lost"])  # not in the default policy
    criteria = {r["ruleId"]: r for r in by_type["criterion-regression"]}
    assert {"MD-1.1", "GV-1.1"} <= set(criteria)
    md11 = criteria["MD-1.1"]["locations"][0]["physicalLocation"]
    head_ci = (regressed.head_card.evidence)
    assert md11["artifactLocation"]["uri"] == ".github/workflows/ci.yml"
    cited = [e.citation for e in head_ci if e.citation and e.citation.path == ".github/workflows/ci.yml"
             and e.citation.start_line == md11["region"]["startLine"]]
    assert cited and cited[0].commit == regressed.head.commit  # the head's lines, where the alert shows
    gv11 = criteria["GV-1.1"]
    assert gv11["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "MODEL_CARD.md"
    assert "base commit" in gv11["message"]["text"]
    # a regression result never shares its identity with the criterion's own blocking result
    prints = [json.dumps(r["partialFingerprints"], sort_keys=True) + r["ruleId"] for r in log["runs"][0]["results"]]
    assert len(prints) == len(set(prints))
    # the waiver justification travels only as data
    [gv22] = results_by_rule(log)["GV-2.2"]
    assert gv22["suppressions"][0]["justification"] == INJECTION


# -- JUnit ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["churn", "claims", "waived"])
def test_junit_one_case_per_criterion(name, request, pack):
    card: Scorecard = request.getfixturevalue(name)
    text = render_junit(card)
    assert text == render_junit(card.model_copy(deep=True))
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [d.id for d in card.dimensions]
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(card.criteria) == len(pack.criteria()) == int(root.get("tests"))
    for suite in suites:
        own = suite.findall("testcase")
        assert int(suite.get("tests")) == len(own)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))
        assert all(c.get("classname") == suite.get("name") for c in own)
    status = {c.id: c for c in card.criteria}
    blocking = {c.id for c in blocking_criteria(card, {})}
    for case in cases:
        cid, _, title = case.get("name").partition(" ")
        criterion = status[cid]
        assert title == criterion.title
        failure, skipped = case.find("failure"), case.find("skipped")
        if criterion.status == "fail" and cid in blocking:
            assert failure is not None and criterion.remediation in failure.text
        else:
            assert failure is None
        if criterion.status == "unknown":
            assert skipped.get("message").startswith("not verifiable: ")
        elif criterion.status == "waived":
            assert skipped.get("message").startswith("waived: ")
        elif criterion.status in ("pass", "unverified"):
            assert skipped is None
        if criterion.status == "unverified":
            assert criterion.reason in case.find("system-out").text


def test_junit_failures_follow_the_targets(churn):
    default = ET.fromstring(render_junit(churn))
    wanted = ET.fromstring(render_junit(churn, {"monitoring": 3}))
    mo = lambda root: {c.get("name").split()[0] for c in root.findall("testsuite[@name='monitoring']/testcase") if c.find("failure") is not None}
    assert mo(default) and all(cid.startswith("MO-2") for cid in mo(default))
    assert mo(wanted) > mo(default) and any(cid.startswith("MO-3") for cid in mo(wanted))
    target = wanted.find("testsuite[@name='monitoring']/properties/property[@name='target']")
    assert target.get("value") == "3"


def test_junit_escapes_hostile_text(claims):
    hostile = "]]> <![CDATA[ & \"quote\" <tag> \x1b[31m\x00 end"
    card = claims.model_copy(deep=True)
    failing = next(c for c in card.criteria if c.id in {b.id for b in blocking_criteria(card, {})} and c.status == "fail")
    failing.reason = hostile
    failing.title = "title <b>&</b>"
    root = ET.fromstring(render_junit(card).encode("utf-8"))
    case = next(c for c in root.iter("testcase") if c.get("name").startswith(failing.id + " "))
    assert case.get("name") == f"{failing.id} title <b>&</b>"
    message = case.find("failure").get("message")
    assert "]]> <![CDATA[ & \"quote\" <tag> [31m end" in message
    assert "\x1b" not in message and "\x00" not in message


# -- diff Markdown ----------------------------------------------------------------------------


def test_diff_markdown_tells_the_story(regressed):
    text = render_diff_markdown(regressed)
    lines = text.splitlines()
    assert len(lines) < 60
    assert lines[0].startswith("### ❌ mlscan: maturity regressed")
    assert "| Governance | 1 → **0** ⬇️ −1 |" in text
    assert "| Data management | 1 → 1 | 1 → 1 |" in text
    assert "**Regressions**" in text
    md11 = next(line for line in lines if "MD\\-1\\.1" in line and "criterion regressed" in line)
    assert f"/blob/{regressed.head.commit}/.github/workflows/ci.yml#L" in md11  # the head's lines
    gv11 = next(line for line in lines if "GV\\-1\\.1" in line and "criterion regressed" in line)
    assert f"/blob/{regressed.base.commit}/MODEL_CARD.md#L1-L" in gv11 and "(base)" in gv11
    assert "**Next level on the head**" in text
    gaps = _section(lines, lines.index("**Next level on the head** (cheapest first)"))
    assert 0 < len(gaps) <= 5
    assert "<details><summary>Evidence: " in text and "</details>" in text
    assert text == render_diff_markdown(regressed.model_copy(deep=True))


def test_diff_markdown_escapes_repository_text(regressed):
    text = render_diff_markdown(regressed)
    assert "Newly self-declared" in text and "GV\\-2\\.2" in text
    _assert_inert(text)
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\)" in text
    assert "@\u200balice" in text  # no mention


def test_diff_markdown_refuses_hostile_paths_and_links(regressed):
    hostile = Citation(path="docs/<img src=x onerror=alert(1)>|[x](javascript:alert(1)).md", start_line=3, end_line=4,
                       url="javascript:alert(1)")
    odd_url = Citation(path="ok.md", start_line=1, end_line=1, url="https://example.com/a) [b](javascript:x) <c>")
    diff = regressed.model_copy(deep=True, update={
        "evidence": [
            EvidenceChange(id="e1", kind="repo.doc", change="lost", strength=Strength.configured, citation=hostile,
                           downgrades=["`|| true` | <script>"]),
            EvidenceChange(id="e2", kind="repo.doc", change="gained", strength=Strength.mention, citation=odd_url),
        ],
        "regressions": [Regression(type="evidence-lost", message=f"lost {hostile.path}", evidence=["e1"], citation=hostile)],
    })
    text = render_diff_markdown(diff)
    _assert_inert(text)
    assert "javascript:alert" not in text.replace("javascript:alert\\(1\\)", "")
    assert not re.search(r"(?<!\\)\(javascript:", text)
    link = re.search(r"\]\((https://example\.com/[^)]*)\)", text)
    assert link and not re.search(r"[\s()\[\]<>]", link.group(1))


def test_diff_markdown_green_when_nothing_regressed(churn):
    text = render_diff_markdown(compare(churn, churn))
    assert text.startswith("### ✅ mlscan: no maturity regression")
    assert "| Model deployment | 1 → 1 | 0 → 0 |" in text
    assert "Regressions" not in text and "<details>" not in text
    assert len(text.splitlines()) < 30


def test_diff_markdown_max_gaps(regressed):
    text = render_diff_markdown(regressed, max_gaps=2)
    start = text.splitlines().index("**Next level on the head** (cheapest first)")
    gaps = _section(text.splitlines(), start)
    assert len(gaps) == 2 and all(g.startswith("- **") for g in gaps)
    failing = {c.id for c in regressed.head_card.criteria if c.status == "fail"}
    assert re.match(r"- \*\*(\S+)\*\*", gaps[0]).group(1).replace("\\", "") in failing  # actionable first
    assert "Next level" not in render_diff_markdown(regressed, max_gaps=0)


def _section(lines: list[str], header: int) -> list[str]:
    """The bullet lines of the section whose header is at ``header`` (up to the blank line)."""
    out = []
    for line in lines[header + 2:]:
        if not line.strip():
            break
        out.append(line)
    return out


def _assert_inert(text: str) -> None:
    """No raw HTML, no Markdown link built from repository text, table rows intact."""
    assert "<img" not in text and "<script" not in text and "<tag" not in text
    assert not re.search(r"(?<!\\)\]\((?!https://)", text), "a link to something other than a permalink"
    for line in text.splitlines():
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 4, line


# -- CLI wiring and CI files --------------------------------------------------------------------


def test_render_saved_diff_in_every_ci_format(regressed, tmp_path):
    saved = tmp_path / "mlscan-diff.json"
    saved.write_text(regressed.to_json(), encoding="utf-8")
    runner = CliRunner()
    md = runner.invoke(main, ["render", str(saved), "--format", "md"], catch_exceptions=False)
    assert md.exit_code == 0 and md.output.startswith("### ❌")
    out = tmp_path / "mlscan.sarif"
    sarif = runner.invoke(main, ["render", str(saved), "--format", "sarif", "-o", str(out)], catch_exceptions=False)
    assert sarif.exit_code == 0
    log = validate_sarif(out.read_text(encoding="utf-8"))
    assert any("mlscanRegression/v1" in r["partialFingerprints"] for r in log["runs"][0]["results"])
    junit = runner.invoke(main, ["render", str(saved), "--format", "junit"], catch_exceptions=False)
    assert ET.fromstring(junit.output.encode("utf-8")).tag == "testsuites"


def test_github_action_is_a_composite_with_the_documented_inputs():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"path", "fail-on", "python-version", "version", "sarif"}
    assert action["inputs"]["fail-on"]["default"] == "level-drop,criterion-regression"
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@v3") for u in uses)
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == "${{ runner.temp }}/mlscan-cache"
    assert action["inputs"]["cache"]["default"] == "true"
    scripts = "\n".join(s.get("run", "") for s in steps)
    assert "mlscan diff --base" in scripts and "--format json" in scripts
    assert 'mlscan render mlscan-diff.json --format md >> "$GITHUB_STEP_SUMMARY"' in scripts
    assert "mlscan scan" in scripts and "--format sarif" in scripts
    assert all(s.get("shell") for s in steps if "run" in s)  # composite run steps need a shell
    # Inputs reach scripts through env, never pasted into the shell text.
    assert "${{ inputs." not in scripts


def test_gitlab_template_and_pre_commit_hook():
    gitlab = yaml.safe_load((ROOT / "ci" / "gitlab" / "mlscan.gitlab-ci.yml").read_text(encoding="utf-8"))
    assert ".mlscan" in gitlab and "mlscan" in gitlab
    job = gitlab["mlscan"]
    assert job["extends"] == ".mlscan"
    assert gitlab[".mlscan"]["image"].startswith("python:3.11-slim")
    reports = gitlab[".mlscan"]["artifacts"]["reports"]
    assert "junit" in reports
    script = "\n".join(gitlab[".mlscan"]["script"])
    assert "CI_MERGE_REQUEST_DIFF_BASE_SHA" in script and "mlscan diff" in script and "mlscan scan" in script
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = hooks
    assert hook["id"] == "mlscan-diff" and hook["language"] == "python"
    assert hook["entry"] == "mlscan diff --base @{upstream} --quiet"
    assert hook["pass_filenames"] is False and hook["always_run"] is True
    assert hook["stages"] == ["pre-push"]


def test_example_workflow_uses_full_history_and_security_events():
    workflow = yaml.safe_load((ROOT / "examples" / "github-workflow.yml").read_text(encoding="utf-8"))
    job = next(iter(workflow["jobs"].values()))
    permissions = {**workflow.get("permissions", {}), **job.get("permissions", {})}
    assert permissions.get("security-events") == "write"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@v4"))
    assert checkout["with"]["fetch-depth"] == 0
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in triggers and "push" in triggers
