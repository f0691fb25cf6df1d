"""Cloud Build, CodeBuild and Tekton parsers, Azure content sniffing, Jenkins notifications and
CML recognition, on small inline configurations (exact line spans)."""

from __future__ import annotations

from pathlib import Path

from probes.ci import cml_action, compares_to_baseline
from scanner.facts.commands import invocations
from scanner.facts import ci_jenkins
from tests.test_ci_model import job, model_of, pipeline, types

# -- Google Cloud Build -------------------------------------------------------------------------


def test_cloud_build_step_commands_and_gates(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {"cloudbuild.yaml": """
        steps:
          - name: gcr.io/cloud-builders/docker
            args: [build, -t, "gcr.io/p/app:$SHORT_SHA", .]
          - name: python:3.11
            entrypoint: bash
            args: [-ec, "pip install -r requirements.txt && pytest -q"]
          - name: python:3.11
            args: [python, train.py]
            allowExitCodes: [0]
          - id: evaluate
            name: python:3.11
            script: |
              python evaluate.py
            allowExitCodes: [0, 2]
          - name: gcr.io/cloud-builders/gcloud
            args: [run, deploy, api, "--image=gcr.io/p/app:$TAG_NAME"]
            dir: /workspace/services/api
        """})
    p = pipeline(model, "cloudbuild.yaml")
    assert p.system == "google_cloud_build" and types(p) == ["dispatch", "tag"]
    steps = job(p, "build").steps
    assert [s.commands() for s in steps] == [
        ["docker build -t gcr.io/p/app:$SHORT_SHA ."], ["pip install -r requirements.txt && pytest -q"],
        ["python train.py"], ["python evaluate.py"], ["gcloud run deploy api --image=gcr.io/p/app:$TAG_NAME"]]
    assert [(s.start_line, s.end_line) for s in steps] == [(2, 3), (4, 6), (7, 9), (10, 14), (15, 17)]
    assert [s.non_blocking for s in steps] == [None, None, None, "`allowExitCodes: [0, 2]` lets the step fail", None]
    assert steps[0].uses == "gcr.io/cloud-builders/docker" and steps[4].workdir == "services/api"
    assert next(t for t in p.triggers if t.type == "tag").line == 16


def test_cloud_build_trigger_export_is_not_a_build(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {"ci/cloudbuild-trigger.yaml": """
        name: pr-checks
        filename: cloudbuild.yaml
        github: {owner: acme, name: churn, pullRequest: {branch: ^main$}}
        """})
    assert model.pipelines == [] and model.unreadable == {}


# -- AWS CodeBuild -------------------------------------------------------------------------------


def test_buildspec_phases_finally_and_continue(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {"buildspec.yml": """
        version: 0.2
        phases:
          pre_build:
            on-failure: CONTINUE
            commands:
              - pytest tests
          build:
            commands:
              - python train.py
            finally:
              - echo done
        """})
    steps = job(pipeline(model, "buildspec.yml"), "build").steps
    assert [(s.name, s.start_line, s.end_line, s.condition) for s in steps] == [
        ("pre_build", 5, 6, ""), ("build", 8, 9, ""), ("build: finally", 10, 11, "finally")]
    assert steps[0].non_blocking == "`on-failure: CONTINUE` on phase pre_build" and steps[1].non_blocking is None


# -- Tekton -----------------------------------------------------------------------------------------

TASK = """
    apiVersion: tekton.dev/v1
    kind: Task
    metadata:
      name: tests
    spec:
      steps:
        - name: pytest
          image: python:3.11
          command: [sh, -c]
          args: ["pytest -q"]
    """


def test_tekton_old_style_interceptors_and_cel(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        "tekton/task.yaml": TASK,
        "tekton/pipeline.yaml": """
            apiVersion: tekton.dev/v1beta1
            kind: Pipeline
            metadata: {name: ci}
            spec:
              tasks:
                - name: tests
                  taskRef: {name: tests}
            """,
        "tekton/triggers.yaml": """
            apiVersion: triggers.tekton.dev/v1alpha1
            kind: TriggerTemplate
            metadata: {name: ci-template}
            spec:
              resourcetemplates:
                - apiVersion: tekton.dev/v1beta1
                  kind: PipelineRun
                  spec: {pipelineRef: {name: ci}}
            ---
            apiVersion: triggers.tekton.dev/v1alpha1
            kind: EventListener
            metadata: {name: gitlab}
            spec:
              triggers:
                - interceptors:
                    - gitlab:
                        eventTypes: ["Merge Request Hook"]
                  template: {name: ci-template}
                - interceptors:
                    - cel:
                        filter: "header.match('X-GitHub-Event', 'push')"
                  template: {name: ci-template}
            """,
    })
    p = pipeline(model, "tekton/pipeline.yaml")
    assert types(p) == ["pull_request", "push"]
    assert sorted((t.type, t.path, t.line) for t in p.triggers) == [
        ("pull_request", "tekton/triggers.yaml", 17), ("push", "tekton/triggers.yaml", 21)]
    assert [s.commands() for s in job(p, "ci/tests").steps] == [["pytest -q"]]
    assert {q.path for q in model.pipelines} == {"tekton/pipeline.yaml"}  # the used Task is read through it


def test_tekton_runs_outside_tekton_dir_are_manual_and_remote_refs_unfollowed(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        "ci/run.yaml": """
            apiVersion: tekton.dev/v1
            kind: PipelineRun
            metadata:
              name: nightly
              annotations:
                pipelinesascode.tekton.dev/on-event: "[push]"
            spec:
              pipelineRef:
                resolver: git
                params:
                  - {name: pathInRepo, value: pipelines/train.yaml}
            """,
        "tekton/kustomization.yaml": "resources: [pipeline.yaml]\n",
        "tekton/bad.yaml": "apiVersion: tekton.dev/v1\nkind: Task\nspec: [\n",
    })
    run = pipeline(model, "ci/run.yaml")
    assert run.jobs == [] and run.unfollowed == [
        ("pipelineRef: git resolver pipelines/train.yaml", "pipeline defined outside the repository")]
    assert set(model.unreadable) == {"tekton/bad.yaml"}  # not the kustomization, which is no Tekton file


