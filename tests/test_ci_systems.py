"""The Azure Pipelines, Jenkins, CircleCI and Bitbucket parsers, on small inline configurations (exact line spans)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.facts import ci_azure, ci_jenkins
from tests.test_ci_model import job, model_of, pipeline, types

AZ = "azure-pipelines.yml"


# -- Azure Pipelines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, expected",
    [
        ("", ["pull_request", "push"]),  # Azure's defaults
        ("trigger: none\npr: none\n", ["manual"]),  # only queued by hand
        ("trigger: [main]\npr: none\n", ["push"]),
        ("trigger:\n  tags:\n    include: ['v*']\npr: none\n", ["tag"]),
        ("trigger:\n  branches:\n    include: [main]\n  tags:\n    include: ['v*']\npr: none\n", ["push", "tag"]),
        ("trigger: none\npr:\n  branches:\n    include: [main]\n", ["pull_request"]),
        ("trigger: none\npr: none\nresources:\n  pipelines:\n    - pipeline: data\n      source: etl\n      trigger: true\n",
         ["dispatch"]),
    ],
)
def test_azure_trigger_forms(tmp_path: Path, head: str, expected: list[str]) -> None:
    model, _ = model_of(tmp_path, {AZ: head + "steps:\n  - script: echo hi\n"})
    assert types(pipeline(model, AZ).triggers) == expected


def test_azure_stages_jobs_steps_spans_and_conditions(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {AZ: """
        trigger: [main]
        schedules:
          - cron: "0 2 * * *"
            branches:
              include: [main]
        stages:
          - stage: Build
            jobs:
              - job: Test
                continueOnError: true
                steps:
                  - bash: |
                      pip install -e .
                      pytest
                    displayName: Tests
                  - task: Bash@3
                    inputs:
                      targetType: filePath
                      filePath: scripts/train.sh
                  - pwsh: ./lint.ps1 || exit 0
          - stage: Nightly
            condition: eq(variables['Build.Reason'], 'Schedule')
            jobs:
              - job: Train
                steps:
                  - script: dvc repro
                    condition: ne(variables['Build.Reason'], 'Schedule')
              - job: Off
                condition: false
                steps:
                  - script: make train
        """})
    p = pipeline(model, AZ)
    assert [(t.type, t.cron, t.line) for t in p.triggers] == [("push", None, 1), ("pull_request", None, 1),
                                                              ("schedule", "0 2 * * *", 3)]
    test = job(p, "Build.Test")
    assert (test.start_line, test.end_line, test.non_blocking) == (9, 20, "`continueOnError: true`")
    assert [(s.name, s.start_line, s.end_line) for s in test.steps] == [
        ("Tests", 12, 15), ("Bash@3", 16, 19), ("./lint.ps1 || exit 0", 20, 20)]
    assert test.steps[0].commands() == ["pip install -e .", "pytest"]
    assert test.steps[1].run == "bash scripts/train.sh" and test.steps[1].uses == "Bash@3"
    assert test.steps[2].non_blocking == "`|| exit 0` swallows failures"
    train = job(p, "Nightly.Train")
    assert types(train.triggers) == ["schedule"]
    assert train.steps[0].triggers == ()  # a step condition no remaining trigger satisfies
    off = job(p, "Nightly.Off")
    assert off.disabled == "`condition: false`" and off.triggers == ()


def test_azure_local_templates_parameters_and_unfollowed(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        AZ: """
            trigger: [main]
            extends:
              template: ci/templates/pipeline.yml
              parameters:
                suite: tests/unit
            """,
        "ci/templates/pipeline.yml": """
            parameters:
              - name: suite
                default: tests
            stages:
              - template: stages.yml
                parameters:
                  suite: ${{ parameters.suite }}
            """,
        "ci/templates/stages.yml": """
            parameters:
              suite: tests
            stages:
              - stage: Test
                jobs:
                  - job: Unit
                    steps:
                      - template: /ci/templates/steps.yml
                      - script: pytest ${{ parameters.suite }}
                      - template: steps.yml@shared
                      - ${{ if eq(parameters.suite, 'tests/unit') }}:
                        - script: coverage report
                  - template: missing-job.yml
            """,
        "ci/templates/steps.yml": """
            steps:
              - script: pip install -r requirements.txt
            """,
    })
    p = pipeline(model, AZ)
    unit = job(p, "Test.Unit")
    assert unit.path == "ci/templates/stages.yml" and (unit.start_line, unit.end_line) == (6, 12)
    assert [(s.run, s.path, s.start_line) for s in unit.steps] == [
        ("pip install -r requirements.txt", "ci/templates/steps.yml", 2),
        ("pytest tests/unit", "ci/templates/stages.yml", 9),
        ("coverage report", "ci/templates/stages.yml", 12),
    ]
    assert p.unfollowed == [("missing-job.yml", "local template not found in the repository"),
                            ("steps.yml@shared", "template from another repository; not followed")]
    assert [x.path for x in model.pipelines] == [AZ]  # templates/ folders hold no pipelines


def test_azure_deployment_job_environment_and_hooks(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {".azure-pipelines/release.yml": """
        trigger:
          tags:
            include: ['v*']
        pr: none
        jobs:
          - deployment: Prod
            environment:
              name: production
              resourceType: Kubernetes
            strategy:
              canary:
                increments: [10]
                deploy:
                  steps:
                    - script: kubectl apply -f k8s/
                on:
                  failure:
                    steps:
                      - script: kubectl rollout undo deployment/api
          - deployment: Staging
            environment: staging.api-namespace
            strategy:
              runOnce:
                deploy:
                  steps:
                    - script: helm upgrade --install api chart
        """})
    p = pipeline(model, ".azure-pipelines/release.yml")
    prod = job(p, "Prod")
    assert prod.environment == "production" and types(prod.triggers) == ["tag"]
    assert [(s.run, s.start_line, s.condition) for s in prod.steps] == [
        ("kubectl apply -f k8s/", 15, ""), ("kubectl rollout undo deployment/api", 19, "on: failure")]
    assert job(p, "Staging").environment == "staging"


def test_azure_sniff_and_claims(tmp_path: Path) -> None:
    model, facts = model_of(tmp_path, {
        "build/ci.yml": "trigger: [main]\njobs:\n  - job: A\n    steps:\n      - script: pytest\n",
        "config/sweep.yml": "trigger: manual\njobs:\n  baseline:\n    lr: 0.1\n",
        "k8s/job.yml": "apiVersion: batch/v1\nkind: Job\nspec:\n  template: {}\n",
        ".github/workflows/azure-pipelines.yml": "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: pytest}]\n",
    })
    assert ci_azure.sniff(facts, "build/ci.yml")
    assert not ci_azure.sniff(facts, "config/sweep.yml")  # `jobs:` is a mapping: not a pipeline
    assert not ci_azure.sniff(facts, "k8s/job.yml")
    assert not ci_azure.sniff(facts, ".github/workflows/azure-pipelines.yml")
    assert {(p.path, p.system) for p in model.pipelines} == {
        (".github/workflows/azure-pipelines.yml", "github_actions"), ("build/ci.yml", "azure_pipelines"),
    }  # the sniffed file is parsed as a pipeline; the look-alikes are not


def test_azure_condition_evaluation() -> None:
    universe = frozenset({"push", "pull_request", "schedule", "manual"})
    allows = ci_azure.condition_allows
    assert allows("eq(variables['Build.Reason'], 'PullRequest')", universe) == {"pull_request"}
    assert allows("and(succeeded(), ne(variables.Build.Reason, 'PullRequest'))", universe) == {"push", "schedule", "manual"}
    assert allows("not(eq(variables['Build.Reason'], 'Schedule'))", universe) == {"push", "pull_request", "manual"}
    assert allows("in(variables['Build.Reason'], 'Manual', 'Schedule')", universe) == {"manual", "schedule"}
    assert allows("startsWith(variables['Build.SourceBranch'], 'refs/tags/')", universe) == {"tag", "release"}
    assert allows("or(failed(), eq(variables['Build.Reason'], 'Manual'))", universe) is None
    assert allows("${{ false }}", universe) == frozenset()
    assert allows(False, universe) == frozenset()
    assert allows("eq(variables['Custom'], 'x')", universe) is None
    assert allows("eq(broken", universe) is None


def test_azure_malformed_and_empty(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {AZ: "trigger: [main\nsteps:\n", ".pipelines/empty.yml": "# all commented out\n"})
    assert AZ in model.unreadable and "malformed YAML" in model.unreadable[AZ]
    assert pipeline(model, ".pipelines/empty.yml").jobs == []


# -- Jenkins ------------------------------------------------------------------------------------------


JF = "Jenkinsfile"


def test_jenkins_mask_keeps_offsets_and_hides_comments_and_strings() -> None:
    text = "sh 'a { b'  // stage('x') {\n/* }\n*/ x"
    masked = ci_jenkins.mask(text)
    assert len(masked) == len(text) and masked.count("\n") == 2
    assert "{" not in masked and "stage" not in masked and masked.endswith("x")


def test_jenkins_declarative_spans_triggers_when_and_gates(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {JF: """
        pipeline {
            agent { docker { image 'python:3.11' } }
            triggers { cron('H 2 * * 1') }
            stages {
                stage('Test') {
                    steps {
                        sh 'pytest'
                        sh(script: 'pytest slow', returnStatus: true)
                        catchError(buildResult: 'FAILURE') { sh 'mypy .' }
                        warnError('lint') { sh 'ruff .' }
                    }
                }
                stage('Checks') {
                    parallel {
                        stage('PR only') {
                            when { changeRequest() }
                            steps { sh "make check" }
                        }
                        stage('Tags') {
                            when { anyOf { buildingTag(); triggeredBy 'TimerTrigger' } }
                            steps { sh "make release" }
                        }
                    }
                }
                stage('Off') {
                    when { expression { false } }
                    steps { sh 'dvc repro' }
                }
                stage('Approve') {
                    steps {
                        sh 'make plan'
                        input message: 'Ship it?'
                        sh 'make ship'
                    }
                }
                stage('After') {
                    steps { sh 'make smoke' }
                }
            }
            post {
                failure { sh './rollback.sh' }
            }
        }
        """})
    p = pipeline(model, JF)
    assert (p.start_line, p.end_line) == (1, 43)
    assert [(t.type, t.cron, t.line) for t in p.triggers] == [("push", None, 1), ("pull_request", None, 1),
                                                              ("schedule", "H 2 * * 1", 3)]
    assert [j.id for j in p.jobs] == ["Test", "Checks/PR only", "Checks/Tags", "Off", "Approve", "After", "post"]
    test = job(p, "Test")
    assert (test.start_line, test.end_line, test.image) == (5, 12, "python:3.11")
    assert [(s.run, s.start_line, s.non_blocking is not None) for s in test.steps] == [
        ("pytest", 7, False), ("pytest slow", 8, True), ("mypy .", 9, False), ("ruff .", 10, True)]
    assert types(job(p, "Checks/PR only").triggers) == ["pull_request"]
    assert types(job(p, "Checks/Tags").triggers) == ["schedule"]  # tag is not among the triggers
    assert job(p, "Off").disabled and job(p, "Off").triggers == ()
    approve = job(p, "Approve")
    assert types(approve.triggers) == ["pull_request", "push", "schedule"]
    assert [s.triggers and types(s.triggers) for s in approve.steps] == [None, None, ["manual"]]
    assert approve.steps[1].uses == "input" and approve.steps[1].start_line == 32
    assert types(job(p, "After").triggers) == ["manual"]  # later stages wait for the approval too
    assert job(p, "post").steps[0].condition == "post: failure"


def test_jenkins_comments_multiline_strings_and_scripted(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        JF: """
            pipeline {
                agent any
                stages {
                    // stage('Lint') { steps { sh 'flake8' } }
                    stage('Test') {
                        steps {
                            sh \"\"\"
                                pip install .
                                pytest -q
                            \"\"\"
                        }
                    }
                }
            }
            """,
        "ci/Jenkinsfile.nightly": """
            properties([pipelineTriggers([cron('@midnight')])])
            node('gpu') {
                stage('Train') {
                    sh 'python train.py'
                }
                stage('Publish') {
                    input 'Publish the model?'
                    sh 'python publish.py'
                }
            }
            """,
    })
    p = pipeline(model, JF)
    assert [j.id for j in p.jobs] == ["Test"]
    step = p.jobs[0].steps[0]
    assert (step.start_line, step.end_line) == (7, 10) and step.commands() == ["pip install .", "pytest -q"]
    nightly = pipeline(model, "ci/Jenkinsfile.nightly")
    assert [(t.type, t.cron) for t in nightly.triggers if t.type == "schedule"] == [("schedule", "@midnight")]
    assert [(j.id, j.start_line, j.end_line) for j in nightly.jobs] == [("Train", 3, 5), ("Publish", 6, 9)]
    assert job(nightly, "Publish").steps[1].triggers is not None


def test_jenkins_file_without_pipeline_is_empty(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {JF: "// pipeline { stages { stage('x') { steps { sh 'pytest' } } } }\n"})
    assert pipeline(model, JF).jobs == []


# -- CircleCI and Bitbucket -----------------------------------------------------------------------------


def test_circleci_filters_disabled_workflow_and_orb_jobs(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {".circleci/config.yml": """
        version: 2.1
        jobs:
          build:
            docker:
              - image: cimg/python:3.12
            steps:
              - checkout
              - run: |
                  pytest || true
        workflows:
          release:
            jobs:
              - build:
                  filters:
                    branches:
                      ignore: /.*/
                    tags:
                      only: /^v.*/
              - python/test
          paused:
            when: false
            jobs:
              - build:
                  name: build-paused
        """})
    p = pipeline(model, ".circleci/config.yml")
    release = job(p, "release/build")
    assert (release.start_line, release.end_line, release.image) == (3, 9, "cimg/python:3.12")
    assert types(release.triggers) == ["tag"]
    assert [(s.name, s.start_line, s.non_blocking) for s in release.steps] == [
        ("checkout", 7, None), ("pytest || true", 8, "`|| true` swallows failures")]
    assert job(p, "paused/build-paused").disabled == "`when: false`"
    assert [j.id for j in p.jobs] == ["release/build", "paused/build-paused"]  # the orb job is not in the repo


def test_bitbucket_sections_stages_parallel_and_manual(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {"bitbucket-pipelines.yml": """
        pipelines:
          default:
            - parallel:
                - step:
                    name: Lint
                    script: [ruff check .]
                - step:
                    name: Test
                    script: [pytest]
          tags:
            'v*':
              - stage:
                  name: Release
                  deployment: production
                  trigger: manual
                  steps:
                    - step:
                        name: Push image
                        script:
                          - docker push registry/app
        """})
    p = pipeline(model, "bitbucket-pipelines.yml")
    assert [(j.id, j.start_line, j.end_line, types(j.triggers)) for j in p.jobs] == [
        ("default/Lint", 5, 6, ["push"]), ("default/Test", 8, 9, ["push"]),
        ("tags/v*/Push image", 18, 20, ["manual"])]
    assert job(p, "tags/v*/Push image").environment == "production"
    assert types(p.triggers) == ["push", "tag"]
