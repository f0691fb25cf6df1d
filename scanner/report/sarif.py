"""SARIF 2.1.0: the scorecard (and a diff's regressions) as code-scanning results.

Why SARIF: GitHub code scanning, GitLab, Azure DevOps and IDE viewers all read it, so the gaps
that block a target level show up next to the files that cite them, and a pull request that
lowers maturity gets an alert on the lines it changed.

Choices that keep alerts stable across runs:

- One rule per criterion of the pack, all declared on every run (plus the synthetic diff rules),
  whether or not they fired: a consumer can then tell "ran and found nothing" (the alert is
  fixed) from "not run".
- ``partialFingerprints`` carry our own ids under namespaced keys (``mlscanEvidence/v1``: the
  evidence fingerprint, which has no line numbers; else ``mlscanCriterion/v1``). We never write
  ``primaryLocationLineHash``: GitHub's upload action computes that one from the file and warns
  about any value it did not compute itself.
- Paths are relative to the repository root (``%SRCROOT%``), also when a subdirectory was
  scanned, because that is what code scanning matches against committed files.
- Output is sorted and carries no clock time beyond the scorecard's own ``generated_at``.

Waived criteria are results with an accepted external suppression (``result.suppressions``); an inactive
waiver (expired, unjustified) shows as a rejected suppression on the result it failed to hide.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Optional
from urllib.parse import quote

from ..gaps import blocking_criteria, target_levels
from ..models import (
    Citation,
    CriterionResult,
    DiffResult,
    Evidence,
    Regression,
    Scorecard,
    Waiver,
)
from ..rulepack import Criterion, RulePack
from .markdown import md_escape

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
MAX_DESCRIPTION = 1000  # GitHub cuts rule descriptions at 1024 characters

LEVEL_DROP = "MLSCAN-LEVEL-DROP"
EVIDENCE_LOST = "MLSCAN-EVIDENCE-LOST"
WAIVER = "MLSCAN-WAIVER"
CRITERION_REGRESSION = "MLSCAN-CRITERION-REGRESSION"

# Synthetic rules for diff regressions that are not about one criterion of the pack.
SYNTHETIC_RULES: dict[str, tuple[str, str, str]] = {
    LEVEL_DROP: (
        "MaturityLevelDrop",
        "A dimension's maturity level dropped between the base and the head of the change",
        ("The change lowers the level of a dimension. Look at the criteria that regressed in the same "
         "report and restore the evidence they cited, or record a waiver with a justification in .mlscan.yaml."),
    ),
    EVIDENCE_LOST: (
        "EvidenceLost",
        "Evidence present at the base of the change is gone at its head",
        ("A cited fact (a CI gate, a pipeline stage, a validation suite...) disappeared or was weakened. "
         "Restore it, or confirm the loss is intended: it may not lower a level yet, but the next change might."),
    ),
    WAIVER: (
        "UnjustifiedWaiver",
        "A waiver in .mlscan.yaml does not apply: it has expired or gives no justification",
        ("Give the waiver a justification, an owner and a future expiry date in .mlscan.yaml, or remove it "
         "and meet the criterion."),
    ),
    CRITERION_REGRESSION: (
        "CriterionRegression",
        "A criterion met at the base of the change is no longer met at its head",
        ("Restore the evidence the criterion cited at the base of the change; `mlscan explain <criterion>` "
         "says what it needs."),
    ),
}
_TYPE_RULE = {"level-drop": LEVEL_DROP, "evidence-lost": EVIDENCE_LOST, "unjustified-waiver": WAIVER}


def render_sarif(
    card: Scorecard,
    pack: RulePack,
    *,
    diff: Optional[DiffResult] = None,
    targets: Optional[dict[str, int]] = None,
    config_path: str = ".mlscan.yaml",
) -> str:
    """One SARIF run: the criteria blocking ``targets`` (default: each dimension's next level),
    every waived criterion (suppressed), and, with ``diff``, one result per regression."""
    targets = dict(targets or {})
    rules = _rules(pack)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    ctx = _Context(card, config_path)
    results = _blocking_results(card, pack, targets, ctx)
    results += _waived_results(card, ctx)
    if diff is not None:
        results += _regression_results(diff, index, ctx)
    for result in results:
        result["ruleIndex"] = index[result["ruleId"]]
    results.sort(key=_result_key)
    run: dict[str, Any] = {
        "tool": {"driver": _driver(card, rules)},
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the scanned git repository"}}},
        "results": results,
        "invocations": [_invocation(card)],
        "properties": _run_properties(card, pack, targets, diff),
    }
    provenance = _provenance(card)
    if provenance:
        run["versionControlProvenance"] = [provenance]
    log = {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- rules ------------------------------------------------------------------------------------


def _rules(pack: RulePack) -> list[dict[str, Any]]:
    """Every criterion of the pack, then the synthetic rules: the same list on every run."""
    rules = [_criterion_rule(c, pack.dimension(c.dimension).title) for c in pack.criteria()]
    rules.sort(key=lambda r: r["id"])
    for rule_id in sorted(SYNTHETIC_RULES):
        name, short, help_text = SYNTHETIC_RULES[rule_id]
        rules.append({
            "id": rule_id,
            "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": help_text},
            "help": {"text": help_text, "markdown": md_escape(help_text)},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["mlops", "maturity", "regression"], "precision": "high"},
        })
    return rules


def _criterion_rule(criterion: Criterion, dimension_title: str) -> dict[str, Any]:
    needs = ("not observable by a probe yet: " + criterion.unobservable) if criterion.unobservable \
        else f"needs {criterion.min_strength.value} evidence"
    about = f"{dimension_title}, level {criterion.level}; {needs}."
    text = f"{criterion.remediation}\n\n{about}\nRun `mlscan explain {criterion.id}` for details."
    markdown = (f"{md_escape(criterion.remediation)}\n\n{md_escape(about)}\n\n"
                f"Run `mlscan explain {_code(criterion.id)}` for details.")
    properties: dict[str, Any] = {
        "dimension": criterion.dimension,
        "level": criterion.level,
        "min_strength": criterion.min_strength.value,
        "effort": criterion.effort,
        "tags": ["mlops", "maturity", criterion.dimension, f"level-{criterion.level}"],
        "precision": "high",
    }
    if criterion.verify_with:
        properties["verify_with"] = sorted(criterion.verify_with)
    return {
        "id": criterion.id,
        "name": _pascal(criterion.title),
        "shortDescription": {"text": _cap(criterion.title)},
        "fullDescription": {"text": _cap(criterion.remediation)},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": "error"},
        "properties": properties,
    }


def _driver(card: Scorecard, rules: list[dict[str, Any]]) -> dict[str, Any]:
    version = card.header.scanner_version
    driver: dict[str, Any] = {"name": card.header.scanner or "mlscan", "version": version, "rules": rules}
    if re.fullmatch(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?", version):
        driver["semanticVersion"] = version
    return driver


# -- results ----------------------------------------------------------------------------------


class _Context:
    """What every result needs: evidence by id, the repo-root prefix, the fallback location."""

    def __init__(self, card: Scorecard, config_path: str):
        self.evidence: dict[str, Evidence] = {e.id: e for e in card.evidence}
        self.prefix = (card.header.target.subpath or "").strip("/")
        self.config_path = config_path

    def repo_path(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def cited(self, evidence_ids: list[str]) -> Optional[tuple[Evidence, Citation]]:
        """The first evidence (in the order given) with a file citation in the repository."""
        for eid in evidence_ids:
            item = self.evidence.get(eid)
            if item is not None and _is_repo_file(item.citation):
                assert item.citation is not None
                return item, item.citation
        return None

    def file_location(self, citation: Citation) -> dict[str, Any]:
        assert citation.path is not None
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(self.repo_path(citation.path)), "uriBaseId": SRCROOT}}
        if citation.start_line and citation.start_line >= 1:
            end = max(citation.end_line or citation.start_line, citation.start_line)
            # No endColumn: SARIF then means "to the end of endLine", i.e. whole lines.
            physical["region"] = {"startLine": citation.start_line, "startColumn": 1, "endLine": end}
        return {"physicalLocation": physical}

    def config_location(self) -> dict[str, Any]:
        """Where findings without a cited file point: the config that sets targets and waivers."""
        path = self.config_path or ".mlscan.yaml"
        if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
            artifact: dict[str, Any] = {"uri": _file_uri(path)}
        else:
            artifact = {"uri": _uri(self.repo_path(_normalise(path))), "uriBaseId": SRCROOT}
        return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": 1, "startColumn": 1, "endLine": 1}}}


def _blocking_results(card: Scorecard, pack: RulePack, targets: dict[str, int], ctx: _Context) -> list[dict[str, Any]]:
    goal = target_levels(card, targets)
    rejected = {w.criterion: w for w in card.waivers if not w.active}
    out = []
    for criterion in blocking_criteria(card, targets):
        dim_title = _dimension_title(card, pack, criterion.dimension)
        if criterion.status == "unknown":
            level, text = "note", f"{criterion.id} not verifiable: {criterion.reason or 'no reason given'}"
        else:
            level = "error"
            text = (f"{criterion.id} blocks {dim_title} level {goal[criterion.dimension]}: {criterion.title}. "
                    f"Why: {_sentence(criterion.reason or 'no evidence')}")
        result = _criterion_result(criterion, level, text, ctx)
        result["properties"] = {"status": criterion.status, "target_level": goal[criterion.dimension]}
        waiver = rejected.get(criterion.id)
        if waiver is not None:
            result["suppressions"] = [_suppression(waiver, "rejected")]
        out.append(result)
    return out


def _waived_results(card: Scorecard, ctx: _Context) -> list[dict[str, Any]]:
    waivers = {w.criterion: w for w in card.waivers if w.active}
    out = []
    for criterion in card.criteria:
        if criterion.status != "waived":
            continue
        text = f"{criterion.id} waived: {criterion.title}. {_sentence(criterion.reason)}"
        result = _criterion_result(criterion, "note", text, ctx)
        result["properties"] = {"status": "waived", "self_reported": True}
        waiver = waivers.get(criterion.id) or Waiver(criterion=criterion.id, reason="waived", justification=criterion.reason)
        result["suppressions"] = [_suppression(waiver, "accepted")]
        out.append(result)
    return out


def _criterion_result(criterion: CriterionResult, level: str, text: str, ctx: _Context) -> dict[str, Any]:
    cited = ctx.cited(criterion.evidence)
    if cited is not None:
        evidence, citation = cited
        location = ctx.file_location(citation)
        fingerprints = {"mlscanEvidence/v1": evidence.id}
    else:
        location = ctx.config_location()
        fingerprints = {"mlscanCriterion/v1": criterion.id}
    return {
        "ruleId": criterion.id,
        "level": level,
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": fingerprints,
    }


def _regression_results(diff: DiffResult, index: dict[str, int], ctx: _Context) -> list[dict[str, Any]]:
    """One result per regression; ``error`` when its type trips the diff's policy."""
    head_criteria = {c.id: c for c in diff.head_card.criteria}
    out = []
    for regression in diff.regressions:
        rule_id = _regression_rule(regression, index)
        location, fingerprints, at_base = _regression_anchor(regression, head_criteria.get(regression.criterion or ""), ctx, diff)
        fingerprints["mlscanRegression/v1"] = regression.type
        text = _sentence(regression.message) or regression.type
        if at_base:
            text += f" (lines of the base commit {(diff.base.commit or '')[:12]})"
        blocking = regression.blocking
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "level": "error" if blocking else "warning",
            "message": {"text": text},
            "locations": [location],
            "partialFingerprints": fingerprints,
            "properties": {"regression": regression.type, "blocking": blocking},
        }
        if regression.dimension:
            result["properties"]["dimension"] = regression.dimension
        out.append(result)
    return out