def test_tekton_pac_event_and_python_script_step(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {".tekton/pr.yaml": """
        apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata:
          name: pr
          annotations:
            pipelinesascode.tekton.dev/on-cel-expression: event == "pull_request" && target_branch == "main"
        spec:
          pipelineSpec:
            tasks:
              - name: check
                taskSpec:
                  steps:
                    - name: py
                      image: python:3.11
                      script: |
                        #!/usr/bin/env python3
                        print("python -m pytest")
                    - name: sh
                      image: python:3.11
                      onError: continue
                      script: pytest -q
        """})
    p = pipeline(model, ".tekton/pr.yaml")
    assert types(p) == ["pull_request"] and p.triggers[0].line == 6
    py, sh = job(p, "pr/check").steps
    assert py.run == "" and sh.commands() == ["pytest -q"] and sh.non_blocking == "`onError: continue`"
    assert (sh.start_line, sh.end_line) == (18, 21)


# -- Azure sniffing ---------------------------------------------------------------------------------


def test_azure_hinted_paths_are_sniffed(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        ".ado/ci.yml": "trigger: [main]\njobs:\n  - job: A\n    steps:\n      - script: pytest\n",
        ".ado/templates/steps.yml": "parameters: []\nsteps:\n  - script: pytest\n",
        "ci/sweep.yml": "trigger: manual\njobs:\n  - name: a\n    lr: 0.1\n",
        "docs/ci.yml": "trigger: [main]\njobs:\n  - job: A\n    steps:\n      - script: pytest\n",
    })
    assert {(p.path, p.system) for p in model.pipelines} == {(".ado/ci.yml", "azure_pipelines")}
    assert model.unreadable == {}


# -- Jenkins notifications ----------------------------------------------------------------------------


def test_jenkins_failure_notifications(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {"Jenkinsfile": """
        pipeline {
            agent any
            stages {
                stage('Train') {
                    steps { sh 'python train.py' }
                    post {
                        success { slackSend channel: '#ok', message: 'trained' }
                        regression { office365ConnectorSend webhookUrl: 'https://x.webhook.office.com/y', message: 'broke' }
                    }
                }
            }
            post {
                unsuccessful {
                    emailext(to: 'team@example.com',
                             subject: 'failed')
                }
            }
        }
        """})
    p = pipeline(model, "Jenkinsfile")
    train = ci_jenkins.failure_notifications(job(p, "Train"))
    assert [(s.uses, s.condition, s.with_) for s in train] == [
        ("office365ConnectorSend", "post: regression", {"webhookUrl": "<set>"})]
    post = ci_jenkins.failure_notifications(job(p, "post"))
    assert [(s.uses, s.start_line, s.end_line, s.with_) for s in post] == [
        ("emailext", 14, 15, {"to": "team@example.com"})]


# -- CML -------------------------------------------------------------------------------------------------


def test_cml_actions_per_shell_segment() -> None:
    def actions(command: str) -> list:
        return [cml_action(inv) for inv in invocations(command)]

    assert actions("cml comment create report.md") == ["comment"]
    assert actions("cml comment update --watch report.md") == ["comment"]
    assert actions("cml-send-comment report.md") == ["comment"]
    assert actions("npx @dvcorg/cml check create report.md") == ["check"]
    assert actions("cml runner launch --cloud=aws") == ["runner"]
    assert actions("cml publish plot.png --md >> report.md") == ["publish"]
    assert actions('echo "cml comment create report.md"') == [None]
    assert any(compares_to_baseline(inv) for inv in invocations("dvc metrics diff main --md >> report.md"))
    assert not any(compares_to_baseline(inv) for inv in invocations("dvc metrics show"))


def test_tekton_cronjob_calling_a_listener_schedules_its_pipeline(tmp_path: Path) -> None:
    model, _ = model_of(tmp_path, {
        "tekton/task.yaml": TASK,
        "tekton/all.yaml": """
            apiVersion: tekton.dev/v1
            kind: Pipeline
            metadata: {name: retrain}
            spec:
              tasks:
                - {name: tests, taskRef: {name: tests}}
            ---
            apiVersion: triggers.tekton.dev/v1beta1
            kind: TriggerTemplate
            metadata: {name: retrain-tt}
            spec:
              resourcetemplates:
                - {apiVersion: tekton.dev/v1, kind: PipelineRun, spec: {pipelineRef: {name: retrain}}}
            ---
            apiVersion: triggers.tekton.dev/v1beta1
            kind: EventListener
            metadata: {name: retrain-listener}
            spec:
              triggers:
                - template: {ref: retrain-tt}
            """,
        "tekton/cron.yaml": """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: nightly}
            spec:
              schedule: "30 2 * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers:
                        - name: ping
                          image: curlimages/curl
                          args: ["-X", "POST", "http://el-retrain-listener.ci.svc:8080", "-d", "{}"]
            """,
    })
    p = pipeline(model, "tekton/all.yaml")
    assert sorted((t.type, t.cron, t.path, t.line) for t in p.triggers) == [
        ("dispatch", None, "tekton/all.yaml", 20), ("schedule", "30 2 * * *", "tekton/cron.yaml", 5)]
    assert {q.path for q in model.pipelines} == {"tekton/all.yaml"}
