"""Reporters: one module per output format, each a pure function of a Scorecard (or a DiffResult)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..models import DiffResult, Scorecard

if TYPE_CHECKING:
    from ..rulepack import RulePack

FORMATS = ("terminal", "json", "md", "sarif", "junit")


def render(card: Scorecard, fmt: str, *, pack: Optional["RulePack"] = None, targets: Optional[dict[str, int]] = None,
           color: bool = False, width: int = 120) -> str:
    targets = targets or {}
    if fmt == "json":
        return card.to_json()
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(card)
    if fmt == "terminal":
        from .terminal import render_terminal

        return render_terminal(card, color=color, width=width, targets=targets)
    if fmt == "sarif":
        from .sarif import render_sarif

        assert pack is not None, "SARIF lists every criterion of the rule pack"
        return render_sarif(card, pack, targets=targets or card.header.targets)
    if fmt == "junit":
        from .junit import render_junit

        return render_junit(card, targets or card.header.targets)
    raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")


def render_diff(result: DiffResult, fmt: str, *, pack: Optional["RulePack"] = None,
                targets: Optional[dict[str, int]] = None, color: bool = False, width: int = 120) -> str:
    targets = targets or {}
    if fmt == "json":
        return result.to_json()
    if fmt == "md":
        from .diff_markdown import render_diff_markdown

        return render_diff_markdown(result)
    if fmt == "terminal":
        from .terminal import render_diff_terminal

        return render_diff_terminal(result, color=color, width=width)
    if fmt == "sarif":
        from .sarif import render_sarif

        assert pack is not None, "SARIF lists every criterion of the rule pack"
        return render_sarif(result.head_card, pack, diff=result, targets=targets)
    if fmt == "junit":
        from .junit import render_junit

        return render_junit(result.head_card, targets)
    raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
