"""Gap analysis: which unmet criteria stand between a dimension and a target level."""

from __future__ import annotations

from .models import DIMENSIONS, MET_FOR_LEVEL, CriterionResult, Scorecard

_EFFORT = {"low": 0, "medium": 1, "high": 2}


def target_levels(card: Scorecard, targets: dict[str, int]) -> dict[str, int]:
    """The level each dimension is measured against: the given target, else the next level."""
    return {d.id: targets.get(d.id, min(d.level + 1, 4)) for d in card.dimensions}


def blocking_criteria(card: Scorecard, targets: dict[str, int]) -> list[CriterionResult]:
    """Unmet criteria at or below each dimension's target, cheapest first (remediation effort).

    ``unknown`` criteria are included: they block the target just as well, and their reason
    says what would make them decidable.
    """
    goal = target_levels(card, targets)
    blocking = [
        c for c in card.criteria
        if c.level <= goal[c.dimension] and c.status not in MET_FOR_LEVEL
    ]
    return sorted(blocking, key=lambda c: (DIMENSIONS.index(c.dimension), _EFFORT.get(c.effort, 1), c.level, c.id))
