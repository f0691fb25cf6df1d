"""The GitHub Actions and GitLab CI parsers, on small inline configurations.

Each test writes a few files into a temporary directory (not a git repository, so the work tree
is walked), builds the facts and looks at the normalised CI model.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Optional

import pytest

from scanner.facts import Facts
from scanner.facts.ci import CIModel, Job, Pipeline, eval_condition, shell_non_blocking
from scanner.snapshot import WorkTree


def model_of(tmp_path: Path, files: dict[str, str]) -> tuple[CIModel, Facts]:
    for rel, text in files.items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
    facts = Facts(WorkTree(tmp_path))
    return facts.ci, facts


def pipeline(model: CIModel, path: str) -> Pipeline:
    return next(p for p in model.pipelines if p.path == path)


def job(p: Pipeline, job_id: str) -> Job:
    return next(j for j in p.jobs if j.id == job_id)


def types(obj) -> list[str]:
    triggers = obj.triggers if not isinstance(obj, tuple) else obj
    return sorted({t.type for t in triggers})


WF = ".github/workflows/ci.yml"


# -- GitHub Actions: triggers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "on, expected",
    [
        ("on: push", ["push"]),
        ("on: [push, pull_request]", ["pull_request", "push"]),
        ('"on": workflow_dispatch', ["manual"]),
        ("true: release", ["release"]),  # `on` and `true` load alike: both are the key True
        ("on:\n  push:\n    tags: ['v*']", ["tag"]),
        ("on:\n  push:\n    branches: [main]\n    tags: ['v*']", ["push", "tag"]),
        ("on:\n  pull_request_target:\n  merge_group:", ["pull_request"]),
        ("on:\n  repository_dispatch:\n  workflow_run:\n    workflows: [CI]", ["dispatch"]),
        ("on:\n  workflow_call:", ["dispatch"]),
    ],
)
def test_github_trigger_forms(tmp_path: Path, on: str, expected: list[str]) -> None:
    model, _ = model_of(tmp_path, {WF: on + "\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"})
    assert types(pipeline(model, WF)) == expected


def test_github_schedule_crons_branches_paths_and_lines(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {WF: """
        name: Train
        on:
          push:
            branches: [main]
            paths: ["data/**", "dvc.lock"]
          schedule:
            - cron: "0 2 * * *"
            - cron: "30 4 * * 0"
        jobs:
          train:
            runs-on: ubuntu-latest
            steps:
              - run: dvc repro
        """})
    p = pipeline(model, WF)
    assert p.name == "Train"
    push = next(t for t in p.triggers if t.type == "push")
    assert push.branches == ("main",) and push.paths == ("data/**", "dvc.lock") and push.line == 3
    crons = [(t.cron, t.line) for t in p.triggers if t.type == "schedule"]
    assert crons == [("0 2 * * *", 7), ("30 4 * * 0", 8)]
    assert (p.start_line, p.end_line) == (1, 13)


def test_github_job_and_step_spans(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {WF: """
        on: [push]
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - name: Unit tests
                run: |
                  pip install -e .
                  pytest tests/
          lint:
            runs-on: ubuntu-latest
            steps:
              - run: ruff check .
        """})
    p = pipeline(model, WF)
    test = job(p, "test")
    assert (test.start_line, test.end_line) == (3, 10)
    assert [(s.name, s.start_line, s.end_line) for s in test.steps] == [
        ("actions/checkout@v4", 6, 6), ("Unit tests", 7, 10)]
    assert test.steps[1].commands() == ["pip install -e .", "pytest tests/"]
    assert test.steps[1].where(test) == WF
    lint = job(p, "lint")
    assert (lint.start_line, lint.end_line) == (11, 14)


def test_github_disabled_and_narrowed_jobs(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {WF: """
        on:
          push:
          pull_request:
          workflow_dispatch:
        jobs:
          off:
            if: false
            runs-on: ubuntu-latest
            steps: [{run: pytest}]
          expr:
            if: ${{ false }}
            runs-on: ubuntu-latest
            steps: [{run: pytest}]
          manual:
            if: github.event_name == 'workflow_dispatch'
            runs-on: ubuntu-latest
            steps: [{run: make train}]
          main_only:
            if: github.event_name == 'push' && github.ref == 'refs/heads/main'
            runs-on: ubuntu-latest
            steps: [{run: helm upgrade --install app chart}]
          not_pr:
            if: ${{ github.event_name != 'pull_request' && !cancelled() }}
            runs-on: ubuntu-latest
            steps: [{run: echo}]
          never:
            if: github.event_name == 'schedule'
            runs-on: ubuntu-latest
            steps: [{run: echo}]
        """})
    p = pipeline(model, WF)
    assert job(p, "off").disabled == "`if: false`"  # YAML 1.1 read `off:` as False; the id survives
    assert job(p, "expr").disabled == "`if: false`"
    assert types(job(p, "manual")) == ["manual"] and job(p, "manual").disabled is None
    assert types(job(p, "main_only")) == ["push"]
    assert types(job(p, "not_pr")) == ["manual", "push"]
    assert "matches none" in (job(p, "never").disabled or "")


def test_github_non_blocking(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {WF: """
        on: [pull_request]
        jobs:
          flaky:
            runs-on: ubuntu-latest
            continue-on-error: true
            steps: [{run: pytest}]
          matrix:
            runs-on: ubuntu-latest
            continue-on-error: ${{ matrix.experimental }}
            steps:
              - run: pytest
                continue-on-error: true
              - run: |
                  pip install great_expectations || true
                  pytest tests/
              - run: pytest tests/ || true
              - run: |
                  set +e
                  python validate_data.py
                  echo done
        """})
    p = pipeline(model, WF)
    assert job(p, "flaky").non_blocking == "`continue-on-error: true`"
    matrix = job(p, "matrix")
    assert matrix.non_blocking is None  # an expression spares only some matrix entries
    coe, mixed, swallowed, set_e = matrix.steps
    assert coe.non_blocking == "`continue-on-error: true`"
    assert mixed.non_blocking is None  # `|| true` on the install does not excuse pytest
    assert mixed.command_non_blocking("pytest tests/") is None
    assert "|| true" in (mixed.command_non_blocking("pip install great_expectations || true") or "")
    assert swallowed.non_blocking == "`|| true` swallows failures"
    assert "set +e" in (set_e.command_non_blocking("python validate_data.py") or "")


def test_github_environment_needs_and_step_if(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {WF: """
        on: [push, workflow_dispatch]
        jobs:
          build:
            runs-on: ubuntu-latest
            steps: [{run: make build}]
          deploy:
            needs: build
            runs-on: ubuntu-latest
            environment:
              name: production
              url: https://example.com
            steps:
              - run: kubectl apply -f k8s/
                if: github.event_name == 'workflow_dispatch'
              - run: echo skipped
                if: false
          staging:
            needs: [build, deploy]
            runs-on: ubuntu-latest
            environment: staging
            steps: [{run: echo}]
        """})
    p = pipeline(model, WF)
    deploy = job(p, "deploy")
    assert deploy.environment == "production" and deploy.needs == ("build",)
    assert types(deploy.steps[0].triggers) == ["manual"]
    assert deploy.steps[1].disabled == "`if: false`"
    assert job(p, "staging").environment == "staging"
    assert job(p, "staging").needs == ("build", "deploy")


def test_github_reusable_workflows(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        ".github/workflows/nightly.yml": """
            on:
              schedule:
                - cron: "0 1 * * *"
            jobs:
              call-train:
                uses: ./.github/workflows/train.yml
                with: {epochs: 3}
              shared:
                uses: org/shared/.github/workflows/deploy.yml@v1
            """,
        ".github/workflows/train.yml": """
            on:
              workflow_call:
                inputs:
                  epochs: {type: number}
            jobs:
              train:
                runs-on: ubuntu-latest
                steps:
                  - run: python src/train.py
            """,
    })
    nightly = pipeline(model, ".github/workflows/nightly.yml")
    called = job(nightly, "call-train/train")
    assert called.path == ".github/workflows/train.yml" and (called.start_line, called.end_line) == (6, 9)
    assert types(called) == ["schedule"] and called.triggers[0].cron == "0 1 * * *"
    assert called.steps[0].where(called) == ".github/workflows/train.yml"
    shared = job(nightly, "shared")
    assert shared.steps[0].uses == "org/shared/.github/workflows/deploy.yml@v1"
    assert [ref for ref, _ in nightly.unfollowed] == ["org/shared/.github/workflows/deploy.yml@v1"]
    # called only from inside the repository: workflow_call is not a trigger of its own
    assert types(pipeline(model, ".github/workflows/train.yml")) == []


def test_github_reusable_workflow_inputs(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        ".github/workflows/ci.yml": """
            on: [pull_request]
            jobs:
              training-tests:
                uses: ./.github/workflows/_py.yml
                with:
                  working-directory: pipelines/training
                  run: pytest -q
              scoring-tests:
                uses: ./.github/workflows/_py.yml
                with:
                  working-directory: services/scoring
                  run: pytest -q tests/unit
            """,
        ".github/workflows/_py.yml": """
            on:
              workflow_call:
                inputs:
                  working-directory: {type: string, required: true}
                  run: {type: string, required: true}
                  environment: {type: string, default: ci}
            jobs:
              run:
                runs-on: ubuntu-latest
                environment: ${{ inputs.environment }}
                defaults:
                  run:
                    working-directory: ${{ inputs.working-directory }}
                steps:
                  - run: pip install -e .
                  - run: ${{ inputs.run }}
            """,
    })
    ci = pipeline(model, ".github/workflows/ci.yml")
    training, scoring = job(ci, "training-tests/run"), job(ci, "scoring-tests/run")
    assert training.environment == "ci"  # the declared default
    install, run = training.steps
    assert (install.workdir, install.path, install.start_line) == ("pipelines/training", ".github/workflows/_py.yml", 15)
    assert run.run == "pytest -q" and run.workdir == "pipelines/training"
    # the command is written in the caller's `with:`, so that is where the step is cited
    assert (run.path, run.start_line, run.end_line) == (".github/workflows/ci.yml", 7, 7)
    assert scoring.steps[1].run == "pytest -q tests/unit" and scoring.steps[1].start_line == 12


def test_github_recursive_reusable_workflow_is_bounded(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {".github/workflows/a.yml": """
        on: [push, workflow_call]
        jobs:
          again:
            uses: ./.github/workflows/a.yml
        """})
    p = pipeline(model, ".github/workflows/a.yml")
    assert p.unfollowed and "recursive" in p.unfollowed[0][1]


def test_github_malformed_and_empty(tmp_path: Path) -> None:
    model, facts = model_of(tmp_path, {
        ".github/workflows/bad.yml": "on: [push\njobs:\n  a: {}\n",
        ".github/workflows/commented.yml": "# on: push\n# jobs:\n#   test:\n#     steps:\n#       - run: pytest\n",
    })
    assert "malformed YAML" in model.unreadable[".github/workflows/bad.yml"]
    assert pipeline(model, ".github/workflows/commented.yml").jobs == []
    assert ".github/workflows/bad.yml" in facts.problems


# -- GitLab CI -------------------------------------------------------------------------------


GL = ".gitlab-ci.yml"


def test_gitlab_include_extends_anchors_and_spans(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        GL: """
            include:
              - local: ci/templates.yml
              - ci/more.yml
              - remote: https://example.com/ci.yml
              - template: Security/SAST.gitlab-ci.yml
            stages: [test, train]
            variables:
              PIP_CACHE_DIR: .cache
            .defaults: &defaults
              image: python:3.11
              tags: [docker]
            unit:
              <<: *defaults
              extends: .py
              script:
                - pytest tests/unit
            train:
              extends: [.py, .gpu]
              script:
                - python -m pipelines.train
            """,
        "ci/templates.yml": """
            .py:
              before_script:
                - pip install -e .
              variables:
                PYTHONUNBUFFERED: "1"
            .gpu:
              image: nvidia/cuda:12.2.0-runtime-ubuntu22.04
            """,
        "ci/more.yml": """
            lint:
              script: [ruff check .]
            """,
    })
    p = pipeline(model, GL)
    assert sorted(j.id for j in p.jobs) == ["lint", "train", "unit"]  # hidden jobs and globals are not jobs
    unit = job(p, "unit")
    assert unit.image == "python:3.11" and (unit.start_line, unit.end_line) == (12, 16)
    before, script = unit.steps
    assert (before.name, before.path, before.start_line, before.end_line) == ("before_script", "ci/templates.yml", 2, 3)
    assert (script.path, script.start_line, script.end_line) == (GL, 15, 16)
    assert unit.env["PYTHONUNBUFFERED"] == "1" and unit.env["PIP_CACHE_DIR"] == ".cache"
    assert job(p, "train").image.startswith("nvidia/cuda")  # the last parent wins
    assert job(p, "lint").path == "ci/more.yml"
    assert sorted(ref for ref, _ in p.unfollowed) == [
        "remote: https://example.com/ci.yml", "template: Security/SAST.gitlab-ci.yml"]


def test_gitlab_rules_to_triggers(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {GL: """
        default_job:
          script: [pytest]
        nightly:
          rules:
            - if: $CI_PIPELINE_SOURCE == "schedule"
          script: [dvc repro]
        mr:
          rules:
            - if: '$CI_PIPELINE_SOURCE == "merge_request_event"'
          script: [pytest]
        release:
          rules:
            - if: $CI_COMMIT_TAG
          script: [make release]
        manual_deploy:
          rules:
            - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
              when: manual
          environment:
            name: production
          script: [helm upgrade --install model chart/]
        web_api:
          rules:
            - if: $CI_PIPELINE_SOURCE == "web" || $CI_PIPELINE_SOURCE == "api"
          script: [echo]
        never:
          rules:
            - when: never
          script: [pytest]
        not_scheduled:
          rules:
            - if: $CI_PIPELINE_SOURCE == "schedule"
              when: never
            - when: on_success
          script: [pytest]
        legacy:
          only: [schedules, tags]
          script: [echo]
        legacy_except:
          except: [merge_requests]
          script: [echo]
        clicked:
          when: manual
          script: [echo]
        """})
    p = pipeline(model, GL)
    assert types(job(p, "default_job")) == ["pull_request", "push"]  # the documented default
    assert types(job(p, "nightly")) == ["schedule"] and job(p, "nightly").triggers[0].cron is None
    assert job(p, "nightly").triggers[0].line == 5
    assert types(job(p, "mr")) == ["pull_request"]
    assert types(job(p, "release")) == ["tag"]
    deploy = job(p, "manual_deploy")
    assert types(deploy) == ["manual"] and deploy.environment == "production" and deploy.non_blocking is None
    assert types(job(p, "web_api")) == ["dispatch", "manual"]
    assert job(p, "never").disabled == "`when: never` on every rule"
    assert types(job(p, "not_scheduled")) == ["pull_request", "push"]
    assert types(job(p, "legacy")) == ["schedule", "tag"]
    assert types(job(p, "legacy_except")) == ["push"]
    clicked = job(p, "clicked")
    assert types(clicked) == ["manual"] and "allow_failure" in (clicked.non_blocking or "")


def test_gitlab_workflow_rules_narrow_jobs(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {GL: """
        workflow:
          rules:
            - if: $CI_PIPELINE_SOURCE == "merge_request_event"
            - if: $CI_PIPELINE_SOURCE == "schedule"
        test:
          script: [pytest]
        tagged:
          rules:
            - if: $CI_COMMIT_TAG
          script: [echo]
        """})
    p = pipeline(model, GL)
    assert types(job(p, "test")) == ["pull_request", "schedule"]
    assert types(job(p, "tagged")) == []  # the workflow never creates tag pipelines


def test_gitlab_non_blocking_and_references(tmp_path: Path) -> None:
    model, facts = model_of(tmp_path, {GL: """
        default:
          after_script:
            - pytest --collect-only
        .setup:
          script:
            - pip install -r requirements.txt
        flaky:
          allow_failure: true
          script: [pytest]
        codes:
          allow_failure:
            exit_codes: [1, 137]
          script: [pytest]
        ruled:
          rules:
            - if: $CI_PIPELINE_SOURCE == "push"
              allow_failure: true
          script: [pytest]
        swallow:
          script:
            - !reference [.setup, script]
            - great_expectations checkpoint run data || true
          inherit:
            default: false
        """})
    assert GL not in facts.problems  # !reference is understood
    p = pipeline(model, GL)
    assert job(p, "flaky").non_blocking == "`allow_failure: true`"
    assert "exit_codes" in (job(p, "codes").non_blocking or "")
    assert "rule" in (job(p, "ruled").non_blocking or "")
    after = job(p, "flaky").steps[-1]
    assert after.name == "after_script" and "after_script" in (after.non_blocking or "")
    swallow = job(p, "swallow")
    assert [s.name for s in swallow.steps] == ["script"]  # inherit: default: false
    assert swallow.steps[0].commands() == ["pip install -r requirements.txt",
                                           "great_expectations checkpoint run data || true"]
    assert swallow.steps[0].non_blocking is None
    assert swallow.steps[0].command_non_blocking("great_expectations checkpoint run data || true")


def test_gitlab_wildcard_nested_and_missing_includes(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        GL: "include: 'ci/**/*.yml'\n",
        "ci/a.yml": "include:\n  - local: ci/nested/b.yml\na:\n  script: [echo a]\n",
        "ci/nested/b.yml": "b:\n  script: [echo b]\ninclude: /ci/missing.yml\n",
        "ci/broken.yml": "x: [\n",
    })
    p = pipeline(model, GL)
    assert sorted(j.id for j in p.jobs) == ["a", "b"]
    reasons = dict(p.unfollowed)
    assert "not found" in reasons["/ci/missing.yml"]
    assert "malformed" in reasons["ci/broken.yml"]


def test_gitlab_spec_header_and_malformed(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {GL: """
        spec:
          inputs:
            env: {default: staging}
        ---
        deploy:
          environment: $[[ inputs.env ]]
          script: [kubectl apply -f k8s/]
        """})
    assert job(pipeline(model, GL), "deploy").environment == "$[[ inputs.env ]]"
    bad, _ = model_of(tmp_path / "bad", {GL: "test:\n  script: [pytest\n"})
    assert GL in bad.unreadable and not bad.pipelines


# -- shared helpers ----------------------------------------------------------------------------


def _atom(text: str) -> Optional[frozenset]:
    return {"A": frozenset({"push"}), "B": frozenset({"schedule"}), "F": frozenset()}.get(text.strip())


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("A || B", {"push", "schedule"}),
        ("A && B", set()),
        ("A && X", {"push"}),  # X does not constrain
        ("A || X", None),
        ("(A || B) && !(B)", {"push", "schedule"}),  # negated groups are not guessed
        ("F", set()),
    ],
)
def test_eval_condition(expr: str, expected: Optional[set]) -> None:
    result = eval_condition(expr, _atom)
    assert (None if result is None else set(result)) == expected


@pytest.mark.parametrize(
    "command, swallowed",
    [
        ("pytest || true", True),
        ("pytest || :", True),
        ("pytest || exit 0", True),
        ("pytest || echo 'tests failed'", True),
        ("pytest || (echo failed; exit 1)", False),
        ("pytest || echo failed && exit 1", False),
        ("set +e", True),
        ("pytest -x", False),
    ],
)
def test_shell_non_blocking(command: str, swallowed: bool) -> None:
    assert bool(shell_non_blocking(command)) is swallowed


# -- command recognition of the `ci` probe ------------------------------------------------------


@pytest.mark.parametrize(
    "command, runner",
    [
        ("pytest tests/ -q", "pytest"),
        ("python -m pytest -x", "pytest"),
        ("python3.11 -m pytest", "pytest"),
        ("poetry run pytest --cov", "pytest"),
        ("uv run --frozen pytest", "pytest"),
        ("hatch run test:pytest", "pytest"),  # env:command
        ("hatch run cov", None),  # a hatch script: what it runs is in pyproject.toml
        ("hatch test", "pytest"),
        ("coverage run -m pytest", "pytest"),
        ("docker compose run --rm app pytest -q", "pytest"),
        ("CUDA_VISIBLE_DEVICES= pytest", "pytest"),
        ("tox -e py311", "tox"),
        ("nox -s tests", "nox"),
        ("make test", "make"),
        ("make -C backend unit-tests", "make"),
        ("python -m unittest discover -s tests", "unittest"),
        ("pip install pytest tox nox", None),
        ("pip install -r requirements.txt && pytest", "pytest"),
        ("make lint", None),
        ("echo pytest", None),
    ],
)
def test_probe_test_runner(command: str, runner: Optional[str]) -> None:
    from probes.ci import test_runner
    from scanner.facts.commands import invocations

    found = [test_runner(inv) for inv in invocations(command)]
    assert next((r for r in found if r), None) == runner


@pytest.mark.parametrize(
    "command, trains",
    [
        ("dvc repro", True),
        ("dvc repro -f train", True),
        ("dvc exp run -S lr=0.1", True),
        ("dvc push", False),
        ("python src/models/train_model.py", True),
        ("python -m pipelines.training.run --config c.yaml", True),
        ("python -m pipelines.training.evaluate", False),
        ("python -m pytest tests/test_train.py", False),
        ("accelerate launch train.py", True),
        ("mlflow run . -e train", True),
        ("kedro run --pipeline training", True),
        ("make train", True),
        ("pip install -e .[train]", False),
    ],
)
def test_probe_training_command(command: str, trains: bool) -> None:
    from probes.ci import training_command
    from scanner.facts.commands import invocations

    assert any(training_command(inv) for inv in invocations(command)) is trains


@pytest.mark.parametrize(
    "args, expected",
    [
        (["tests/unit", "-k", "not slow", "-m", "gpu"], ["tests/unit"]),
        (["--cov", "src", "tests"], ["tests"]),  # --cov takes an optional value, as argparse does
        (["--cov", "-q", "tests/test_a.py::test_x"], ["tests/test_a.py::test_x"]),
        (["--junitxml=report.xml", "tests/"], ["tests"]),
    ],
)
def test_probe_pytest_positionals(args: list[str], expected: list[str]) -> None:
    from probes.ci import _pytest_positionals

    assert _pytest_positionals(args) == expected


def test_path_hints_never_hide_a_ci_file():
    """The suffix/substring hints of each CI registration only skip regex work: on every path of
    every fixture and a list of awkward names, the answer equals trying every pattern."""
    from scanner.facts.ci import PARSERS, is_ci_path, load_parsers
    from tests.conftest import FIXTURE_REPOS

    load_parsers()
    paths = {p.relative_to(tree).as_posix() for tree in FIXTURE_REPOS.glob("*/tree") for p in tree.rglob("*")}
    paths |= {p.relative_to(FIXTURE_REPOS.parent).as_posix() for p in FIXTURE_REPOS.parent.rglob("*")}
    paths |= {
        "Jenkinsfile", "ci/Jenkinsfile.release", "jobs/nightly.jenkinsfile", "Jenkinsfile.md",
        ".gitlab-ci.yml", ".gitlab-ci.yaml", "azure-pipelines.yml", ".pipelines/build.yaml",
        "deploy/pipelines/train.yml", "ops/.tekton/run.yaml", "cloudbuild.yaml", "buildspec.yml",
        ".circleci/config.yml", "bitbucket-pipelines.yml", ".github/workflows/ci.yml", "README.yml.txt",
        "pipeline.yml.bak", "ci/tekton-pipeline.yml", "Tekton/x.yaml", "a/b/c.py",
    }
    assert len(paths) > 1000
    for path in sorted(paths):
        assert is_ci_path(path) == any(pattern.fullmatch(path) for pattern, _ in PARSERS), path
