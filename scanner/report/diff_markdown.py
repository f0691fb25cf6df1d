"""The pull-request comment for ``mlscan diff``: short enough for ``$GITHUB_STEP_SUMMARY``.

Reading order is the reviewer's: did the gate trip, which levels moved, what regressed (with a
link to the lines), what improved, what the head still needs for its next level, and the raw
evidence changes folded away. Lists are capped so a typical diff stays under ~60 lines.

Everything that comes from the scanned repository (names, titles, reasons, paths, messages) goes
through :func:`md_escape`, and ``@`` is defused so a file name cannot mention people. Links are
only the permalinks our citations carry, restricted to http(s) and percent-encoded, so a crafted
report cannot smuggle ``javascript:`` or break out of the link syntax.
"""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote

from ..gaps import blocking_criteria
from ..models import (
    DIMENSIONS,
    Citation,
    CriterionChange,
    CriterionResult,
    DiffResult,
    Evidence,
    Regression,
    Target,
)
from .markdown import md_escape

MAX_REGRESSIONS = 10
MAX_IMPROVED = 6
MAX_DECLARED = 3
MAX_LOST = 8
MAX_GAINED = 4
MAX_REMEDIATION = 160

_RANK = {"fail": 0, "unknown": 0, "unverified": 1, "pass": 2}
_TYPE_LABEL = {
    "level-drop": "level drop",
    "criterion-regression": "criterion regressed",
    "evidence-lost": "evidence lost",
    "unjustified-waiver": "waiver does not apply",
}
_EFFORT = {"low": 0, "medium": 1, "high": 2}


def render_diff_markdown(diff: DiffResult, *, max_gaps: int = 5) -> str:
    lines = _title(diff)
    lines += _table(diff)
    lines += _regressions(diff)
    lines += _improved(diff)
    lines += _declared(diff)
    lines += _gaps(diff, max_gaps)
    lines += _evidence(diff)
    return "\n".join(lines).rstrip("\n") + "\n"


def _title(diff: DiffResult) -> list[str]:
    name = _t(diff.head.name or diff.base.name or "repository")
    policy = ", ".join(_t(p) for p in diff.fail_on) or "none"
    counted = [r for r in diff.regressions if r.blocking]
    if diff.failed:
        head = f"### ❌ mlscan: maturity regressed in {name}"
    elif diff.regressions:
        head = f"### ✅ mlscan: no blocking regression in {name} ({len(diff.regressions)} reported outside the policy)"
    else:
        head = f"### ✅ mlscan: no maturity regression in {name}"
    base = "merge base " if diff.merge_base_used else "base "
    meta = f"{base}{_rev(diff.base)} → head {_rev(diff.head)} · fail on: {policy}"
    if diff.failed:
        meta += f" · {len(counted)} blocking"
    return [head, "", meta, ""]


def _table(diff: DiffResult) -> list[str]:
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    rows = ["| Dimension | Level | Verified |", "|---|---|---|"]
    for dim in sorted(diff.dimensions, key=lambda d: order.get(d.id, len(order))):
        rows.append(f"| {_t(dim.title)} | {_move(dim.before, dim.after)} | {_move(dim.before_verified, dim.after_verified)} |")
    return rows + [""]


def _move(before: int, after: int) -> str:
    if after > before:
        return f"{before} → **{after}** ⬆️ +{after - before}"
    if after < before:
        return f"{before} → **{after}** ⬇️ −{before - after}"
    return f"{before} → {after}"


def _regressions(diff: DiffResult) -> list[str]:
    if not diff.regressions:
        return []
    out = [f"**Regressions** ({len(diff.regressions)})", ""]
    head = {c.id: c for c in diff.head_card.criteria}
    evidence = {e.id: e for e in diff.head_card.evidence}
    for regression in diff.regressions[:MAX_REGRESSIONS]:
        out.append(_regression_line(regression, diff, _head_citation(head.get(regression.criterion or ""), evidence)))
    if len(diff.regressions) > MAX_REGRESSIONS:
        out.append(f"- … and {len(diff.regressions) - MAX_REGRESSIONS} more (`mlscan diff --format json`)")
    return out + [""]


def _head_citation(criterion: Optional[CriterionResult], evidence: dict[str, Evidence]) -> Optional[Citation]:
    """The head-side lines a regressed criterion still cites (e.g. the job now non-blocking)."""
    for eid in criterion.evidence if criterion else []:
        item = evidence.get(eid)
        if item is not None and item.citation is not None and item.citation.source == "repo" and item.citation.path:
            return item.citation
    return None


def _regression_line(regression: Regression, diff: DiffResult, head_citation: Optional[Citation]) -> str:
    mark = "❌" if regression.blocking else "⚠️"
    label = _TYPE_LABEL.get(regression.type, regression.type)
    subject = regression.criterion or regression.dimension or ""
    text = f"- {mark} **{_t(label)}**"
    if subject and subject not in regression.message:
        text += f" {_t(subject)}"
    text += f": {_t(regression.message)}"
    link = _cite(head_citation or regression.citation, diff)
    return text + (f" — {link}" if link else "")


