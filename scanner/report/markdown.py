"""Markdown report. Every piece of repository text is escaped: a scanned repository must not be
able to inject Markdown or HTML into a pull-request comment or step summary."""

from __future__ import annotations

import re

from ..models import Scorecard

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def md_escape(text: str) -> str:
    """Escape Markdown punctuation and HTML; fold newlines so table cells stay one row."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(card: Scorecard) -> str:
    head = card.header
    target = head.target
    lines = [f"## mlscan: {md_escape(target.name)}", ""]
    meta = f"Scanner {md_escape(head.scanner_version)}, rule pack {md_escape(head.rule_pack.id)} {md_escape(head.rule_pack.version)}"
    if target.commit:
        meta += f", commit `{target.commit[:12]}`"
    lines += [meta, ""]
    lines += ["| Dimension | Level | Verified | Coverage | Next level needs |", "|---|---|---|---|---|"]
    for dim in card.dimensions:
        gaps = [f"{md_escape(g.criterion)} {md_escape(g.title)}" for g in dim.next_level[:3]]
        gaps += [f"{md_escape(g.criterion)} not verifiable" for g in dim.not_verifiable[:2]]
        needs = "<br>".join(gaps) if dim.level < 4 else "top level reached"
        lines.append(f"| {md_escape(dim.title)} | **{dim.level}** | {dim.verified_level} | {dim.coverage:.0%} | {needs} |")
    lines.append("")
    evidence = {e.id: e for e in card.evidence}
    for dim in card.dimensions:
        met = [c for c in card.criteria if c.dimension == dim.id and c.id in dim.decided_by]
        if not met:
            continue
        lines += [f"### {md_escape(dim.title)}: level {dim.level}", ""]
        for criterion in met:
            cites = []
            for eid in criterion.evidence[:3]:
                cit = evidence[eid].citation if eid in evidence else None
                if cit and cit.path:
                    label = md_escape(f"{cit.path}:{cit.start_line}" if cit.start_line else cit.path)
                    cites.append(f"[{label}]({cit.url})" if cit.url else label)
            status = criterion.status.replace("_", " ")
            lines.append(f"- {md_escape(criterion.id)} ({status}): {md_escape(criterion.title)}"
                         + (f" — {', '.join(cites)}" if cites else ""))
        lines.append("")
    if card.errors:
        lines += [f"<details><summary>{len(card.errors)} problems (the scan went on)</summary>", ""]
        for problem in card.errors:
            lines.append(f"- {problem.scope} {md_escape(problem.subject)}: {md_escape(problem.message)}")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