def _regression_rule(regression: Regression, index: dict[str, int]) -> str:
    if regression.type == "criterion-regression":
        return regression.criterion if regression.criterion in index else CRITERION_REGRESSION
    return _TYPE_RULE.get(regression.type, CRITERION_REGRESSION)


def _regression_anchor(regression: Regression, head: Optional[CriterionResult], ctx: _Context,
                       diff: DiffResult) -> tuple[dict[str, Any], dict[str, str], bool]:
    """Where a regression points, preferring lines that exist at the head (where the alert is shown):
    the head evidence of the regressed criterion (e.g. the job now marked continue-on-error), then the
    regression's own citation (base lines for evidence that is gone), then the config file."""
    if head is not None:
        cited = ctx.cited(head.evidence)
        if cited is not None:
            return ctx.file_location(cited[1]), {"mlscanEvidence/v1": cited[0].id}, False
    if _is_repo_file(regression.citation):
        assert regression.citation is not None
        key = regression.evidence[0] if regression.evidence else None
        fingerprints = {"mlscanEvidence/v1": key} if key else _identity(regression)
        commit = regression.citation.commit
        at_base = bool(commit) and commit == diff.base.commit and commit != diff.head.commit
        return ctx.file_location(regression.citation), fingerprints, at_base
    cited = ctx.cited(regression.evidence)
    if cited is not None:
        return ctx.file_location(cited[1]), {"mlscanEvidence/v1": cited[0].id}, False
    return ctx.config_location(), _identity(regression), False


