"""The terminal view: one rich table, level per dimension, what decided it, what is next.

Repository text is wrapped in ``rich.text.Text`` so markup in a scanned file cannot style or
hide our output.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..models import DiffResult, DimensionScore, Scorecard

MAX_GAPS_SHOWN = 4


def _level_cell(dim: DimensionScore) -> Text:
    text = Text(f"{dim.level}", style="bold")
    if dim.verified_level != dim.level:
        text.append(f" (verified {dim.verified_level})", style="yellow")
    if dim.highest_band > dim.level:
        text.append(f"\nband {dim.highest_band} reached", style="cyan")
    return text


def _decided_cell(card: Scorecard, dim: DimensionScore) -> Text:
    if dim.level == 0:
        return Text("level 1 not met", style="dim")
    results = {c.id: c for c in card.criteria}
    top = [results[cid] for cid in dim.decided_by if results[cid].level == dim.level]
    text = Text()
    for index, result in enumerate(top):
        if index:
            text.append("\n")
        style = {"pass": "green", "unverified": "yellow"}.get(result.status, "magenta")
        text.append(f"{result.id} {result.status}", style=style)
        text.append(f" {result.title}")
    return text


def _next_cell(dim: DimensionScore) -> Text:
    if dim.level == 4:
        return Text("top level reached", style="green")
    text = Text()
    rows = [(g, "red") for g in dim.next_level] + [(g, "magenta") for g in dim.not_verifiable]
    for index, (gap, style) in enumerate(rows[:MAX_GAPS_SHOWN]):
        if index:
            text.append("\n")
        label = "not verifiable" if gap.status == "unknown" else gap.status
        text.append(f"{gap.criterion} {label}", style=style)
        text.append(f" {gap.title}")
    if len(rows) > MAX_GAPS_SHOWN:
        text.append(f"\n+{len(rows) - MAX_GAPS_SHOWN} more (mlscan explain {dim.id})", style="dim")
    return text


def _gap_lines(card: Scorecard, targets: dict[str, int]) -> list[Text]:
    from ..gaps import blocking_criteria

    lines = [Text("To reach the targets (" + ", ".join(f"{d}={lvl}" for d, lvl in sorted(targets.items()))
                  + "), cheapest first:", style="bold")]
    wanted = [c for c in blocking_criteria(card, targets) if c.dimension in targets]
    for criterion in wanted:
        label = "not verifiable" if criterion.status == "unknown" else criterion.status
        lines.append(Text(f"  {criterion.id} [{criterion.effort} effort, {label}] {criterion.title}"))
        lines.append(Text(f"      {criterion.remediation}", style="dim"))
    if not wanted:
        lines.append(Text("  nothing: every target is met", style="green"))
    return lines


def render_terminal(card: Scorecard, *, color: bool = False, width: int = 120,
                    targets: dict[str, int] | None = None) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="auto" if color else None,
                      highlight=False, soft_wrap=False)
    target = card.header.target
    title = Text(f"mlscan {card.header.scanner_version} · {target.name}")
    if target.commit:
        title.append(f" @ {target.commit[:12]}")
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("Dimension", no_wrap=True)
    table.add_column("Level", no_wrap=True, justify="center")
    table.add_column("Decided by (criteria of the reached level)", ratio=3)
    table.add_column("Next level needs", ratio=3)
    table.add_column("Coverage", justify="right", no_wrap=True)
    for dim in card.dimensions:
        table.add_row(Text(dim.title), _level_cell(dim), _decided_cell(card, dim), _next_cell(dim),
                      Text(f"{dim.coverage:.0%}"))
    console.print(table)
    goals = targets or card.header.targets
    if goals:
        for line in _gap_lines(card, goals):
            console.print(line)
    present = sum(1 for e in card.evidence if e.outcome.value == "present")
    console.print(Text(f"{present} evidence items, {len(card.criteria)} criteria, "
                       f"rule pack {card.header.rule_pack.id} {card.header.rule_pack.version}"))
    if card.errors:
        console.print(Text(f"{len(card.errors)} problems (the scan went on):", style="yellow"))
        for problem in card.errors[:10]:
            console.print(Text(f"  {problem.scope} {problem.subject}: {problem.message}"))
        if len(card.errors) > 10:
            console.print(Text(f"  ... and {len(card.errors) - 10} more in the JSON report"))
    return buffer.getvalue()


def render_diff_terminal(result: DiffResult, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="auto" if color else None,
                      highlight=False, soft_wrap=False)
    verdict = Text("maturity regressed" if result.failed else "no blocking regression",
                   style="bold red" if result.failed else "bold green")
    base = result.base.commit[:12] if result.base.commit else "?"
    head = result.head.commit[:12] if result.head.commit else "work tree"
    table = Table(title=Text(f"mlscan diff {base} -> {head}: ").append(verdict), expand=False)
    for column in ("Dimension", "Level", "Verified"):
        table.add_column(column)
    for dim in result.dimensions:
        style = "red" if dim.delta < 0 else ("green" if dim.delta > 0 else "")
        table.add_row(Text(dim.title), Text(f"{dim.before} -> {dim.after}", style=style),
                      Text(f"{dim.before_verified} -> {dim.after_verified}"))
    console.print(table)
    if result.regressions:
        console.print(Text(f"{len(result.regressions)} regressions (policy: {', '.join(result.fail_on)}):", style="bold"))
        for item in result.regressions:
            where = ""
            if item.citation and item.citation.path:
                where = f" [{item.citation.path}:{item.citation.start_line or ''}]"
            console.print(Text(f"  {item.type}: {item.message}{where}"))
    improved = [c for c in result.criteria if not c.regression]
    if improved:
        console.print(Text(f"{len(improved)} criteria changed without regressing: "
                           + ", ".join(f"{c.id} {c.before}->{c.after}" for c in improved[:8])))
    if result.reused_probes:
        console.print(Text(f"probes not re-run for the head (inputs unchanged): {', '.join(result.reused_probes)}",
                           style="dim"))
    return buffer.getvalue()
