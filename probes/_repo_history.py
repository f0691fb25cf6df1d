"""Who works on the repository, from git history (RUBRIC CO-a, CO-i, CO-n; §2.3 bot-only activity).

Windows are measured back from the newest commit in the history, never from the wall clock, so
scanning the same commit twice gives the same numbers. Bots are excluded from every human figure,
and commits that change no file (merges, empty keep-alive commits) are not counted.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable

from scanner.models import Strength
from scanner.patterns import lazy

from ._repo_models import BusFactor, Contributors

if TYPE_CHECKING:
    from scanner.facts.history import Commit, History
    from scanner.models import Evidence
    from scanner.probe import ProbeContext

WINDOW_DAYS = 180
WINDOW_SECONDS = WINDOW_DAYS * 86400
MONTHS = 6
ML_DIRS = frozenset({"train", "training", "models", "model", "features", "pipelines"})
_ML_FILES = lazy(r"(?:^|/)(?:dvc\.yaml|dvc\.lock|params\.yaml|[^/]+\.dvc|[^/]+\.ipynb)$")


def identity(commit: "Commit") -> str:
    """One person: the (mailmapped) email, or the name when there is no email."""
    return (commit.email or commit.author).strip().lower()


def counted(history: "History") -> list["Commit"]:
    return [c for c in history.commits if c.files]


def _head(history: "History") -> tuple[str, int]:
    return history.commits[0].sha, max(c.time for c in history.commits)


def _partial(history: "History", start: int) -> list[str]:
    """Why the window may be incomplete: a shallow clone, or a history cut before the window start."""
    reasons = []
    if history.reason:
        reasons.append(history.reason)
    if history.truncated and min(c.time for c in history.commits) > start:
        reasons.append("history truncated inside the 180-day window")
    return reasons


def collect_contributors(ctx: "ProbeContext") -> Iterable["Evidence"]:
    history = ctx.facts.history
    if not history.available or not history.commits:
        yield ctx.unknown("repo.contributors", history.reason or "no commits in the history")
        return
    head, newest = _head(history)
    start = newest - WINDOW_SECONDS
    commits = counted(history)
    window = [c for c in commits if c.time >= start]
    humans = [c for c in window if not c.is_bot]
    per_human = Counter(identity(c) for c in humans)
    attrs = Contributors(
        humans_180d=len(per_human),
        humans_total=len({identity(c) for c in commits if not c.is_bot}),
        bots=len({identity(c) for c in commits if c.is_bot}),
        commits_180d=len(window),
        human_commits_180d=len(humans),
        bot_only=bool(window) and not humans,
        window_days=WINDOW_DAYS,
        top_share=round(max(per_human.values()) / len(humans), 3) if humans else 0.0,
        head=head,
    )
    downgrades = _partial(history, start)
    if attrs.bot_only:
        downgrades.append("only bots committed in the last 180 days")
    yield ctx.evidence(
        "repo.contributors", attrs, strength=Strength.mention if downgrades else Strength.executed, downgrades=downgrades
    )


def is_ml_path(path: str, ml_imports: set[str]) -> bool:
    if path in ml_imports or _ML_FILES.search(path):
        return True
    return any(part in ML_DIRS for part in path.split("/")[:-1])


def min_authors_for_half(counts: Counter) -> int:
    """Fewest authors whose commits add up to at least half of all (the bus factor)."""
    total = sum(counts.values())
    covered = 0
    for number, (_, count) in enumerate(counts.most_common(), start=1):
        covered += count
        if covered * 2 >= total:
            return number
    return 0


def _last_months(newest: int) -> set[tuple[int, int]]:
    when = datetime.fromtimestamp(newest, tz=timezone.utc)
    year, month = when.year, when.month
    months = set()
    for _ in range(MONTHS):
        months.add((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def collect_bus_factor(ctx: "ProbeContext", ml_imports: set[str]) -> Iterable["Evidence"]:
    history = ctx.facts.history
    if not history.available or not history.commits:
        yield ctx.unknown("repo.bus_factor", history.reason or "no commits in the history")
        return
    head, newest = _head(history)
    start = newest - WINDOW_SECONDS
    human_ml = [c for c in counted(history) if not c.is_bot and any(is_ml_path(p, ml_imports) for p in c.files)]
    ml_commits = [c for c in human_ml if c.time >= start]
    active = {
        (d.year, d.month)
        for d in (datetime.fromtimestamp(c.time, tz=timezone.utc) for c in human_ml if c.time <= newest)
    } & _last_months(newest)
    attrs = BusFactor(
        authors=min_authors_for_half(Counter(identity(c) for c in ml_commits)),
        ml_commits=len(ml_commits),
        months_active_6m=len(active),
        window_days=WINDOW_DAYS,
        head=head,
    )
    downgrades = _partial(history, start)
    yield ctx.evidence(
        "repo.bus_factor", attrs, strength=Strength.mention if downgrades else Strength.executed, downgrades=downgrades
    )