def _improved(diff: DiffResult) -> list[str]:
    better = [c for c in diff.criteria if _improves(c)]
    if not better:
        return []
    out = [f"**Improved** ({len(better)})", ""]
    for change in better[:MAX_IMPROVED]:
        out.append(f"- ✅ **{_t(change.id)}** {_status(change.before)} → {_status(change.after)}: {_t(change.title)}")
    if len(better) > MAX_IMPROVED:
        out.append(f"- … and {len(better) - MAX_IMPROVED} more")
    return out + [""]


def _improves(change: CriterionChange) -> bool:
    if change.regression or change.after not in _RANK or change.before not in _RANK:
        return False
    return _RANK[change.after] > _RANK[change.before]


def _declared(diff: DiffResult) -> list[str]:
    """Criteria this change newly waives or declares not applicable: self-reported, so shown."""
    declared = [c for c in diff.criteria if c.after in ("waived", "not_applicable") and c.before != c.after]
    if not declared:
        return []
    out = [f"**Newly self-declared** ({len(declared)}, from .mlscan.yaml)", ""]
    for change in declared[:MAX_DECLARED]:
        out.append(f"- 📝 **{_t(change.id)}** {_status(change.before)} → {_status(change.after)}: {_t(change.reason or change.title)}")
    if len(declared) > MAX_DECLARED:
        out.append(f"- … and {len(declared) - MAX_DECLARED} more")
    return out + [""]


def _gaps(diff: DiffResult, max_gaps: int) -> list[str]:
    """The cheapest unmet criteria between the head and each dimension's next level.

    Failed criteria come before not-verifiable ones: a reviewer can act on a failure, while
    "no probe yet" is the scanner's limit, not the repository's.
    """
    if max_gaps <= 0:
        return []
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    gaps = sorted(
        blocking_criteria(diff.head_card, {}),
        key=lambda c: (c.status != "fail", _EFFORT.get(c.effort, 1), c.level, order.get(c.dimension, 9), c.id),
    )
    if not gaps:
        return ["Every dimension of the head is at level 4.", ""]
    out = ["**Next level on the head** (cheapest first)", ""]
    for gap in gaps[:max_gaps]:
        if gap.status == "unknown":
            tail = f"not verifiable: {_t(gap.reason)}"
        else:
            tail = _t(_shorten(gap.remediation or gap.reason))
        out.append(f"- **{_t(gap.id)}** ({_t(gap.effort)} effort, level {gap.level}) {_t(gap.title)} — {tail}")
    return out + [""]


def _evidence(diff: DiffResult) -> list[str]:
    lost = [e for e in diff.evidence if e.change == "lost"]
    gained = [e for e in diff.evidence if e.change == "gained"]
    if not lost and not gained:
        return []
    out = [f"<details><summary>Evidence: {len(lost)} lost, {len(gained)} gained</summary>", ""]
    for label, items, cap in (("lost", lost, MAX_LOST), ("gained", gained, MAX_GAINED)):
        for item in items[:cap]:
            line = f"- {label}: {_t(item.kind)} ({_t(item.strength.value)})"
            link = _cite(item.citation, diff)
            if link:
                line += f" {link}"
            if item.downgrades:
                line += f" — downgraded: {_t('; '.join(item.downgrades))}"
            out.append(line)
        if len(items) > cap:
            out.append(f"- … and {len(items) - cap} more {label}")
    return out + ["", "</details>", ""]


# -- helpers ----------------------------------------------------------------------------------


def _t(text: object) -> str:
    """Repository text for Markdown: escaped, and ``@`` split so it cannot mention anyone."""
    return md_escape(str(text)).replace("@", "@\u200b")


def _status(status: str) -> str:
    return {"not_applicable": "n/a", "unknown": "not verifiable"}.get(status, status)


def _rev(target: Target) -> str:
    commit = re.sub(r"[^0-9a-fA-F]", "", target.commit or "")[:12]
    if commit:
        return f"`{commit}`"
    return _t(target.rev or "work tree")


def _cite(citation: Optional[Citation], diff: DiffResult) -> str:
    """``[path:L1-L2](permalink)``; plain escaped text when there is no safe link. Lines of the
    base commit (evidence that is gone) are marked as such."""
    if citation is None or not citation.path:
        return ""
    where = citation.path
    if citation.start_line:
        where += f":L{citation.start_line}"
        if citation.end_line and citation.end_line != citation.start_line:
            where += f"-L{citation.end_line}"
    at_base = bool(citation.commit) and citation.commit == diff.base.commit != diff.head.commit
    label = _t(where) + (" (base)" if at_base else "")
    url = _safe_url(citation.url)
    return f"[{label}]({url})" if url else label


def _safe_url(url: Optional[str]) -> Optional[str]:
    if not url or not re.match(r"https?://", url, re.IGNORECASE):
        return None
    # Keep URL syntax, encode everything that could end the link or start markup.
    return quote(url, safe=":/?#=&%-._~+,;!$*@")


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REMEDIATION else text[: MAX_REMEDIATION - 1].rstrip() + "…"
