"""Repository basics every dimension's levels 0-1 rest on, and what git history says about the team.

RUBRIC.md: X-1 (is this ML at all), DM-a/MD-a (binaries committed to git, negative), DM-b (data
prep in modules), DM-i (feature tests), GV-c (license, security policy), CO-a/b/c/d/f/i/k/m/n
(contributors, onboarding, templates, hooks, CODEOWNERS, bus factor, design docs, shared
templates, cadence). The collectors live in ``probes/_repo_*.py``; this module declares the probe.

Anti-gaming (§2.3): notebook-only ML code, a README under 30 words, a CODEOWNERS with one
catch-all rule or no rules, and bot-only history are downgraded to ``mention`` with a reason.
"""

from __future__ import annotations

from typing import Iterable

from scanner.models import Evidence
from scanner.probe import Kind, Probe, ProbeContext

from . import _repo_models as m
from ._repo_binary import PATTERNS as BINARY_PATTERNS
from ._repo_binary import collect_committed_binaries
from ._repo_code import (
    PYTHON_PREFILTER, collect_data_prep, collect_feature_tests, collect_ml_code,
    data_prep_modules, ml_files,
)
from ._repo_docs import (
    by_lower, collect_community_file, collect_design_docs, collect_issue_templates, collect_license,
    collect_pr_template, collect_readme, collect_template,
)
from ._repo_env import collect_dev_tooling, collect_env_spec
from ._repo_history import collect_bus_factor, collect_contributors
from ._repo_owners import collect_codeowners

ENV_PATTERNS = (
    "**/requirements*.txt", "**/requirements/*.txt", "**/requirements*.lock", "**/pyproject.toml",
    "**/setup.cfg", "**/setup.py", "**/environment*.yml", "**/environment*.yaml", "**/Pipfile",
    "**/Pipfile.lock", "**/poetry.lock", "**/uv.lock", "**/pdm.lock", "**/*conda-lock.yml",
    "**/*conda-lock.yaml", "**/conda-*.lock", "**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile",
    "**/*.dockerfile",
)
DOC_PATTERNS = (
    "*", ".github/**", ".gitlab/**", ".devcontainer/**", "docs/**", "doc/**", "documentation/**",
    "**/adr/**", "**/adrs/**", "**/decisions/**", "**/decision-records/**", "**/architecture-decisions/**",
)


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    lower = by_lower(ctx.paths)
    ml = set(ml_files(ctx.facts.python))
    yield from collect_ml_code(ctx)
    prep = data_prep_modules(ctx.facts.python)
    yield from collect_data_prep(ctx, prep, ml)
    yield from collect_feature_tests(ctx, set(prep) - ml)
    yield from collect_readme(ctx, lower)
    yield from collect_license(ctx, lower)
    yield from collect_community_file(ctx, lower, "repo.contributing", "contributing", "CONTRIBUTING")
    yield from collect_community_file(ctx, lower, "repo.security_policy", "security", "SECURITY policy")
    yield from collect_codeowners(ctx)
    yield from collect_pr_template(ctx, lower)
    yield from collect_issue_templates(ctx, lower)
    yield from collect_env_spec(ctx)
    yield from collect_dev_tooling(ctx)
    yield from collect_design_docs(ctx, lower)
    yield from collect_template(ctx, lower)
    yield from collect_committed_binaries(ctx)
    yield from collect_contributors(ctx)
    yield from collect_bus_factor(ctx, ml)


PROBE = Probe(
    id="repo",
    title="Repository basics: ML code, docs, ownership, environment, committed binaries, contributors",
    patterns=DOC_PATTERNS + ENV_PATTERNS + BINARY_PATTERNS,
    kinds=(
        Kind("repo.ml_code", m.MlCode, "Python modules or notebooks import ML libraries (X-1); downgraded when notebooks only"),
        Kind("repo.data_prep", m.DataPrep, "Non-test .py modules read or write data (pandas, Spark, SQL, open on data files) (DM-b)"),
        Kind("repo.feature_tests", m.FeatureTests, "Test files import the project's feature/transform/data modules (DM-i)"),
        Kind("repo.readme", m.Readme, "A README, its length, setup section and headings; downgraded under 30 words"),
        Kind("repo.license", m.License, "A LICENSE file, with the SPDX id guessed from its text (GV-c)"),
        Kind("repo.contributing", m.Empty, "A CONTRIBUTING guide (CO-b)"),
        Kind("repo.security_policy", m.Empty, "A SECURITY policy (GV-c)"),
        Kind("repo.codeowners", m.Codeowners, "CODEOWNERS rules, owners and ML-path coverage (CO-f); catch-all-only is downgraded"),
        Kind("repo.pr_template", m.PrTemplate, "A pull/merge request template (CO-c)"),
        Kind("repo.issue_templates", m.IssueTemplates, "Issue templates and YAML issue forms (CO-c)"),
        Kind("repo.env_spec", m.EnvSpec, "Environment specs (requirements, pyproject deps, conda, locks, Dockerfile) (CO-b, ET-i)"),
        Kind("repo.dev_tooling", m.DevTooling, "pre-commit, devcontainer, task runners, notebook hygiene (CO-b, CO-d)"),
        Kind("repo.design_docs", m.DesignDocs, "Architecture decision records and a docs site config (CO-k)"),
        Kind("repo.template", m.Template, "The project was generated from a shared Copier/cookiecutter template (CO-m)"),
        Kind("repo.committed_binary", m.CommittedBinary, "A data or model binary committed to git outside LFS (DM-a, MD-a; negative)"),
        Kind("repo.contributors", m.Contributors, "Human and bot authors over 180 days from git history (CO-a; bot-only downgraded)"),
        Kind("repo.bus_factor", m.BusFactor, "Fewest authors covering half the ML-path commits in 180 days; ML activity months (CO-i, CO-n)"),
    ),
    collect=collect,
    python_tokens=PYTHON_PREFILTER,
    needs_history=True,
    weight=2,  # history, docs and the whole path list
)