def _identity(regression: Regression) -> dict[str, str]:
    if regression.criterion:
        return {"mlscanCriterion/v1": regression.criterion}
    return {"mlscanDimension/v1": regression.dimension or "all"}


def _suppression(waiver: Waiver, status: str) -> dict[str, Any]:
    justification = waiver.justification.strip() or waiver.note or "no justification given"
    if status == "rejected" and waiver.note:
        justification = f"waiver does not apply: {waiver.note}"
    props = {k: v for k, v in (("reason", waiver.reason), ("owner", waiver.owner), ("expires", waiver.expires)) if v}
    props["self_reported"] = True
    return {"kind": "external", "status": status, "justification": justification, "properties": props}


def _result_key(result: dict[str, Any]) -> tuple:
    physical = result["locations"][0]["physicalLocation"]
    region = physical.get("region", {})
    return (
        result["ruleIndex"],
        json.dumps(result["partialFingerprints"], sort_keys=True),
        physical["artifactLocation"]["uri"],
        region.get("startLine", 0),
        result["message"]["text"],
    )


# -- run metadata -----------------------------------------------------------------------------


def _invocation(card: Scorecard) -> dict[str, Any]:
    """Scan problems (a probe that raised, an unreadable file) as tool notifications."""
    notes = [
        {"level": "warning", "message": {"text": f"{p.scope} {p.subject}: {p.message}"}, "descriptor": {"id": f"mlscan/{p.scope}"}}
        for p in card.errors
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _run_properties(card: Scorecard, pack: RulePack, targets: dict[str, int], diff: Optional[DiffResult]) -> dict[str, Any]:
    head = card.header
    goal = target_levels(card, targets)
    props: dict[str, Any] = {
        "generated_at": head.generated_at,
        "rule_pack": {"id": head.rule_pack.id, "version": head.rule_pack.version, "sha256": head.rule_pack.sha256},
        "target": head.target.model_dump(mode="json", exclude_none=True),
        "dimensions": {
            d.id: {"level": d.level, "verified_level": d.verified_level, "target": goal[d.id]} for d in card.dimensions
        },
    }
    if head.context:
        props["declared_context"] = head.context
    if diff is not None:
        props["diff"] = {
            "base_commit": diff.base.commit,
            "head_commit": diff.head.commit,
            "fail_on": sorted(diff.fail_on),
            "failed": diff.failed,
        }
    return props


def _provenance(card: Scorecard) -> Optional[dict[str, Any]]:
    target = card.header.target
    remote = target.remote or ""
    if not (target.commit and re.fullmatch(r"https://[^\s\"<>\\^`{|}]+", remote)):
        return None
    provenance: dict[str, Any] = {"repositoryUri": remote, "revisionId": target.commit}
    if target.rev:
        provenance["revisionTag"] = target.rev
    return provenance


# -- small helpers ----------------------------------------------------------------------------


def _dimension_title(card: Scorecard, pack: RulePack, dim_id: str) -> str:
    try:
        return card.dimension(dim_id).title
    except KeyError:
        return pack.dimension(dim_id).title


def _is_repo_file(citation: Optional[Citation]) -> bool:
    return citation is not None and citation.source == "repo" and bool(citation.path)


def _uri(path: str) -> str:
    """A relative URI reference for a repo path: percent-encoded, no scheme-like first segment."""
    return quote(path, safe="/-._~!$&'()*+,;=@")


def _file_uri(path: str) -> str:
    posix = path.replace("\\", "/")
    if not posix.startswith("/"):
        posix = "/" + posix  # C:/x -> /C:/x
    return "file://" + quote(posix, safe="/-._~!$&'()*+,;=@:")


def _normalise(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts) or ".mlscan.yaml"


def _pascal(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return ("".join(w[:1].upper() + w[1:] for w in words) or "Criterion")[:255]


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1].rstrip() + "…"


def _sentence(text: str) -> str:
    text = " ".join((text or "").split())
    if text and text[-1] not in ".!?":
        text += "."
    return text


def _code(text: str) -> str:
    """Text safe inside a Markdown code span (criterion ids come from our own pack)."""
    return text.replace("`", "'")
