"""Attribute models of the ``repo`` probe's kinds (see probes/repo.py for what each one means).

Kept apart from the probe so the collectors (``_repo_*.py``) can import them without a cycle.
Lists are sorted and capped by the collectors, so the same tree always gives the same attributes.
"""

from __future__ import annotations

from typing import Literal, Optional

from scanner.probe import Attributes, measurement


class MlCode(Attributes):
    modules: int
    notebooks: int
    libraries: list[str]
    notebook_only: bool
    entrypoints: list[str]


class DataPrep(Attributes):
    modules: int
    paths: list[str]
    reads: int
    writes: int


class FeatureTests(Attributes):
    test_files: int
    modules_tested: list[str]


class Readme(Attributes):
    words: int
    has_setup: bool
    describes_model: bool
    sections: list[str]


class License(Attributes):
    spdx: Optional[str]


class Empty(Attributes):
    """Presence-only kinds (contributing guide, security policy)."""

    empty: bool = False


class Codeowners(Attributes):
    rules: int
    owners: list[str]
    owner_groups: int
    catch_all_only: bool
    covers_ml_paths: bool
    ml_paths_covered: list[str]
    location: str
    sections: int


class PrTemplate(Attributes):
    path: str
    templates: int


class IssueTemplates(Attributes):
    count: int
    forms: int
    invalid_forms: int


class EnvSpec(Attributes):
    files: list[str]
    locked: bool
    lock_files: list[str]


class DevTooling(Attributes):
    precommit: bool
    precommit_hooks: int
    devcontainer: bool
    task_runner: list[str]
    notebook_hygiene: bool


class DesignDocs(Attributes):
    adrs: int
    docs_site: Optional[Literal["mkdocs", "sphinx"]]
    architecture_doc: bool


class Template(Attributes):
    tool: Literal["copier", "cookiecutter"]
    template: Optional[str]
    commit: Optional[str]


class CommittedBinary(Attributes):
    category: Literal["data", "model"]
    extension: str
    size_bytes: int
    hand_named: bool
    changed_180d: Optional[bool]


class Contributors(Attributes):
    humans_180d: int = measurement()
    humans_total: int = measurement()
    bots: int = measurement()
    commits_180d: int = measurement()
    human_commits_180d: int = measurement()
    bot_only: bool = measurement()
    window_days: int
    top_share: float = measurement()
    head: str = measurement()


class BusFactor(Attributes):
    authors: int = measurement()
    ml_commits: int = measurement()
    months_active_6m: int = measurement()
    window_days: int
    head: str = measurement()
