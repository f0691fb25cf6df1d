"""Unit tests for the serving, ops and model_card probes: the parsing helpers and the edge
cases that a fixture tree would make noisy (one file each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes import model_card, ops, serving
from scanner.facts import Facts
from scanner.facts.ci import CIModel, Job, Pipeline, Step
from scanner.models import Evidence
from scanner.probe import Probe
from scanner.runner import run_probes
from scanner.snapshot import WorkTree
from tests.gitrepo import build_repo


def scan(tmp_path: Path, probe: Probe, files: dict[str, str], ci: CIModel | None = None) -> list[Evidence]:
    """Run one probe over a repository made of ``files`` (optionally with a given CI model)."""
    src = tmp_path / "src"
    for rel, text in files.items():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    repo = build_repo(src, tmp_path / "repo")
    with WorkTree(repo) as snapshot:
        facts = Facts(snapshot, python_tokens=probe.python_tokens)
        if ci is not None:
            facts._ci = ci  # stands in for the parsed CI model
        result = run_probes(snapshot, [probe], facts)
    assert not [p for p in result.problems if p.scope == "probe"], result.problems
    return result.evidence


def of_kind(evidence: list[Evidence], kind: str) -> list[Evidence]:
    return [e for e in evidence if e.kind == kind]


# -- model_card: what counts as real text ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[More Information Needed]",
        "More information needed",
        "<!-- Provide a longer summary of what this model is. -->\n\n[More Information Needed]",
        "- **Developed by:** [More Information Needed]\n- **Model type:** [More Information Needed]",
        "TODO: describe the training data",
        "TBD",
        "<describe the evaluation dataset here>",
        "{{ model_description | default('', true) }}",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
        "- Primary intended uses\n- Primary intended users\n- Out-of-scope use cases",
        "[Describe the intended use of the model]",
        "- [Model details](#model-details)\n- [Intended use](#intended-use)",
    ],
)
def test_template_text_is_not_content(text: str) -> None:
    assert not model_card.real_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Scores active subscribers daily for their probability of cancelling within 60 days.",
        "| Slice | AUC |\n|---|---|\n| all | 0.87 |\n| annual | 0.81 |",
        "- Primary intended uses: ranking support tickets by urgency for the triage team",
        "See the [datasheet](data/DATASHEET.md) for how the training sample was drawn.",
    ],
)
def test_real_text_is_content(text: str) -> None:
    assert model_card.real_text(text)


def test_card_with_half_the_sections_is_configured(tmp_path: Path) -> None:
    card = "\n\n".join(
        [
            "# Model card",
            "## Model details\n\nXGBoost classifier owned by the pricing team, version 2.1.",
            "## Intended use\n\nNightly price-elasticity estimates for the merchandising team.",
            "## Metrics\n\nMean absolute percentage error against next-week sales.",
            "## Training data\n\nTwo years of weekly sales per store and product line.",
            "## Evaluation data\n\nThe most recent eight weeks, held out by time.",
            "## Ethical considerations\n\n[More Information Needed]",
            "## Caveats and recommendations\n\nTODO",
        ]
    )
    evidence = scan(tmp_path, model_card.PROBE, {"model_card.md": card + "\n"})
    (item,) = of_kind(evidence, "governance.model_card")
    assert item.attributes["sections_with_content"] == 5
    assert item.attributes["completeness"] == 0.56
    assert item.strength.value == "configured"
    assert item.attributes["sections_present"] == [
        "caveats_recommendations", "ethical_considerations", "evaluation_data", "intended_use", "metrics",
        "model_details", "training_data",
    ]


def test_sparse_real_card_is_incomplete_not_template(tmp_path: Path) -> None:
    card = "# Card\n\n## Intended use\n\nShelf-gap detection on store camera images, for store staff.\n"
    evidence = scan(tmp_path, model_card.PROBE, {"MODEL_CARD.md": card})
    (item,) = of_kind(evidence, "governance.model_card")
    assert item.attributes["template_only"] is False
    assert item.strength.value == "mention"
    assert item.downgrades == ["model card covers only 1 of 9 sections with real text"]


def test_policy_linked_from_card_by_file_name(tmp_path: Path) -> None:
    files = {
        "MODEL_CARD.md": "# Card\n\n## Ethical considerations\n\nReviewed under our DPIA, see dpia.md for details.\n",
        "docs/dpia.md": "# DPIA\n\nData protection impact assessment under GDPR article 35.\n",
    }
    evidence = scan(tmp_path, model_card.PROBE, files)
    (item,) = of_kind(evidence, "governance.policy_doc")
    assert item.attributes == {"path": "docs/dpia.md", "topics": ["dpia", "gdpr"], "linked_from_card": True}
    assert item.strength.value == "configured"


def test_yaml_data_dictionary_counts_columns(tmp_path: Path) -> None:
    text = "columns:\n  store_id: {type: int, description: Store}\n  units: {type: int, description: Units sold}\n"
    evidence = scan(tmp_path, model_card.PROBE, {"data/data_dictionary.yaml": text})
    (item,) = of_kind(evidence, "governance.data_doc")
    assert item.attributes == {"path": "data/data_dictionary.yaml", "kind": "data_dictionary", "entries": 2}


# -- serving ---------------------------------------------------------------------------------


def test_hcl_comments_are_blanked_but_strings_kept() -> None:
    text = 'resource "a" "b" {\n  url = "http://x/#frag" # trailing\n  // gone\n}\n/* resource "c" "d" {} */\n'
    stripped = serving.strip_hcl_comments(text)
    assert '"http://x/#frag"' in stripped
    assert "trailing" not in stripped and "gone" not in stripped and '"c"' not in stripped
    assert stripped.count("\n") == text.count("\n")


def test_dockerfile_continuations_comments_and_heredocs() -> None:
    lines = [
        "FROM python:3.12-slim AS base",
        "RUN <<EOF",
        "CMD this is inside the heredoc",
        "EOF",
        "CMD [\"gunicorn\", \\",
        "  # a comment inside the continuation",
        "  \"app:app\"]",
    ]
    instrs = serving.parse_dockerfile(lines)
    assert [(i.keyword, i.start, i.end) for i in instrs] == [("FROM", 1, 1), ("RUN", 2, 4), ("CMD", 5, 7)]
    assert instrs[-1].args == '["gunicorn", "app:app"]'


def test_final_stage_from_an_earlier_stage_inherits_its_command(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.11 AS serve\nCMD [\"uvicorn\", \"api:app\"]\n\n"
        "FROM serve AS prod\nENV WORKERS=4\n"
    )
    (item,) = of_kind(scan(tmp_path, serving.PROBE, {"Dockerfile": dockerfile}), "serving.container")
    assert item.attributes == {"base_image": "python:3.11", "exposes": False, "serves_model": True}
    assert (item.citation.start_line, item.citation.end_line) == (4, 5)


def test_standalone_overlay_and_bicep_environments(tmp_path: Path) -> None:
    files = {
        "deploy/overlays/prod/kustomization.yaml": "resources:\n  - github.com/acme/base//serving?ref=v1\n",
        "infra/main.bicep": "resource ws 'Microsoft.MachineLearningServices/workspaces@2024-04-01' = {\n  name: 'x'\n}\n",
        "infra/main.dev.bicepparam": "using './main.bicep'\n",
        "infra/main.prod.bicepparam": "using './main.bicep'\n",
    }
    evidence = of_kind(scan(tmp_path, serving.PROBE, files), "serving.iac")
    by_tool = {e.attributes["tool"]: e.attributes for e in evidence}
    assert by_tool["kustomize"]["environments"] == ["prod"]
    assert by_tool["bicep"]["environments"] == ["dev", "prod"]
    assert by_tool["bicep"]["resources"] == ["Microsoft.MachineLearningServices/workspaces"]


def test_knative_and_seldon_traffic(tmp_path: Path) -> None:
    knative = (
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: scorer\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - image: scorer:2\n"
        "  traffic:\n    - revisionName: scorer-00001\n      percent: 90\n    - latestRevision: true\n      percent: 10\n"
    )
    seldon = (
        "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata:\n  name: iris\nspec:\n"
        "  predictors:\n    - name: main\n      traffic: 75\n    - name: candidate\n      traffic: 25\n"
    )
    evidence = of_kind(scan(tmp_path, serving.PROBE, {"k/knative.yaml": knative, "k/seldon.yaml": seldon}),
                       "serving.progressive")
    found = {(e.attributes["mechanism"], e.attributes["traffic_percent"]) for e in evidence}
    assert found == {("knative_traffic", 10), ("seldon_traffic", 25)}


def test_argo_template_without_condition_is_not_enforced(tmp_path: Path) -> None:
    docs = (
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: smoke\nspec:\n"
        "  metrics:\n    - name: rate\n      provider:\n        prometheus:\n          query: up\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: api\nspec:\n  strategy:\n"
        "    blueGreen:\n      activeService: api\n      prePromotionAnalysis:\n        templates:\n"
        "          - templateName: smoke\n"
    )
    evidence = scan(tmp_path, serving.PROBE, {"rollout.yaml": docs})
    (rollback,) = of_kind(evidence, "serving.auto_rollback")
    assert rollback.strength.value == "configured"
    assert rollback.downgrades == ["analysis template smoke has no successCondition/failureCondition"]
    (progressive,) = of_kind(evidence, "serving.progressive")
    assert progressive.attributes["mechanism"] == "argo_rollouts_bluegreen"


# -- ops -------------------------------------------------------------------------------------


def test_dependabot_that_opens_no_pull_requests_is_downgraded(tmp_path: Path) -> None:
    text = (
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule: {interval: daily}\n"
        "    open-pull-requests-limit: 0\n"
    )
    (item,) = of_kind(scan(tmp_path, ops.PROBE, {".github/dependabot.yml": text}), "ops.dependency_updates")
    assert item.strength.value == "mention"
    assert item.downgrades == ["open-pull-requests-limit: 0 disables version update pull requests"]


def test_renovate_disabled_and_enabled_managers(tmp_path: Path) -> None:
    files = {"renovate.json": '{"enabled": false, "enabledManagers": ["pip_requirements", "dockerfile"]}\n'}
    (item,) = of_kind(scan(tmp_path, ops.PROBE, files), "ops.dependency_updates")
    assert item.attributes["ecosystems"] == ["dockerfile", "pip_requirements"]
    assert item.downgrades == ["renovate is disabled (enabled: false)"]


def test_failure_notification_from_a_job_condition_in_the_ci_model(tmp_path: Path) -> None:
    """When the CI model carries a job-level condition, it is used as is (no YAML lookup)."""
    job = Job(id="notify", name="notify", path="Jenkinsfile", start_line=1, end_line=3,
              steps=[Step(name="mail", start_line=2, end_line=3, run="sendmail -t < failure.txt")])
    job.condition = "failure()"  # type: ignore[attr-defined]
    disabled = Job(id="notify-old", name="notify-old", path="Jenkinsfile", start_line=4, end_line=6,
                   disabled="`if: false`",
                   steps=[Step(name="slack", start_line=5, end_line=6, uses="slackapi/slack-github-action@v1",
                               condition="failure()")])
    model = CIModel(pipelines=[Pipeline(system="jenkins", path="Jenkinsfile", name="ci", start_line=1, end_line=6,
                                        jobs=[job, disabled])])
    files = {"Jenkinsfile": "pipeline {\n  // notify\n  // on failure\n  // old\n  // slack\n  // end\n}\n"}
    evidence = of_kind(scan(tmp_path, ops.PROBE, files, ci=model), "ops.failure_notification")
    by_job = {e.attributes["job"]: e for e in evidence}
    assert by_job["notify"].attributes["channel"] == "email"
    assert by_job["notify"].strength.value == "configured"
    assert by_job["notify-old"].strength.value == "mention"
    assert by_job["notify-old"].downgrades == ["never runs: `if: false`"]


def test_statsd_and_tests_are_separated(tmp_path: Path) -> None:
    files = {
        "svc/metrics.py": "import statsd\n\nclient = statsd.StatsClient('localhost', 8125)\nclient.incr('scores_served')\n",
        "tests/test_metrics.py": "from prometheus_client import Counter\nC = Counter('test_only_total', 'x')\n",
    }
    evidence = of_kind(scan(tmp_path, ops.PROBE, files), "ops.metrics_instrumentation")
    assert [(e.citation.path, e.attributes["library"], e.attributes["metrics"]) for e in evidence] == [
        ("svc/metrics.py", "statsd", ["scores_served"])
    ]


def test_helm_chart_at_the_root_with_values_directories(tmp_path: Path) -> None:
    files = {
        "Chart.yaml": "apiVersion: v2\nname: scorer\nversion: 0.1.0\n",
        "values.yaml": "replicaCount: 1\n",
        "values/qa.yaml": "replicaCount: 1\n",
        "environments/prod/values.yaml": "replicaCount: 3\n",
        "other/values-ignored.yaml": "x: 1\n",
    }
    (item,) = of_kind(scan(tmp_path, serving.PROBE, files), "serving.iac")
    assert item.attributes["environments"] == ["prod", "qa"]
    assert item.attributes["environment_count"] == 2
    assert item.attributes["path"] == "."


@pytest.mark.parametrize(
    ("condition", "expected"),
    [("failure()", True), ("${{ failure() }}", True), ("always() && failure()", True), ("on_failure", True),
     ("${{ !failure() }}", False), ("success()", False), ("", False), ("on_success", False)],
)
def test_on_failure_conditions(condition: str, expected: bool) -> None:
    assert ops._on_failure(condition) is expected
