"""``.mlscan.yaml``: scope, linked services, targets, declared context and waivers.

Everything here is self-declared by the scanned repository, so the report shows it as such.
Secrets never live here: tokens come from the environment. A malformed file is a usage error
(exit 2) naming the file and line.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .facts.yamldoc import YamlError, YMap, load_all
from .models import DIMENSIONS, Waiver

CONFIG_FILE = ".mlscan.yaml"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and line."""


class Scope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exclude: list[str] = Field(default_factory=list, description="Path globs left out of the scan")


class MlflowLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_uri: Optional[str] = None


class GithubLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: Optional[str] = None
    api_url: Optional[str] = None


class Services(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mlflow: Optional[MlflowLink] = None
    github: Optional[GithubLink] = None


class Context(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serving: Optional[Literal["online", "batch", "none"]] = None
    regulated: Optional[bool] = None
    team_size: Optional[int] = Field(default=None, ge=1)


class WaiverSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str
    reason: Literal["not-applicable", "accepted-risk", "remediated-elsewhere", "false-positive"]
    justification: str = ""
    owner: str = ""
    expires: Optional[date] = None
    path: Optional[str] = None


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    scope: Scope = Field(default_factory=Scope)
    services: Services = Field(default_factory=Services)
    targets: dict[str, int] = Field(default_factory=dict)
    context: Context = Field(default_factory=Context)
    waivers: list[WaiverSpec] = Field(default_factory=list)

    @field_validator("targets")
    @classmethod
    def _known_dimensions(cls, value: dict[str, int]) -> dict[str, int]:
        for dim, level in value.items():
            if dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r}; use one of {list(DIMENSIONS)}")
            if not 0 <= level <= 4:
                raise ValueError(f"target level for {dim} must be 0-4")
        return value

    def declared_context(self) -> dict[str, Any]:
        return self.context.model_dump(exclude_none=True)

    def resolved_waivers(self, today: date) -> list[Waiver]:
        """Waivers with their state today; expired or unjustified ones stop applying, visibly."""
        out = []
        for spec in self.waivers:
            active, note = True, ""
            if spec.expires is not None and spec.expires < today:
                active, note = False, f"expired on {spec.expires.isoformat()}"
            elif not spec.justification.strip():
                active, note = False, "no justification given"
            out.append(Waiver(
                criterion=spec.criterion, reason=spec.reason, justification=spec.justification,
                owner=spec.owner, expires=spec.expires.isoformat() if spec.expires else None,
                active=active, note=note,
            ))
        return out


def parse_config(text: str, source: str) -> Config:
    try:
        docs = load_all(text)
    except YamlError as exc:
        raise ConfigError(f"{source}:{exc.line or 1}: malformed YAML: {exc}") from None
    doc = docs[0] if docs else None
    if doc is None:
        return Config()
    if not isinstance(doc, YMap):
        raise ConfigError(f"{source}:1: expected a mapping at the top level")
    try:
        return Config.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        line = _line_of(doc, first["loc"])
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}:{line}: {where}: {first['msg']}") from None


def _line_of(doc: Any, loc: tuple) -> int:
    """The line of the deepest part of ``loc`` we can still find in the parsed YAML."""
    line = getattr(doc, "span", (1, 1))[0]
    node = doc
    for part in loc:
        if isinstance(node, dict) and part in node:
            line = node.key_span(part)[0] if isinstance(node, YMap) else line
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            line = node.item_span(part)[0] if hasattr(node, "item_span") else line
            node = node[part]
        else:
            break
    return line
