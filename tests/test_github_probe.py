"""The github service probe against a local stand-in for the GitHub REST API (loopback only).

The fake serves answers shaped like the documented API (repository, rules for a branch, branch
and branch protection, workflows and workflow runs, environments, deployments and statuses, pull
requests and reviews, commits and their pull requests, CODEOWNERS errors), paginates list
endpoints with ``Link`` headers like GitHub does (page size capped server-side, next links in the
``/repositories/{id}/...`` form for pull requests), and can refuse or rate-limit any endpoint.

``RECOMMENDED`` below is the rule change proposed to the lead: the tests load the default pack
with those criteria replaced, so they show the criteria moving from unverified to pass (or fail
when the API shows nothing) exactly as the proposal would make them.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import yaml

import probes._github_api as github_api
from probes._github_cron import interval_minutes
from probes.github import GITHUB_ONLY, PROBE, path_side, weekday_hours
from scanner.models import Outcome, Scorecard
from scanner.registry import all_probes, kind_index
from scanner.rulepack import default_pack_dir, load_pack
from scanner.scan import scan
from tests.gitrepo import build_repo

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
REPO = "acme/churn"
REPO_ID = 4242
TOKEN = "ghp_testtoken_not_a_secret_0123456789"


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the scanned repository --------------------------------------------------------------------

TREE = {
    ".github/workflows/ci.yml": """\
        name: CI
        on:
          push:
            branches: [main]
          pull_request:
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with:
                  python-version: "3.11"
              - run: pip install -r requirements.txt
              - run: python -m pytest -q tests
        """,
    ".github/workflows/train.yml": """\
        name: Weekly retrain
        on:
          schedule:
            - cron: "0 3 * * 1"
          workflow_dispatch:
        jobs:
          train:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: pip install -r requirements.txt
              - run: python src/train.py --config configs/train.yaml
        """,
    ".github/workflows/deploy.yml": """\
        name: Deploy
        on:
          push:
            branches: [main]
        jobs:
          deploy:
            runs-on: ubuntu-latest
            environment: production
            steps:
              - uses: actions/checkout@v4
              - run: helm upgrade --install churn charts/churn --set image.tag=${{ github.sha }}
        """,
    ".github/workflows/nightly-eval.yml": """\
        name: Nightly evaluation
        on:
          schedule:
            - cron: "30 1 * * *"
        jobs:
          evaluate:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: python src/evaluate.py
        """,
    ".github/workflows/experimental.yml": """\
        name: Experimental
        on: [push]
        jobs:
          try:
            runs-on: ubuntu-latest
            steps:
              - run: echo hello
        """,
    ".github/CODEOWNERS": """\
        # Owners of the churn model
        /data/      @acme/data-eng
        /src/       @acme/ml-team
        /serving/   @acme/platform
        /charts/    @acme/platform
        """,
    ".github/pull_request_template.md": "## What changed\n\n## How was it tested\n",
    "requirements.txt": "scikit-learn==1.5.2\npandas==2.2.3\n",
    "src/train.py": "import sklearn\n\n\ndef main():\n    return sklearn.__version__\n",
    "src/evaluate.py": "def main():\n    return 0\n",
    "tests/test_train.py": "from src.train import main\n\n\ndef test_main():\n    assert main()\n",
    "README.md": "# churn\n\nSetup: `pip install -r requirements.txt`\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    import textwrap

    src = tmp_path_factory.mktemp("tree")
    for rel, text in TREE.items():
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return build_repo(src, tmp_path_factory.mktemp("repo") / "churn", remote="https://github.com/acme/churn.git")


# -- the fake GitHub ---------------------------------------------------------------------------

Answer = tuple[int, dict[str, str], Any]
Route = Callable[[dict[str, str]], Answer]


class FakeGitHub:
    """A loopback HTTP server answering like api.github.com for one repository."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = fake.routes.get(parts.path)
                query = dict(parse_qsl(parts.query))
                status, headers, body = route(query) if route else (404, {}, {
                    "message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4990",
                                   "X-RateLimit-Reset": str(int(time.time()) + 3600), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FakeGitHub":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- route builders --

    def json(self, path: str, body: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> None:
        self.routes[path] = lambda query: (status, dict(headers or {}), body)

    def refuse(self, path: str, status: int, message: str, headers: Optional[dict[str, str]] = None) -> None:
        self.json(path, {"message": message, "documentation_url": "https://docs.github.com/rest",
                         "status": str(status)}, status, headers)

    def paged(self, path: str, items: list, *, key: Optional[str] = None, cap: int = 2,
              link_path: Optional[str] = None, select: Optional[Callable[[dict, dict], bool]] = None) -> None:
        """A list endpoint: ``per_page`` honoured up to ``cap``; ``Link`` next/last like GitHub."""

        def route(query: dict[str, str]) -> Answer:
            chosen = [i for i in items if select(i, query)] if select else items
            size = min(int(query.get("per_page", 30)), cap)
            page = int(query.get("page", 1))
            last = max((len(chosen) + size - 1) // size, 1)
            body_items = chosen[(page - 1) * size: page * size]
            links = []
            base_query = {k: v for k, v in query.items() if k != "page"}
            target = self.url + (link_path or path)
            if page < last:
                links.append(f'<{target}?{urlencode({**base_query, "page": page + 1})}>; rel="next"')
                links.append(f'<{target}?{urlencode({**base_query, "page": last})}>; rel="last"')
            if page > 1:
                links.append(f'<{target}?{urlencode({**base_query, "page": 1})}>; rel="first"')
            headers = {"Link": ", ".join(links)} if links else {}
            body = {"total_count": len(chosen), key: body_items} if key else body_items
            return 200, headers, body

        self.routes[path] = route
        if link_path:
            self.routes[link_path] = route

    def paths(self) -> list[str]:
        return [urlsplit(p).path for p, _ in self.requests]


# -- documented shapes -------------------------------------------------------------------------


def user(login: str, kind: str = "User", uid: int = 1) -> dict:
    return {"login": login, "id": uid, "node_id": f"MDQ6VXNlcn{uid}", "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "", "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
            "type": kind, "site_admin": False}


BOT = user("github-actions[bot]", "Bot", 41898282)
DEPENDABOT = user("dependabot[bot]", "Bot", 49699333)
ANN, BO, CY = user("ann-lee", uid=101), user("bo-chen", uid=102), user("cy-ortiz", uid=103)


def repository(default_branch: str = "main") -> dict:
    return {"id": REPO_ID, "node_id": "R_kgDOChurn", "name": "churn", "full_name": REPO, "private": False,
            "owner": user("acme", "Organization", 900), "html_url": f"https://github.com/{REPO}",
            "description": "Churn model", "fork": False, "url": f"https://api.github.com/repos/{REPO}",
            "default_branch": default_branch, "visibility": "public", "archived": False, "disabled": False,
            "pushed_at": ago(hours=5), "created_at": "2024-02-01T09:00:00Z", "updated_at": ago(hours=5)}


def ruleset_rule(kind: str, parameters: Optional[dict] = None, ruleset_id: int = 17) -> dict:
    rule = {"type": kind, "ruleset_source_type": "Repository", "ruleset_source": REPO, "ruleset_id": ruleset_id}
    if parameters is not None:
        rule["parameters"] = parameters
    return rule


PULL_REQUEST_RULE = ruleset_rule("pull_request", {
    "required_approving_review_count": 2, "dismiss_stale_reviews_on_push": True, "require_code_owner_review": True,
    "require_last_push_approval": True, "required_review_thread_resolution": False,
    "allowed_merge_methods": ["merge", "squash", "rebase"]})
STATUS_RULE = ruleset_rule("required_status_checks", {
    "strict_required_status_checks_policy": True, "do_not_enforce_on_create": False,
    "required_status_checks": [{"context": "test", "integration_id": 15368}]})


def branch(protected: bool, contexts: tuple[str, ...] = ()) -> dict:
    return {"name": "main", "commit": {"sha": "a" * 40, "url": f"https://api.github.com/repos/{REPO}/commits/{'a' * 40}"},
            "protected": protected,
            "protection": {"enabled": protected, "required_status_checks": {
                "enforcement_level": "non_admins" if contexts else "off", "contexts": list(contexts),
                "checks": [{"context": c, "app_id": 15368} for c in contexts]}},
            "protection_url": f"https://api.github.com/repos/{REPO}/branches/main/protection"}


def workflow(wid: int, name: str, path: str, state: str = "active") -> dict:
    return {"id": wid, "node_id": f"W_kwDO{wid}", "name": name, "path": path, "state": state,
            "created_at": "2024-02-01T09:00:00.000Z", "updated_at": "2026-01-10T09:00:00.000Z",
            "url": f"https://api.github.com/repos/{REPO}/actions/workflows/{wid}",
            "html_url": f"https://github.com/{REPO}/blob/main/{path}",
            "badge_url": f"https://github.com/{REPO}/workflows/{name}/badge.svg"}


def run(rid: int, wid: int, path: str, event: str, conclusion: Optional[str], created: str) -> dict:
    return {"id": rid, "name": path, "node_id": f"WFR_{rid}", "head_branch": "main", "head_sha": "b" * 40,
            "path": path, "display_title": f"run {rid}", "run_number": rid % 1000, "run_attempt": 1,
            "event": event, "status": "completed" if conclusion else "in_progress", "conclusion": conclusion,
            "workflow_id": wid, "url": f"https://api.github.com/repos/{REPO}/actions/runs/{rid}",
            "html_url": f"https://github.com/{REPO}/actions/runs/{rid}", "pull_requests": [],
            "created_at": created, "updated_at": created, "run_started_at": created, "actor": ANN,
            "triggering_actor": ANN, "jobs_url": f"https://api.github.com/repos/{REPO}/actions/runs/{rid}/jobs",
            "workflow_url": f"https://api.github.com/repos/{REPO}/actions/workflows/{wid}",
            "head_commit": {"id": "b" * 40, "tree_id": "c" * 40, "message": "Update", "timestamp": created,
                            "author": {"name": "Ann Lee", "email": "ann@example.com"},
                            "committer": {"name": "Ann Lee", "email": "ann@example.com"}},
            "repository": {"id": REPO_ID, "full_name": REPO}, "head_repository": {"id": REPO_ID, "full_name": REPO}}


def environment(eid: int, name: str, rules: list[dict]) -> dict:
    return {"id": eid, "node_id": f"EN_{eid}", "name": name, "url": f"https://api.github.com/repos/{REPO}/environments/{name}",
            "html_url": f"https://github.com/{REPO}/deployments/activity_log?environments_filter={name}",
            "created_at": "2024-03-01T10:00:00Z", "updated_at": "2026-01-10T10:00:00Z", "protection_rules": rules,
            "deployment_branch_policy": {"protected_branches": True, "custom_branch_policies": False}}


def deployment(did: int, creator: dict, created: str, env: str = "production") -> dict:
    return {"url": f"https://api.github.com/repos/{REPO}/deployments/{did}", "id": did, "node_id": f"DE_{did}",
            "sha": "d" * 40, "ref": "main", "task": "deploy", "payload": {}, "original_environment": env,
            "environment": env, "description": None, "creator": creator, "created_at": created, "updated_at": created,
            "statuses_url": f"https://api.github.com/repos/{REPO}/deployments/{did}/statuses",
            "repository_url": f"https://api.github.com/repos/{REPO}", "transient_environment": False,
            "production_environment": env == "production", "performed_via_github_app": None}


def status(sid: int, did: int, state: str, created: str) -> dict:
    return {"url": f"https://api.github.com/repos/{REPO}/deployments/{did}/statuses/{sid}", "id": sid,
            "node_id": f"DES_{sid}", "state": state, "creator": BOT, "description": "", "environment": "production",
            "target_url": "", "created_at": created, "updated_at": created,
            "deployment_url": f"https://api.github.com/repos/{REPO}/deployments/{did}",
            "repository_url": f"https://api.github.com/repos/{REPO}", "environment_url": "https://churn.acme.example",
            "log_url": f"https://github.com/{REPO}/actions/runs/{sid}"}


def pull(number: int, author: dict, merged: Optional[str], base: str = "main", created: Optional[str] = None) -> dict:
    return {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}", "id": 9000 + number,
            "node_id": f"PR_{number}", "html_url": f"https://github.com/{REPO}/pull/{number}", "number": number,
            "state": "closed", "locked": False, "title": f"Change {number}", "user": author, "body": "",
            "created_at": created or ago(days=number + 2), "updated_at": ago(days=number), "closed_at": ago(days=number),
            "merged_at": merged, "merge_commit_sha": f"{number:040d}", "draft": False,
            "head": {"label": f"acme:topic-{number}", "ref": f"topic-{number}", "sha": "e" * 40, "user": author},
            "base": {"label": f"acme:{base}", "ref": base, "sha": "f" * 40, "user": user("acme", "Organization", 900)},
            "author_association": "MEMBER", "auto_merge": None}


def review(rid: int, number: int, reviewer: dict, state: str, submitted: Optional[str] = None) -> dict:
    return {"id": rid, "node_id": f"PRR_{rid}", "user": reviewer, "body": "", "state": state,
            "html_url": f"https://github.com/{REPO}/pull/{number}#pullrequestreview-{rid}",
            "pull_request_url": f"https://api.github.com/repos/{REPO}/pulls/{number}",
            "_links": {"html": {"href": f"https://github.com/{REPO}/pull/{number}#pullrequestreview-{rid}"},
                       "pull_request": {"href": f"https://api.github.com/repos/{REPO}/pulls/{number}"}},
            "submitted_at": submitted or ago(days=number), "commit_id": "e" * 40, "author_association": "MEMBER"}


def pr_file(filename: str, status: str = "modified", previous: Optional[str] = None) -> dict:
    sha = hashlib.sha1(filename.encode()).hexdigest()
    entry = {"sha": sha, "filename": filename, "status": status, "additions": 3, "deletions": 1, "changes": 4,
             "blob_url": f"https://github.com/{REPO}/blob/{sha}/{filename}",
             "raw_url": f"https://github.com/{REPO}/raw/{sha}/{filename}",
             "contents_url": f"https://api.github.com/repos/{REPO}/contents/{filename}?ref={sha}",
             "patch": "@@ -1,2 +1,4 @@"}
    if previous:
        entry["previous_filename"] = previous
    return entry


def commit(sha: str, author: Optional[dict], name: str, when: str) -> dict:
    return {"sha": sha, "node_id": f"C_{sha[:8]}", "url": f"https://api.github.com/repos/{REPO}/commits/{sha}",
            "html_url": f"https://github.com/{REPO}/commit/{sha}",
            "commit": {"author": {"name": name, "email": f"{name.split()[0].lower()}@example.com", "date": when},
                       "committer": {"name": "GitHub", "email": "noreply@github.com", "date": when},
                       "message": "Change", "tree": {"sha": "1" * 40, "url": ""}, "comment_count": 0},
            "author": author, "committer": user("web-flow", uid=19864447), "parents": []}


# -- scenarios -----------------------------------------------------------------------------------

WORKFLOWS = [
    workflow(161335, "CI", ".github/workflows/ci.yml"),
    workflow(161336, "Weekly retrain", ".github/workflows/train.yml"),
    workflow(161337, "Deploy", ".github/workflows/deploy.yml"),
    workflow(161338, "Nightly evaluation", ".github/workflows/nightly-eval.yml", "disabled_inactivity"),
    workflow(161339, "pages-build-deployment", "dynamic/pages/pages-build-deployment"),
]


def serve_runs(fake: FakeGitHub, wid: int, runs: list[dict]) -> None:
    def select(item: dict, query: dict) -> bool:
        return (query.get("event") in (None, item["event"])
                and query.get("status") in (None, item["conclusion"], item["status"]))

    fake.paged(f"/repos/{REPO}/actions/workflows/{wid}/runs", runs, key="workflow_runs", cap=100, select=select)


def healthy(fake: FakeGitHub) -> None:
    """A well-run repository: fresh runs, rulesets, a protected production environment, reviews."""
    base = f"/repos/{REPO}"
    fake.json(base, repository())
    fake.paged(f"{base}/rules/branches/main", [PULL_REQUEST_RULE, STATUS_RULE, ruleset_rule("deletion"),
                                               ruleset_rule("non_fast_forward")], cap=2)
    fake.json(f"{base}/branches/main", branch(True, ("test",)))
    fake.refuse(f"{base}/branches/main/protection", 403, "Resource not accessible by integration")
    fake.json(f"{base}/codeowners/errors", {"errors": []})
    fake.paged(f"{base}/actions/workflows", WORKFLOWS, key="workflows", cap=2)
    serve_runs(fake, 161335, [run(900 + i, 161335, ".github/workflows/ci.yml", event, "success" if i % 3 else "failure",
                                  ago(days=i * 4 + 1)) for i, event in enumerate(["push", "pull_request"] * 5)])
    # a busy weekly workflow: the latest 100 runs are manual; the schedule query finds the success
    serve_runs(fake, 161336, [run(10_000 + i, 161336, ".github/workflows/train.yml", "workflow_dispatch", "success",
                                  ago(minutes=40 * i + 10)) for i in range(100)]
               + [run(9_000, 161336, ".github/workflows/train.yml", "schedule", "success", ago(days=3))])
    serve_runs(fake, 161337, [run(700, 161337, ".github/workflows/deploy.yml", "push", "success", ago(days=2))])
    serve_runs(fake, 161338, [run(600, 161338, ".github/workflows/nightly-eval.yml", "schedule", "success",
                                  ago(days=75))])
    fake.paged(f"{base}/environments", [
        environment(1, "staging", []),
        environment(2, "production", [
            {"id": 3515, "node_id": "GA_wait", "type": "wait_timer", "wait_timer": 10},
            {"id": 3755, "node_id": "GA_rev", "type": "required_reviewers", "prevent_self_review": True,
             "reviewers": [{"type": "User", "reviewer": BO}, {"type": "Team", "reviewer": {
                 "id": 77, "node_id": "T_77", "name": "Platform", "slug": "platform", "description": "",
                 "privacy": "closed", "permission": "pull", "html_url": "https://github.com/orgs/acme/teams/platform",
                 "members_url": "", "repositories_url": "", "url": "", "parent": None}}]},
            {"id": 3600, "node_id": "GA_branch", "type": "branch_policy"}]),
    ], key="environments", cap=1)
    deployments = [deployment(501, BOT, ago(days=2)), deployment(500, BOT, ago(days=20)),
                   deployment(499, ANN, ago(days=120))]
    fake.paged(f"{base}/deployments", deployments, cap=2,
               select=lambda item, query: query.get("environment") == item["environment"])
    fake.json(f"{base}/deployments/501/statuses", [status(2, 501, "success", ago(days=2)),
                                                   status(1, 501, "in_progress", ago(days=2, minutes=5))])
    fake.json(f"{base}/deployments/500/statuses", [status(4, 500, "failure", ago(days=19)),
                                                   status(3, 500, "success", ago(days=20))])
    fake.json(f"{base}/deployments/499/statuses", [status(5, 499, "success", ago(days=120))])
    # NOW is a Monday noon. 41 opened Friday 10:00, first reviewed 2 h later; 38 opened Tuesday
    # noon, reviewed 24 h later; 37 was merged with only its author's comment and a bot's approval.
    pulls = [pull(41, ANN, ago(days=1), created=ago(days=3, hours=2)), pull(40, DEPENDABOT, ago(days=2)),
             pull(39, BO, None), pull(38, BO, ago(days=4), created=ago(days=6)), pull(37, CY, ago(days=5)),
             pull(36, ANN, ago(days=6), base="release")]
    fake.paged(f"{base}/pulls", pulls, cap=2, link_path=f"/repositories/{REPO_ID}/pulls")
    fake.json(f"{base}/pulls/41/reviews", [review(1, 41, BO, "COMMENTED", ago(days=3)),
                                           review(2, 41, BO, "APPROVED", ago(days=2)),
                                           review(6, 41, CY, "APPROVED", ago(days=2))])
    fake.json(f"{base}/pulls/38/reviews", [review(3, 38, CY, "APPROVED", ago(days=5))])
    fake.json(f"{base}/pulls/37/reviews", [review(4, 37, CY, "COMMENTED"), review(5, 37, DEPENDABOT, "APPROVED")])
    # 41 and 37 cross the model/serving boundary (src/train.py with a chart or serving code); 41
    # was approved by Bo (ml-team owns src/) and Cy (platform owns charts/), 37 by nobody
    fake.paged(f"{base}/pulls/41/files", [pr_file("src/train.py"), pr_file("charts/churn/values.yaml"),
                                          pr_file("tests/test_train.py", "added")], cap=100)
    fake.paged(f"{base}/pulls/38/files", [pr_file("src/features.py", "renamed", previous="src/feats.py")], cap=100)
    fake.paged(f"{base}/pulls/37/files", [pr_file("serving/app.py", "added"), pr_file("src/train.py")], cap=100)
    fake.paged("/orgs/acme/teams/ml-team/members", [ANN, BO], cap=100)
    fake.paged("/orgs/acme/teams/platform/members", [CY], cap=100)
    commits = [commit("1" * 40, ANN, "Ann Lee", ago(days=1)), commit("2" * 40, DEPENDABOT, "dependabot[bot]", ago(days=2)),
               commit("3" * 40, BO, "Bo Chen", ago(days=4)), commit("4" * 40, None, "Cy Ortiz", ago(days=5))]
    fake.paged(f"{base}/commits", commits, cap=30)
    for sha, number in (("1" * 40, 41), ("3" * 40, 38), ("4" * 40, 37)):
        fake.json(f"{base}/commits/{sha}/pulls", [pull(number, ANN, ago(days=1))])


def bare(fake: FakeGitHub) -> None:
    """A linked repository where the API shows nothing: no rules, runs, environments or reviews."""
    base = f"/repos/{REPO}"
    fake.json(base, repository())
    fake.paged(f"{base}/rules/branches/main", [])
    fake.json(f"{base}/branches/main", branch(False))
    fake.json(f"{base}/codeowners/errors", {"errors": [{
        "line": 3, "column": 13, "kind": "Unknown owner", "source": "/src/       @acme/ml-team\n", "suggestion": None,
        "message": "Unknown owner on line 3: make sure the team @acme/ml-team exists and has write access to the repository",
        "path": ".github/CODEOWNERS"}]})
    fake.paged(f"{base}/actions/workflows", WORKFLOWS[:1], key="workflows")
    serve_runs(fake, 161335, [])
    fake.paged(f"{base}/environments", [], key="environments")
    fake.paged(f"{base}/deployments", [])
    fake.paged(f"{base}/pulls", [])
    fake.paged(f"{base}/commits", [])


# -- the recommended rules (for the lead) --------------------------------------------------------

RECOMMENDED: dict[str, dict[str, Any]] = {
    "MD-1.1": {"match": {"any": [
        {"kind": "github.workflow", "where": {"roles": {"contains": "tests"}, "state": "active", "fresh_events": True}},
        {"kind": "ci.job.runs_tests", "where": {"on_push_or_pr": True}}]}, "min_strength": "executed"},
    "MD-3.1": {"match": {"any": [
        {"kind": "github.deployments", "where": {"automated": True, "successful_90d": {"gte": 1}}},
        {"kind": "ci.job.deploy", "where": {"automatic": True}}]}, "min_strength": "executed"},
    "MD-3.4": {"match": {"any": [
        {"kind": "github.environment", "where": {"production": True, "required_reviewers": {"gte": 1}}},
        {"kind": "ci.job.deploy", "where": {"production": True}}]}, "min_strength": "enforced"},
    "GV-3.2": {"match": {"any": [
        {"kind": "github.environment",
         "where": {"production": True, "required_reviewers": {"gte": 1}, "prevent_self_review": True}},
        {"kind": "ci.job.deploy", "where": {"production": True}}]}, "min_strength": "enforced"},
    "CO-1.3": {"match": {"any": [
        {"kind": "github.review_practice", "where": {"merged_prs": {"gte": 1}}},
        {"kind": "repo.pr_template"}, {"kind": "repo.issue_templates"}]}, "min_strength": "executed"},
    "CO-3.1": {"match": {"all": [
        {"kind": "repo.codeowners", "where": {"owner_groups": {"gte": 2}}, "min_strength": "configured"},
        {"any": [{"kind": "github.branch_rules", "where": {"code_owner_review": True}},
                 {"kind": "repo.codeowners", "where": {"owner_groups": {"gte": 2}}}]}]}, "min_strength": "enforced"},
    # unobservable today; decidable with the probe (see the report: not linked should stay "unknown")
    "GV-2.1": {"match": {"all": [
        {"kind": "github.commits_via_pr", "where": {"share": {"gte": 0.8}}},
        {"kind": "github.review_practice", "where": {"share": {"gte": 0.5}}}]}, "min_strength": "executed"},
    "CO-2.1": {"match": {"all": [
        {"kind": "github.commits_via_pr", "where": {"share": {"gte": 0.8}}},
        {"kind": "github.review_practice", "where": {"share": {"gte": 0.5}}}]}, "min_strength": "executed"},
    "GV-3.1": {"match": {"kind": "github.branch_rules",
                         "where": {"required_approvals": {"gte": 1}, "status_checks": {"gte": 1}}},
               "min_strength": "enforced"},
}
GITHUB_CRITERIA = ("MD-1.1", "MD-3.1", "MD-3.4", "GV-3.2", "CO-1.3", "CO-3.1")
NEWLY_DECIDED = ("GV-2.1", "CO-2.1", "GV-3.1")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """The default pack with RECOMMENDED applied (what the lead is asked to commit)."""
    out = tmp_path_factory.mktemp("pack")
    for source in sorted(default_pack_dir().glob("*.yaml")):
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        for level in (data.get("levels") or {}).values() if isinstance(data, dict) else ():
            for criterion in level.get("criteria") or []:
                change = RECOMMENDED.get(criterion.get("id"))
                if change:
                    criterion.pop("unobservable", None)
                    criterion.update(change)
                    criterion["verify_with"] = ["github"]
        (out / source.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_pack(kind_index(all_probes()), out)


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    for name in ("GH_TOKEN", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "DATABRICKS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


def run_scan(repo: Path, fake: Optional[FakeGitHub], pack, **kwargs: Any) -> Scorecard:
    return scan(repo, github_repo=REPO, github_api=fake.url if fake else None, pack=pack, **kwargs)


def github_items(card: Scorecard, kind: str, outcome: Outcome = Outcome.present) -> dict[str, Any]:
    return {e.subject: e for e in card.evidence if e.kind == kind and e.outcome == outcome}


def status_of(card: Scorecard, criterion: str) -> str:
    return next(c.status for c in card.criteria if c.id == criterion)


# -- tests -----------------------------------------------------------------------------------------


def test_healthy_repository_evidence(repo, fake, pack, env):
    healthy(fake)
    card = run_scan(repo, fake, pack)

    workflows = github_items(card, "github.workflow")
    ci = workflows[".github/workflows/ci.yml"]
    assert ci.strength.value == "executed" and not ci.downgrades
    assert ci.attributes["roles"] == ["tests"] and ci.attributes["state"] == "active"
    assert ci.attributes["fresh"] and ci.attributes["fresh_events"] and ci.attributes["fresh_schedule"] is None
    assert ci.attributes["runs_90d"] == 10
    assert ci.attributes["last_success_by_event"] == {"pull_request": ago(days=5), "push": ago(days=9)}
    assert ci.citation.source == "github" and ci.citation.endpoint == \
        f"GET /repos/{REPO}/actions/workflows/161335/runs?per_page=100"
    assert ci.citation.observed_at.startswith("2026-06-01T12:00:00") and ci.citation.response_digest.startswith("sha256:")

    train = workflows[".github/workflows/train.yml"]
    assert train.strength.value == "executed" and train.attributes["roles"] == ["training"]
    assert train.attributes["scheduled"] and train.attributes["fresh_schedule"] is True
    assert train.attributes["fresh_events"] is None  # workflow_dispatch is optional, never required to fire
    assert train.attributes["last_success_by_event"]["schedule"] == ago(days=3)
    assert any("event=schedule" in p and "status=success" in p for p, _ in fake.requests)

    nightly = workflows[".github/workflows/nightly-eval.yml"]
    assert nightly.strength.value == "mention" and nightly.downgrades == ["workflow disabled (disabled_inactivity)"]
    assert nightly.attributes["fresh_schedule"] is False  # 75 days old for a daily cron

    experimental = workflows[".github/workflows/experimental.yml"]
    assert experimental.attributes["state"] == "unregistered" and experimental.strength.value == "mention"
    assert workflows[".github/workflows/deploy.yml"].attributes["roles"] == ["deploy"]
    assert "dynamic/pages/pages-build-deployment" not in workflows

    rules = github_items(card, "github.branch_rules")["main"]
    assert rules.strength.value == "enforced"
    assert rules.attributes == {"branch": "main", "source": "ruleset", "required_approvals": 2,
                                "code_owner_review": True, "required_status_checks": ["test"], "status_checks": 1,
                                "dismiss_stale": True, "last_push_approval": True}

    envs = github_items(card, "github.environment")
    assert envs["production"].strength.value == "enforced"
    assert envs["production"].attributes == {"name": "production", "required_reviewers": 2, "prevent_self_review": True,
                                             "wait_timer": 10, "production": True}
    assert envs["staging"].strength.value == "configured" and envs["staging"].attributes["production"] is False

    deployments = github_items(card, "github.deployments")["production"]
    assert deployments.strength.value == "executed"
    assert deployments.attributes == {"environment": "production", "total": 3, "successful_90d": 2,
                                      "last_success": ago(days=2), "automated": True}

    practice = github_items(card, "github.review_practice")[""]
    assert practice.attributes == {"merged_prs": 3, "reviewed_by_other": 2, "share": 0.6667, "window": 50}
    flow = github_items(card, "github.commits_via_pr")["main"]
    assert flow.attributes == {"branch": "main", "commits": 3, "via_pr": 3, "share": 1.0, "window_days": 180}
    owners = github_items(card, "github.codeowners_errors")[""]
    assert owners.attributes == {"path": ".github/CODEOWNERS", "errors": 0} and owners.strength.value == "configured"
    assert not [e for e in card.evidence if e.probe == "github" and e.outcome == Outcome.unknown]

    # least privilege: rulesets answered, so the admin-only classic endpoint was never asked
    assert f"/repos/{REPO}/branches/main/protection" not in fake.paths()
    # Link pagination: second pages were followed (pull requests through /repositories/{id}/...)
    assert any(p.startswith(f"/repos/{REPO}/actions/workflows?") and "page=3" in p for p, _ in fake.requests)
    assert any(p.startswith(f"/repositories/{REPO_ID}/pulls?") and "page=2" in p for p, _ in fake.requests)
    assert any(p.startswith(f"/repos/{REPO}/rules/branches/main?") and "page=2" in p for p, _ in fake.requests)
    # every request carried the API headers; the token never leaks into the report
    for _, headers in fake.requests:
        assert headers["authorization"] == f"Bearer {TOKEN}"
        assert headers["accept"] == "application/vnd.github+json" and headers["x-github-api-version"] == "2022-11-28"
    assert TOKEN not in card.model_dump_json()


def test_criteria_move_from_unverified_to_pass(repo, fake, pack, env):
    offline = run_scan(repo, None, pack, offline=True)
    for criterion in GITHUB_CRITERIA:
        assert status_of(offline, criterion) == "unverified", criterion
    for criterion in NEWLY_DECIDED:  # only GitHub can show them: unknown, as while they were unobservable
        assert status_of(offline, criterion) == "unknown", criterion
    healthy(fake)
    linked = run_scan(repo, fake, pack)
    for criterion in GITHUB_CRITERIA + NEWLY_DECIDED:
        assert status_of(linked, criterion) == "pass", (criterion, next(c.reason for c in linked.criteria if c.id == criterion))


def test_api_showing_nothing_fails_the_criteria(repo, fake, pack, env):
    bare(fake)
    card = run_scan(repo, fake, pack)
    for criterion in GITHUB_CRITERIA + NEWLY_DECIDED:
        assert status_of(card, criterion) == "fail", criterion
    assert not github_items(card, "github.branch_rules")  # protected: false and no ruleset: nothing enforced
    assert f"/repos/{REPO}/branches/main/protection" not in fake.paths()
    ci = github_items(card, "github.workflow")[".github/workflows/ci.yml"]
    assert ci.strength.value == "configured" and ci.attributes["dormant"] and not ci.attributes["fresh"]
    owners = github_items(card, "github.codeowners_errors")[""]
    assert owners.attributes["errors"] == 1 and owners.strength.value == "mention" and owners.downgrades
    assert github_items(card, "github.review_practice")[""].attributes["merged_prs"] == 0


def test_offline_makes_no_request(repo, fake, pack, env):
    healthy(fake)
    card = run_scan(repo, fake, pack, offline=True)
    assert fake.requests == []
    items = [e for e in card.evidence if e.probe == "github"]
    assert {e.kind for e in items} == set(GITHUB_ONLY)
    assert all(e.outcome == Outcome.unknown and e.reason == "needs the GitHub API (github offline)" for e in items)
    reason = next(c.reason for c in card.criteria if c.id == "MD-1.1")
    assert "github offline" in reason


def test_cli_offline_flag_makes_no_request(repo, fake, env):
    from click.testing import CliRunner

    from scanner.cli import main

    healthy(fake)
    result = CliRunner().invoke(main, ["scan", str(repo), "--github-repo", REPO, "--github-api", fake.url, "--offline",
                                       "--format", "json", "--quiet"], catch_exceptions=False)
    assert fake.requests == []
    evidence = json.loads(result.output)["evidence"]
    assert {e["kind"] for e in evidence if e["probe"] == "github"} == set(GITHUB_ONLY)


def test_rate_limit_makes_the_rest_unknown_quickly(repo, fake, pack, env, monkeypatch):
    healthy(fake)
    slept: list[float] = []
    monkeypatch.setattr(github_api, "_sleep", slept.append)
    fake.refuse(f"/repos/{REPO}/actions/workflows", 403, "API rate limit exceeded for installation ID 123.",
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3000)})
    started = time.monotonic()
    card = run_scan(repo, fake, pack)
    assert time.monotonic() - started < 10 and slept == []
    limited = [e for e in card.evidence if e.probe == "github" and e.outcome == Outcome.unknown]
    assert {e.kind for e in limited} == {"github.workflow", "github.environment", "github.deployments",
                                         "github.review_practice", "github.commits_via_pr",
                                         "github.review_latency", "github.cross_boundary_reviews"}
    assert all(e.reason == "rate-limited" for e in limited)
    assert len(github_items(card, "github.workflow", Outcome.unknown)) == 5  # one per workflow file
    env_unknown = github_items(card, "github.environment", Outcome.unknown)[""]
    assert env_unknown.citation.source == "github" and env_unknown.citation.endpoint == \
        f"GET /repos/{REPO}/environments?per_page=100"
    # observations made before the limit stand; nothing was requested after it
    assert github_items(card, "github.branch_rules")["main"].strength.value == "enforced"
    assert fake.paths()[-1] == f"/repos/{REPO}/actions/workflows"


def test_spent_limit_on_a_success_stops_before_the_next_request(repo, fake, pack, env, monkeypatch):
    healthy(fake)
    monkeypatch.setattr(github_api, "_sleep", lambda seconds: pytest.fail("must not wait an hour"))
    fake.json(f"/repos/{REPO}/codeowners/errors", {"errors": []},
              headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)})
    card = run_scan(repo, fake, pack)
    assert github_items(card, "github.codeowners_errors")[""].attributes["errors"] == 0
    assert fake.paths()[-1] == f"/repos/{REPO}/codeowners/errors"
    assert github_items(card, "github.review_practice", Outcome.unknown)[""].reason == "rate-limited"


def test_retry_after_is_honoured_within_the_sleep_budget(repo, fake, pack, env, monkeypatch):
    healthy(fake)
    slept: list[float] = []
    monkeypatch.setattr(github_api, "_sleep", slept.append)
    answered = fake.routes[f"/repos/{REPO}/environments"]
    calls = {"n": 0}

    def limited_once(query: dict[str, str]) -> Answer:
        calls["n"] += 1
        if calls["n"] == 1:
            return 429, {"Retry-After": "1"}, {"message": "You have exceeded a secondary rate limit."}
        return answered(query)

    fake.routes[f"/repos/{REPO}/environments"] = limited_once
    card = run_scan(repo, fake, pack)
    assert slept == [1.0]
    assert github_items(card, "github.environment")["production"].strength.value == "enforced"
    assert not [e for e in card.evidence if e.probe == "github" and e.outcome == Outcome.unknown]


def test_classic_protection_refused_with_rulesets_uses_rulesets(repo, fake, pack, env):
    healthy(fake)
    base = f"/repos/{REPO}"
    fake.refuse(f"{base}/branches/main", 404, "Branch not found")  # even the summary is refused
    card = run_scan(repo, fake, pack)
    rules = github_items(card, "github.branch_rules")["main"]
    assert rules.attributes["source"] == "ruleset" and rules.attributes["required_approvals"] == 2
    assert not github_items(card, "github.branch_rules", Outcome.unknown)
    assert f"{base}/branches/main/protection" not in fake.paths()


def test_review_rules_hidden_behind_admin_are_unknown(repo, fake, pack, env):
    """Rulesets hold only status checks, the branch is protected, classic protection needs admin."""
    healthy(fake)
    base = f"/repos/{REPO}"
    fake.paged(f"{base}/rules/branches/main", [STATUS_RULE])
    card = run_scan(repo, fake, pack)
    unknown = github_items(card, "github.branch_rules", Outcome.unknown)["main"]
    assert unknown.citation.endpoint == f"GET {base}/branches/main/protection"
    assert "HTTP 403" in unknown.reason
    assert not github_items(card, "github.branch_rules")
    assert status_of(card, "GV-3.1") == "unknown"


def test_rules_and_protection_both_refused_are_unknown_with_endpoints(repo, fake, pack, env):
    healthy(fake)
    base = f"/repos/{REPO}"
    fake.refuse(f"{base}/rules/branches/main", 404, "Not Found")
    fake.refuse(f"{base}/branches/main", 404, "Branch not found")
    card = run_scan(repo, fake, pack)
    unknown = github_items(card, "github.branch_rules", Outcome.unknown)["main"]
    assert unknown.citation.endpoint == f"GET {base}/branches/main/protection"
    assert f"GET {base}/rules/branches/main?per_page=100 answered HTTP 404" in unknown.reason
    assert f"GET {base}/branches/main/protection answered HTTP 403" in unknown.reason
    assert status_of(card, "GV-3.1") == "unknown" and status_of(card, "CO-3.1") != "pass"


def test_classic_protection_when_readable(repo, fake, pack, env):
    healthy(fake)
    base = f"/repos/{REPO}"
    fake.paged(f"{base}/rules/branches/main", [])
    fake.json(f"{base}/branches/main/protection", {
        "url": f"https://api.github.com{base}/branches/main/protection",
        "required_status_checks": {"url": "", "strict": True, "contexts": ["test", "lint"], "contexts_url": "",
                                   "checks": [{"context": "test", "app_id": 15368}, {"context": "lint", "app_id": 15368}]},
        "enforce_admins": {"url": "", "enabled": True},
        "required_pull_request_reviews": {"url": "", "dismiss_stale_reviews": False, "require_code_owner_reviews": False,
                                          "required_approving_review_count": 1, "require_last_push_approval": False},
        "required_linear_history": {"enabled": False}, "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False}})
    card = run_scan(repo, fake, pack)
    rules = github_items(card, "github.branch_rules")["main"]
    assert rules.attributes["source"] == "classic" and rules.attributes["required_approvals"] == 1
    assert rules.attributes["required_status_checks"] == ["lint", "test"] and not rules.attributes["code_owner_review"]
    assert status_of(card, "GV-3.1") == "pass" and status_of(card, "CO-3.1") == "fail"


def test_unreachable_service_stops_after_one_request(repo, pack, env):
    with socket.socket() as probe_socket:  # a loopback port nobody listens on
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    card = scan(repo, github_repo=REPO, github_api=f"http://127.0.0.1:{port}", pack=pack)
    unknown = [e for e in card.evidence if e.probe == "github"]
    assert unknown and all(e.outcome == Outcome.unknown and "connection failed" in e.reason for e in unknown)
    for criterion in GITHUB_CRITERIA:
        assert status_of(card, criterion) == "unverified", criterion


def test_next_link_to_another_origin_is_not_followed(repo, fake, pack, env):
    """The token travels with every request: pagination stays on the API's own origin."""
    healthy(fake)
    other = fake.url.replace("127.0.0.1", "localhost")  # still loopback, but another origin
    fake.json(f"/repos/{REPO}/pulls", [pull(41, ANN, ago(days=1))],
              headers={"Link": f'<{other}/repos/{REPO}/pulls?page=2>; rel="next"'})
    card = run_scan(repo, fake, pack)
    assert github_items(card, "github.review_practice")[""].attributes["merged_prs"] == 1
    assert all(headers.get("host", "").startswith("127.0.0.1") for _, headers in fake.requests)


def test_rejected_token_stops_at_the_first_request(repo, fake, pack, env):
    healthy(fake)
    fake.refuse(f"/repos/{REPO}", 401, "Bad credentials")
    card = run_scan(repo, fake, pack)
    assert len(fake.requests) == 1
    unknown = [e for e in card.evidence if e.probe == "github"]
    assert unknown and all(e.outcome == Outcome.unknown and "HTTP 401" in e.reason for e in unknown)
    assert {e.kind for e in unknown} == {k.name for k in PROBE.kinds}


@pytest.mark.parametrize("cron, minutes", [
    ("*/15 * * * *", 15),
    ("0 3 * * 1", 7 * 24 * 60),
    ("30 1 * * *", 24 * 60),
    ("0 9 1 1,4,7,10 *", 92 * 24 * 60),
    ("0 0 * * MON-FRI", 3 * 24 * 60),
    ("0 6,18 * * *", 12 * 60),
    ("0 0 1 * *", 31 * 24 * 60),
    ("61 * * * *", None),
    ("@daily", None),
])
def test_cron_interval(cron: str, minutes: Optional[int]) -> None:
    assert interval_minutes(cron) == minutes


def test_next_link_parsing() -> None:
    headers = {"link": '<https://api.github.com/repositories/1/pulls?page=2>; rel="next", '
                       '<https://api.github.com/repositories/1/pulls?page=5>; rel="last"'}
    assert github_api.next_link(headers) == "https://api.github.com/repositories/1/pulls?page=2"
    assert github_api.next_link({"Link": '<https://x/y?page=1>; rel="prev"'}) is None



# -- review latency and reviews across the model/serving boundary (CO 3.2, CO 4.4) -----------------

DANA = user("dana-wu", uid=104)


def test_review_latency_and_cross_boundary_reviews(repo, fake, pack, env):
    healthy(fake)
    card = run_scan(repo, fake, pack)
    latency = github_items(card, "github.review_latency")[""]
    # 41: 2 h; 38: Tuesday noon to Wednesday noon, 24 h; 37: never reviewed by another human
    assert latency.attributes == {"merged_prs": 3, "reviewed": 2, "within_day": 2, "median_weekday_hours": 24.0,
                                  "window": 50}
    assert latency.strength.value == "executed" and latency.citation.source == "github"
    assert latency.citation.endpoint.startswith(f"GET /repos/{REPO}/pulls?")
    boundary = github_items(card, "github.cross_boundary_reviews")[""]
    # 41 (train + chart) approved by Bo (ml-team) and Cy (platform); 37 (serving + train) by nobody
    assert boundary.attributes == {"examined": 3, "crossing": 2, "both_sides": 1, "unresolved": 0, "share": 0.5,
                                   "codeowners": ".github/CODEOWNERS", "window": 30}
    assert status_of(card, "CO-3.2") == "pass" and status_of(card, "CO-4.4") == "pass"
    # least privilege: only the teams owning a crossing pull request's files were asked, once each
    teams = [p for p in fake.paths() if p.startswith("/orgs/")]
    assert sorted(teams) == ["/orgs/acme/teams/ml-team/members", "/orgs/acme/teams/platform/members"]
    # reviews were read once per pull request, shared by the three review sections
    reviews = [p for p in fake.paths() if p.endswith("/reviews")]
    assert len(reviews) == len(set(reviews)) == 3


def test_approvals_from_one_side_only_do_not_count(repo, fake, pack, env):
    healthy(fake)
    base = f"/repos/{REPO}"
    # two approvals, both from modelling: the serving owners never looked at the chart change
    fake.json(f"{base}/pulls/41/reviews", [review(1, 41, BO, "APPROVED", ago(days=3)),
                                           review(2, 41, DANA, "APPROVED", ago(days=3))])
    fake.paged("/orgs/acme/teams/ml-team/members", [ANN, BO, DANA], cap=100)
    card = run_scan(repo, fake, pack)
    boundary = github_items(card, "github.cross_boundary_reviews")[""]
    assert (boundary.attributes["crossing"], boundary.attributes["both_sides"]) == (2, 0)
    assert boundary.attributes["share"] == 0.0
    assert status_of(card, "CO-3.2") == "fail"


def test_unreadable_owner_teams_leave_the_boundary_unverified(repo, fake, pack, env):
    healthy(fake)
    base = f"/repos/{REPO}"
    fake.json(f"{base}/pulls/37/reviews", [review(7, 37, BO, "APPROVED"), review(8, 37, DANA, "APPROVED")])
    for team in ("ml-team", "platform"):  # a token without organisation read
        fake.refuse(f"/orgs/acme/teams/{team}/members", 403, "Resource not accessible by integration")
    card = run_scan(repo, fake, pack)
    unknown = github_items(card, "github.cross_boundary_reviews", Outcome.unknown)[""]
    assert "owner teams could not be resolved" in unknown.reason and "HTTP 403" in unknown.reason
    assert unknown.citation.endpoint.startswith("GET /orgs/acme/teams/")
    assert not github_items(card, "github.cross_boundary_reviews")
    # CODEOWNERS names three groups: the practice is configured, GitHub could not prove it
    result = next(c for c in card.criteria if c.id == "CO-3.2")
    assert result.status == "unverified" and "github could not answer" in result.reason
    assert github_items(card, "github.review_latency")[""].outcome == Outcome.present


def test_slow_first_reviews_fail_the_working_day(repo, fake, pack, env):
    healthy(fake)
    base = f"/repos/{REPO}"
    fake.json(f"{base}/pulls/38/reviews", [review(3, 38, CY, "APPROVED", ago(days=1))])  # Tuesday to Sunday
    card = run_scan(repo, fake, pack)
    latency = github_items(card, "github.review_latency")[""]
    assert latency.attributes["median_weekday_hours"] == 84.0  # Tue 12:00 to Sat 00:00; the weekend is free
    assert latency.attributes["within_day"] == 1
    assert status_of(card, "CO-4.4") == "fail"


def test_files_rate_limited_leaves_the_boundary_unknown(repo, fake, pack, env, monkeypatch):
    healthy(fake)
    monkeypatch.setattr(github_api, "_sleep", lambda seconds: pytest.fail("must not wait"))
    fake.refuse(f"/repos/{REPO}/pulls/41/files", 403, "API rate limit exceeded for user ID 101.",
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3000)})
    card = run_scan(repo, fake, pack)
    assert github_items(card, "github.cross_boundary_reviews", Outcome.unknown)[""].reason == "rate-limited"
    assert github_items(card, "github.review_latency")[""].attributes["median_weekday_hours"] == 24.0
    assert fake.paths()[-1] == f"/repos/{REPO}/pulls/41/files"


def test_no_pull_requests_and_no_link(repo, fake, pack, env):
    bare(fake)
    card = run_scan(repo, fake, pack)
    boundary = github_items(card, "github.cross_boundary_reviews")[""]
    assert boundary.attributes["crossing"] == 0  # the rubric's N/A: nothing crossed the boundary
    assert status_of(card, "CO-3.2") == "pass"
    assert github_items(card, "github.review_latency")[""].attributes["median_weekday_hours"] is None
    assert status_of(card, "CO-4.4") == "fail"
    offline = run_scan(repo, None, pack, offline=True)
    assert status_of(offline, "CO-3.2") == "unverified"  # CODEOWNERS with three groups: configured
    assert status_of(offline, "CO-4.4") == "unknown"  # nothing in a repository shows review speed


def test_weekday_hours() -> None:
    utc = timezone.utc
    friday_5pm, monday_10am = datetime(2026, 5, 29, 17, tzinfo=utc), datetime(2026, 6, 1, 10, tzinfo=utc)
    assert weekday_hours(friday_5pm, monday_10am) == 17.0
    assert weekday_hours(datetime(2026, 5, 30, 9, tzinfo=utc), datetime(2026, 5, 31, 18, tzinfo=utc)) == 0.0
    assert weekday_hours(monday_10am, friday_5pm) == 0.0  # reviewed "before" it was opened: clock skew
    assert weekday_hours(monday_10am, monday_10am + timedelta(days=7)) == 120.0
    assert weekday_hours(monday_10am, monday_10am + timedelta(days=3650)) <= 400 * 24  # bounded


@pytest.mark.parametrize("path, side", [
    ("src/train.py", "model"), ("training/pipeline.py", "model"), ("dvc.lock", "model"), ("data/raw.csv.dvc", "model"),
    ("features/customer.py", "model"), ("serving/model.py", "serving"), ("charts/churn/values.yaml", "serving"),
    ("Dockerfile", "serving"), ("infra/main.tf", "serving"), ("src/churn/serve.py", "serving"),
    ("tests/test_train.py", None), ("README.md", None), ("src/churn/utils.py", None),
])
def test_path_side(path: str, side: Optional[str]) -> None:
    assert path_side(path) == side
