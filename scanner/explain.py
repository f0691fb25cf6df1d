"""Plain-text explanations of the rule pack: what a level needs and how to get there."""

from __future__ import annotations

import textwrap

from .rulepack import Combo, Criterion, Leaf, Matcher, RulePack


def describe_matcher(matcher: Matcher, indent: int = 0) -> list[str]:
    pad = "  " * indent
    if isinstance(matcher, Leaf):
        text = f"{pad}- evidence `{matcher.kind}`"
        if matcher.where:
            conds = ", ".join(f"{attr} {op} {operand!r}" for attr, op, operand in matcher.where)
            text += f" where {conds}"
        if matcher.count > 1:
            text += f" (at least {matcher.count})"
        if matcher.min_strength:
            text += f" [{matcher.min_strength.value}]"
        return [text]
    assert isinstance(matcher, Combo)
    label = {"all": "all of:", "any": "any of:", "not": "none of:"}[matcher.op]
    lines = [f"{pad}- {label}"]
    for child in matcher.children:
        lines += describe_matcher(child, indent + 1)
    return lines


def explain_criterion(criterion: Criterion) -> str:
    lines = [f"{criterion.id} (level {criterion.level}, {criterion.dimension}): {criterion.title}"]
    if criterion.unobservable:
        lines.append(f"  Not verifiable yet: {criterion.unobservable}")
    else:
        lines.append(f"  Needs {criterion.min_strength.value} evidence:")
        lines += ["  " + line for line in describe_matcher(criterion.match)]  # type: ignore[arg-type]
    if criterion.verify_with:
        lines.append(f"  Proven by linking: {', '.join(criterion.verify_with)}"
                     " (until then, configured evidence counts as 'unverified')")
    if criterion.applies_when:
        lines.append(f"  Applies when: {criterion.applies_when} (self-declared context)")
    if criterion.requires:
        lines.append("  Requires: " + ", ".join(f"{d} >= {lvl}" for d, lvl in criterion.requires))
    lines.append("  How to get there:")
    lines += textwrap.wrap(criterion.remediation, width=96, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines)


def explain_text(pack: RulePack, subject: str) -> str:
    """Explain a dimension id or a criterion id; raises KeyError for anything else."""
    for dim in pack.dimensions:
        if subject == dim.id:
            out = [f"{dim.title} ({dim.id}): levels are cumulative; level N needs every criterion of 1..N.", ""]
            for level in range(1, 5):
                out.append(f"Level {level}: {dim.level_titles.get(level, '')}")
                for criterion in (c for c in dim.criteria if c.level == level):
                    out.append(textwrap.indent(explain_criterion(criterion), "  "))
                out.append("")
            return "\n".join(out).rstrip() + "\n"
    return explain_criterion(pack.criterion(subject)) + "\n"
