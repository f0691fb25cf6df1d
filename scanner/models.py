"""The data every stage of a scan hands to the next: evidence in, scorecard out.

These models are the published contract (``mlscan schema`` prints the JSON Schema of
:class:`Scorecard`), so field names change only with the schema version.
"""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"

DIMENSIONS: tuple[str, ...] = (
    "data_management",
    "experiment_tracking",
    "model_deployment",
    "monitoring",
    "governance",
    "collaboration",
)


class Strength(str, Enum):
    """How strongly a piece of evidence proves a practice (RUBRIC.md §2.1)."""

    mention = "mention"
    configured = "configured"
    executed = "executed"
    enforced = "enforced"

    @property
    def rank(self) -> int:
        return _STRENGTH_RANK[self]


_STRENGTH_RANK = {
    Strength.mention: 0,
    Strength.configured: 1,
    Strength.executed: 2,
    Strength.enforced: 3,
}


class Outcome(str, Enum):
    present = "present"
    unknown = "unknown"


class Citation(BaseModel):
    """Where a fact was seen: lines of a file at a commit, or a service response."""

    model_config = ConfigDict(extra="forbid")

    source: str = "repo"
    path: Optional[str] = None
    start_line: Optional[int] = None
    end_line: Optional[int] = None
    commit: Optional[str] = None
    blob: Optional[str] = None
    url: Optional[str] = None
    excerpt: Optional[str] = None
    endpoint: Optional[str] = None
    observed_at: Optional[str] = None
    response_digest: Optional[str] = None


class Evidence(BaseModel):
    """One cited fact, or one observation a probe could not make (outcome ``unknown``)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    probe: str
    subject: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    strength: Strength = Strength.configured
    outcome: Outcome = Outcome.present
    reason: Optional[str] = None
    downgrades: list[str] = Field(
        default_factory=list,
        description="Why this evidence is weaker than it looks (RUBRIC.md §2.3)",
    )
    citation: Optional[Citation] = None


def fingerprint(kind: str, subject: str, path: str | None, attributes: dict[str, Any]) -> str:
    """A stable id: kind + subject + path + attributes, never line numbers.

    Moving a block inside a file keeps the id, so baselines and SARIF dedup survive edits.
    """
    payload = json.dumps(
        [kind, subject, path or "", attributes], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


CriterionStatus = Literal["pass", "unverified", "fail", "unknown", "waived", "not_applicable"]
MET_FOR_LEVEL = frozenset({"pass", "unverified", "waived", "not_applicable"})
MET_FOR_VERIFIED = frozenset({"pass", "waived", "not_applicable"})


class CriterionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    dimension: str
    level: int
    title: str
    status: CriterionStatus
    reason: str = ""
    remediation: str = ""
    evidence: list[str] = Field(default_factory=list, description="Ids of the evidence that decided it")
    self_reported: bool = False
    effort: Literal["low", "medium", "high"] = "medium"


class Gap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str
    title: str
    status: CriterionStatus
    reason: str
    remediation: str


class DimensionScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    level: int
    verified_level: int
    highest_band: int = Field(description="Highest level whose own criteria are all met, in or out of order")
    coverage: float = Field(description="Decidable criteria / all criteria")
    decided_by: list[str] = Field(default_factory=list, description="Criteria met at the reported level")
    not_verifiable: list[Gap] = Field(default_factory=list)
    next_level: list[Gap] = Field(default_factory=list)


class ScanProblem(BaseModel):
    """Something the scanner could not do: a probe that raised, a file it could not read."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["probe", "file", "config", "service"]
    subject: str
    message: str


class RulePackRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    sha256: str


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    rev: Optional[str] = None
    commit: Optional[str] = None
    remote: Optional[str] = None
    subpath: Optional[str] = None
    dirty: bool = False


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str
    reason: str
    justification: str = ""
    owner: str = ""
    expires: Optional[str] = None
    active: bool = True
    note: str = ""


