"""Unit checks of the mlflow probe's parsers, plus small trees for cases the fixtures do not show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from probes.mlflow import PROBE, _Resolver, classify_uri, parse_model_uri
from scanner.models import Evidence
from scanner.runner import run_probes
from scanner.snapshot import WorkTree
from tests.gitrepo import build_repo


@pytest.mark.parametrize(
    "uri, name, selector, value",
    [
        ("models:/churn@champion", "churn", "alias", "champion"),
        ("models:/churn/Production", "churn", "stage", "Production"),
        ("models:/churn/staging", "churn", "stage", "staging"),
        ("models:/churn/3", "churn", "version", "3"),
        ("models:/churn/latest", "churn", "latest", "latest"),
        ("models:/main.fraud.detector@prod", "main.fraud.detector", "alias", "prod"),
        ("models:/churn", "churn", None, None),
        ("models:/", None, None, None),  # the literal head of f"models:/{name}@{alias}"
    ],
)
def test_parse_model_uri(uri: str, name: str | None, selector: str | None, value: str | None) -> None:
    parsed = parse_model_uri(uri)
    assert parsed is not None
    assert (parsed.model_name, parsed.selector, parsed.selector_value) == (name, selector, value)


def test_parse_model_uri_ignores_other_schemes() -> None:
    assert parse_model_uri("runs:/abc123/model") is None


@pytest.mark.parametrize(
    "value, source, system, scheme, shared, host, reference",
    [
        ("https://user:s3cret@mlflow.example.com:8443/", "code", "", "https", True, "mlflow.example.com:8443", None),
        ("databricks", "ci_env", "github_actions", "databricks", True, None, None),
        ("databricks://prod-profile", "config", "", "databricks", True, None, None),
        ("azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/x", "config", "", "azureml", True,
         "eastus.api.azureml.ms", None),
        ("postgresql+psycopg2://mlflow:pw@db.internal:5432/mlflow", "config", "", "postgresql", True,
         "db.internal:5432", None),
        ("mysql://mlflow@mysql.internal/mlflow", "config", "", "mysql", True, "mysql.internal", None),
        ("sqlite:///mlflow.db", "code", "", "sqlite", False, None, None),
        ("file:///tmp/mlruns", "code", "", "file", False, None, None),
        ("./mlruns", "env_file", "", "file", False, None, None),
        ("${{ secrets.MLFLOW_TRACKING_URI }}", "ci_env", "github_actions", "other", True, None, "secret"),
        ("${{ vars.MLFLOW_URI }}", "ci_env", "github_actions", "other", True, None, "secret"),
        ("${{ env.MLFLOW_URI }}", "ci_env", "github_actions", "other", False, None, "env"),
        ("$MLFLOW_SERVER_URL", "ci_env", "gitlab_ci", "other", True, None, "ci_variable"),
        ("$MLFLOW_SERVER_URL", "ci_env", "github_actions", "other", False, None, "env"),
        ("${oc.env:MLFLOW_TRACKING_URI}", "config", "", "other", False, None, "env"),
        ("http://127.0.0.1:5000", "env_file", "", "http", False, "127.0.0.1:5000", None),
    ],
)
def test_classify_uri(value, source, system, scheme, shared, host, reference) -> None:
    uri = classify_uri(value, source, ci_system=system)
    assert uri is not None
    assert (uri.scheme, uri.shared, uri.host, uri.reference) == (scheme, shared, host, reference)
    assert "s3cret" not in uri.model_dump_json() and "pw@" not in uri.model_dump_json()


def test_classify_uri_empty() -> None:
    assert classify_uri("  ", "env_file") is None


@pytest.fixture
def resolver() -> _Resolver:
    modules = ["src/churn/__init__.py", "src/churn/train.py", "scripts/train.py", "pipelines/run/__main__.py"]
    return _Resolver(modules, ["notebooks/report.ipynb"])


@pytest.mark.parametrize(
    "command, base, expected",
    [
        ("python -m churn.train --epochs 3", "", {"src/churn/train.py"}),
        ("uv run python -u -m churn.train", "", {"src/churn/train.py"}),
        ("cd scripts && python3 train.py", "", {"scripts/train.py"}),
        ("python train.py", "scripts", {"scripts/train.py"}),
        ("python3.11 -m pipelines.run", "", {"pipelines/run/__main__.py"}),
        ("papermill notebooks/report.ipynb out/report.ipynb -p alpha 0.1", "", {"notebooks/report.ipynb"}),
        ("python -m pytest tests/test_train.py", "", set()),
        ("python -m http.server", "", set()),
        ("echo 'unbalanced", "", set()),
    ],
)
def test_resolver(resolver: _Resolver, command: str, base: str, expected: set[str]) -> None:
    assert resolver.targets(command, base) == expected


# -- small trees ----------------------------------------------------------------------------------


def _scan(tmp_path: Path, files: dict[str, str]) -> list[Evidence]:
    src = tmp_path / "src"
    for rel, text in files.items():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    repo = build_repo(src, tmp_path / "repo")
    with WorkTree(repo) as snapshot:
        result = run_probes(snapshot, [PROBE])
    assert not [p for p in result.problems if p.scope == "probe"], result.problems
    return result.evidence


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                 "source": [line + "\n" for line in cell.split("\n")]}
                for cell in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def test_notebook_run_by_papermill_stage_is_configured(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            "dvc.yaml": "stages:\n  report:\n    cmd: papermill notebooks/train.ipynb out/train.ipynb\n",
            "notebooks/train.ipynb": _notebook("import mlflow", "with mlflow.start_run():\n    mlflow.log_metric('a', 1)"),
        },
    )
    (item,) = [e for e in evidence if e.kind == "mlflow.tracking"]
    assert item.strength.value == "configured"
    assert item.attributes["file_kind"] == "notebook" and item.attributes["reached_via"] == ["dvc"]


def test_client_calls_need_a_client_and_skip_other_trackers(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            "track.py": (
                "import comet_ml\n"
                "from mlflow.tracking import MlflowClient\n"
                "\n"
                "client = MlflowClient()\n"
                "experiment = comet_ml.Experiment()\n"
                "comet_ml.log_metric('x', 1)\n"
                "client.log_metric('run-id', 'auc', 0.91)\n"
                "\n"
                "if __name__ == '__main__':\n"
                "    pass\n"
            ),
            "other.py": "import comet_ml\n\nexperiment = comet_ml.Experiment()\nexperiment.log_metric('x', 1)\n",
        },
    )
    tracking = [e for e in evidence if e.kind == "mlflow.tracking"]
    assert [e.citation.path for e in tracking] == ["track.py"]
    assert tracking[0].attributes["calls"] == 1
    assert (tracking[0].citation.start_line, tracking[0].citation.end_line) == (7, 7)


def test_sibling_script_import_reaches_helper(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            "jobs/helpers.py": "import mlflow\n\n\ndef record(m):\n    mlflow.log_metrics(m)\n",
            "jobs/run.py": "from helpers import record\n\nif __name__ == '__main__':\n    record({'a': 1.0})\n",
            "other/run.py": "import helpers\n\nif __name__ == '__main__':\n    helpers.record({})\n",
            "other/helpers.py": "import mlflow\n\n\ndef record(m):\n    mlflow.log_metrics(m)\n",
            "lonely/helpers.py": "import mlflow\n\n\ndef record(m):\n    mlflow.log_metrics(m)\n",
        },
    )
    by_path = {e.citation.path: e for e in evidence if e.kind == "mlflow.tracking"}
    assert by_path["jobs/helpers.py"].strength.value == "configured"
    assert by_path["other/helpers.py"].strength.value == "configured"
    assert by_path["lonely/helpers.py"].strength.value == "mention"


def test_committed_dotenv_comment_and_quotes(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            ".env.sample": (
                "# MLFLOW_TRACKING_URI=file:./mlruns\n"
                "export MLFLOW_TRACKING_URI=\"https://mlflow.example.org\"  # team server\n"
            ),
        },
    )
    (item,) = [e for e in evidence if e.kind == "mlflow.tracking_uri"]
    assert item.citation.start_line == 2
    assert item.attributes["host"] == "mlflow.example.org" and item.strength.value == "configured"


def test_mlflow_run_in_ci_reaches_the_entry_point_script(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            "project/MLproject": (
                "name: demand\n"
                "entry_points:\n"
                "  main:\n"
                "    command: python jobs/main.py\n"
                "  train:\n"
                "    parameters:\n"
                "      epochs: {type: int, default: 5}\n"
                "    command: python jobs/train.py --epochs {epochs}\n"
            ),
            "project/jobs/train.py": "import mlflow\n\nmlflow.autolog()\nmlflow.log_param('epochs', 5)\n",
            "project/jobs/main.py": "import mlflow\n\nmlflow.log_param('x', 1)\n",
            ".github/workflows/train.yml": (
                "on: [push]\n"
                "jobs:\n"
                "  train:\n"
                "    runs-on: ubuntu-latest\n"
                "    steps:\n"
                "      - uses: actions/checkout@v4\n"
                "      - run: mlflow run project -e train -P epochs=20 --env-manager local\n"
            ),
        },
    )
    by_path = {e.citation.path: e for e in evidence if e.kind == "mlflow.tracking"}
    assert by_path["project/jobs/train.py"].attributes["reached_via"] == ["ci", "mlproject"]
    assert by_path["project/jobs/main.py"].attributes["reached_via"] == ["mlproject"]


def test_uri_assigned_then_set_dynamically(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            "pkg/config.py": (
                "import os\n"
                "from pathlib import Path\n"
                "\n"
                "import mlflow\n"
                "\n"
                "STORE = Path('efs/mlflow')\n"
                "MLFLOW_TRACKING_URI = 'file://' + str(STORE.absolute())\n"
                "mlflow.set_tracking_uri(MLFLOW_TRACKING_URI)\n"
            ),
            "pkg/remote.py": (
                "import os\n"
                "\n"
                "os.environ.setdefault('MLFLOW_TRACKING_URI', 'https://mlflow.example.net')\n"
            ),
        },
    )
    uris = {e.citation.path: e for e in evidence if e.kind == "mlflow.tracking_uri"}
    assert uris["pkg/config.py"].citation.start_line == 7
    assert uris["pkg/config.py"].attributes["scheme"] == "file" and uris["pkg/config.py"].strength.value == "mention"
    assert uris["pkg/remote.py"].attributes["host"] == "mlflow.example.net"
    assert uris["pkg/remote.py"].strength.value == "configured"


def test_framework_logger_counts_as_tracking(tmp_path: Path) -> None:
    evidence = _scan(
        tmp_path,
        {
            "train.py": (
                "from lightning.pytorch import Trainer\n"
                "from lightning.pytorch.loggers import MLFlowLogger\n"
                "\n"
                "\n"
                "def main():\n"
                "    logger = MLFlowLogger(experiment_name='seg', tracking_uri='databricks')\n"
                "    Trainer(logger=logger).fit(model)\n"
                "\n"
                "\n"
                "if __name__ == '__main__':\n"
                "    main()\n"
            ),
        },
    )
    (item,) = [e for e in evidence if e.kind == "mlflow.tracking"]
    assert item.attributes["integrations"] == ["lightning"]
    assert item.attributes["logs_params"] and item.attributes["logs_metrics"]
    assert item.strength.value == "configured"
    (uri,) = [e for e in evidence if e.kind == "mlflow.tracking_uri"]
    assert uri.attributes["scheme"] == "databricks" and uri.citation.start_line == 6
