"""Prometheus alerting rules as two probes read them: rule files and ``PrometheusRule`` resources.

The ops probe reports rule files (how many alerts, drift-related or not, runbooks); the
model_signals probe judges single alerts (staleness, latency and errors of the model service).
Both need the same three answers, so they share them here: which documents hold rule groups,
which ``rule_files`` globs a Prometheus server config lists, and whether a rule file is one of
them (a rule file nobody loads alerts no one).
"""

from __future__ import annotations

import posixpath
from fnmatch import fnmatch
from typing import Any, Iterable, NamedTuple, Optional

from scanner.facts.yamldoc import YMap, dig, entry_span, span


class RuleGroups(NamedTuple):
    groups: Any  # the `groups:` list (validated item by item by the reader)
    source: str  # prometheus (a rule file) or prometheus_operator (a PrometheusRule)
    name: str  # the PrometheusRule's name; empty for a rule file
    lines: tuple[int, int]  # the resource, or the `groups:` entry of a rule file


def rule_groups(doc: Any) -> Optional[RuleGroups]:
    """The rule groups of one YAML document, or None when it holds none."""
    if not isinstance(doc, YMap):
        return None
    if doc.get("kind") == "PrometheusRule":
        return RuleGroups(dig(doc, "spec", "groups"), "prometheus_operator", str(dig(doc, "metadata", "name") or ""),
                          span(doc))
    groups = doc.get("groups")
    if isinstance(groups, list) and any(isinstance(g, dict) and isinstance(g.get("rules"), list) for g in groups):
        return RuleGroups(groups, "prometheus", "", entry_span(doc, "groups"))
    return None


def rule_file_globs(configs: Iterable[tuple[str, Optional[list[Any]]]]) -> list[tuple[str, list[str]]]:
    """(config path, ``rule_files`` patterns) of every Prometheus server config among
    ``configs`` ((path, YAML documents) pairs)."""
    found = []
    for path, docs in configs:
        for doc in docs or []:
            entries = dig(doc, "rule_files")
            if isinstance(entries, list):
                found.append((path, [str(e) for e in entries if isinstance(e, str)]))
    return found


def loaded(path: str, configs: list[tuple[str, list[str]]]) -> Optional[bool]:
    """Whether some ``rule_files`` glob lists this rule file (None: no server config to tell).

    A server resolves the globs against its own file system, not the repository, so besides the
    glob joined to the config's folder, the glob's last two segments (``rules/*.yml`` of
    ``/etc/prometheus/rules/*.yml``) are compared with the end of the path. The file name alone
    is not enough: ``*.yml`` would claim every rule file of the repository."""
    if not configs:
        return None
    for config_path, patterns in configs:
        for pattern in patterns:
            relative = pattern if pattern.startswith("../") else pattern.lstrip("./")
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(config_path), relative))
            tail = "/".join(pattern.rstrip("/").split("/")[-2:])
            if (fnmatch(path, joined) or fnmatch(path, relative) or fnmatch(path, tail)
                    or fnmatch(path, "*/" + tail.lstrip("/"))):
                return True
    return False