class Header(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    scanner: str
    scanner_version: str
    generated_at: str
    rule_pack: RulePackRef
    target: Target
    context: dict[str, Any] = Field(default_factory=dict, description="Self-declared context from .mlscan.yaml")
    targets: dict[str, int] = Field(default_factory=dict, description="Target levels from .mlscan.yaml or the policy")


class Scorecard(BaseModel):
    """The canonical scan result. Same input gives byte-identical JSON."""

    model_config = ConfigDict(extra="forbid")

    header: Header
    dimensions: list[DimensionScore]
    criteria: list[CriterionResult]
    evidence: list[Evidence]
    waivers: list[Waiver] = Field(default_factory=list)
    errors: list[ScanProblem] = Field(default_factory=list)
    timings: dict[str, float] = Field(
        default_factory=dict, description="Seconds per probe; zeroed when SOURCE_DATE_EPOCH is set"
    )

    def dimension(self, dim_id: str) -> DimensionScore:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise KeyError(dim_id)

    def to_json(self) -> str:
        """Indented JSON with one evidence item per line: readable, diff- and grep-friendly, and
        mostly written by the C encoder (the indenting one is pure Python; with thousands of
        evidence items it was a tenth of a large scan)."""
        data = self.model_dump(mode="json")
        evidence = data.pop("evidence")
        data["evidence"] = _EVIDENCE_SLOT
        body = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
        slot = json.dumps(_EVIDENCE_SLOT)
        if body.count(slot) != 1:  # the placeholder appears in scanned text: the plain way
            data["evidence"] = evidence
            return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        items = ",\n".join("    " + json.dumps(item, sort_keys=True, ensure_ascii=False) for item in evidence)
        return body.replace(slot, f"[\n{items}\n  ]" if evidence else "[]") + "\n"


_EVIDENCE_SLOT = "\u0000mlscan-evidence\u0000"


# -- diff: the pre-merge gate ---------------------------------------------------------------

RegressionType = Literal["level-drop", "criterion-regression", "evidence-lost", "unjustified-waiver"]
FAIL_ON_CHOICES: tuple[str, ...] = ("level-drop", "criterion-regression", "evidence-lost", "none")
DEFAULT_FAIL_ON: tuple[str, ...] = ("level-drop", "criterion-regression")


class DimensionDelta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    before: int
    after: int
    before_verified: int
    after_verified: int
    delta: int


class CriterionChange(BaseModel):
    """A criterion whose status changed between base and head."""

    model_config = ConfigDict(extra="forbid")

    id: str
    dimension: str
    level: int
    title: str
    before: CriterionStatus
    after: CriterionStatus
    regression: bool = Field(description="Went from met (pass/unverified/waived/n.a.) to fail or unknown")
    reason: str = ""
    remediation: str = ""


class EvidenceChange(BaseModel):
    """Evidence present on one side only, matched by fingerprint id (moved lines are not changes)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    change: Literal["lost", "gained"]
    strength: Strength
    downgrades: list[str] = Field(default_factory=list)
    citation: Optional[Citation] = Field(default=None, description="Base citation when lost, head when gained")


class Regression(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: RegressionType
    message: str
    blocking: bool = Field(default=False, description="Counts for the gate under the diff's --fail-on policy")
    dimension: Optional[str] = None
    criterion: Optional[str] = None
    evidence: list[str] = Field(default_factory=list)
    citation: Optional[Citation] = Field(default=None, description="Where to look: head lines, or base lines for lost evidence")


class DiffResult(BaseModel):
    """``mlscan diff``: two scorecards compared, and whether the regression policy tripped."""

    model_config = ConfigDict(extra="forbid")

    base: Target
    head: Target
    merge_base_used: bool
    fail_on: list[str]
    failed: bool
    dimensions: list[DimensionDelta]
    criteria: list[CriterionChange]
    evidence: list[EvidenceChange]
    regressions: list[Regression]
    reused_probes: list[str] = Field(default_factory=list, description=(
        "Probes not run for the head: their inputs were unchanged since the base, or since a run "
        "in the result cache, and their evidence was re-cited. A diagnostic: it can differ between "
        "a cold and a warm cache; the scorecards cannot"))
    head_card: Scorecard

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
