"""Reporters: one module per output format, each a pure function of a Scorecard."""

from __future__ import annotations

from ..models import Scorecard

FORMATS = ("terminal", "json", "md")


def render(card: Scorecard, fmt: str, *, color: bool = False, width: int = 120) -> str:
    if fmt == "json":
        return card.to_json()
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(card)
    if fmt == "terminal":
        from .terminal import render_terminal

        return render_terminal(card, color=color, width=width)
    raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
