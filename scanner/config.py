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


class MalformedWaiver(BaseModel):
    """A waiver entry that did not validate: it never applies, and the report says why."""

    criterion: str = ""
    message: str


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    scope: Scope = Field(default_factory=Scope)
    services: Services = Field(default_factory=Services)
    targets: dict[str, int] = Field(default_factory=dict)
    context: Context = Field(default_factory=Context)
    critical_features: list[str] = Field(default_factory=list, description="Self-declared (RUBRIC §3.1.1)")
    waivers: list[WaiverSpec] = Field(default_factory=list)
    malformed_waivers: list[MalformedWaiver] = Field(default_factory=list, exclude=True)
    source: str = Field(default="", exclude=True)

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

    def resolved_waivers(self, today: date, *, subpath: str = "", policy: Optional["Policy"] = None) -> list[Waiver]:
        """Waivers with their state today. Expired, unjustified, malformed, out-of-scope or
        policy-forbidden ones stop applying, and each says why."""
        out = []
        for spec, central in [(w, False) for w in self.waivers] + [(w, True) for w in (policy.waivers if policy else [])]:
            active, note = True, ""
            if spec.expires is not None and spec.expires < today:
                active, note = False, f"expired on {spec.expires.isoformat()}"
            elif not spec.justification.strip():
                active, note = False, "no justification given"
            elif policy and not central and policy.forbid_repo_waivers:
                active, note = False, "repository waivers are forbidden by the central policy"
            elif policy and policy.max_waiver_days is not None and (
                    spec.expires is None or (spec.expires - today).days > policy.max_waiver_days):
                active, note = False, f"runs past the central policy's {policy.max_waiver_days}-day cap on waivers"
            elif spec.path and not _in_scope(subpath, spec.path):
                active, note = False, f"scoped to {spec.path}; this scan covers {subpath or 'the repository root'}"
            out.append(Waiver(
                criterion=spec.criterion, reason=spec.reason, justification=spec.justification,
                owner=spec.owner, expires=spec.expires.isoformat() if spec.expires else None,
                active=active, note=f"central policy waiver{'; ' + note if note else ''}" if central else note,
            ))
        for bad in self.malformed_waivers:
            out.append(Waiver(criterion=bad.criterion or "?", reason="malformed", active=False,
                              note=f"malformed waiver ignored: {bad.message}"))
        return out


class Policy(BaseModel):
    """A central policy (``--policy FILE``): it wins over the repository's own .mlscan.yaml."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    min_levels: dict[str, int] = Field(default_factory=dict, description="Exit 1 below these levels")
    forbid_repo_waivers: bool = False
    max_waiver_days: Optional[int] = Field(default=None, ge=1)
    context: Context = Field(default_factory=Context)
    targets: dict[str, int] = Field(default_factory=dict)
    waivers: list[WaiverSpec] = Field(default_factory=list)

    @field_validator("min_levels", "targets")
    @classmethod
    def _known_dimensions(cls, value: dict[str, int]) -> dict[str, int]:
        return Config._known_dimensions(value)

    def apply(self, config: Config) -> Config:
        """The repository's config with the policy's context and targets winning."""
        context = {**config.context.model_dump(exclude_none=True), **self.context.model_dump(exclude_none=True)}
        return config.model_copy(update={
            "context": Context(**context),
            "targets": {**config.targets, **self.targets},
        })


def _in_scope(subpath: str, scope: str) -> bool:
    from .globs import compile_patterns

    return bool(compile_patterns([scope.rstrip("/"), scope.rstrip("/") + "/**"]).match(subpath))


def parse_policy(text: str, source: str) -> Policy:
    doc = _load_mapping(text, source)
    if doc is None:
        return Policy()
    try:
        return Policy.model_validate(doc)
    except ValidationError as exc:
        raise _located(exc, doc, source) from None


def _load_mapping(text: str, source: str) -> Optional[YMap]:
    try:
        docs = load_all(text)
    except YamlError as exc:
        raise ConfigError(f"{source}:{exc.line or 1}: malformed YAML: {exc}") from None
    doc = docs[0] if docs else None
    if doc is None:
        return None
    if not isinstance(doc, YMap):
        raise ConfigError(f"{source}:1: expected a mapping at the top level")
    return doc


def _located(exc: ValidationError, doc: Any, source: str) -> ConfigError:
    first = exc.errors()[0]
    line = _line_of(doc, first["loc"])
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return ConfigError(f"{source}:{line}: {where}: {first['msg']}")


def parse_config(text: str, source: str) -> Config:
    doc = _load_mapping(text, source)
    if doc is None:
        return Config(source=source)
    raw_waivers = doc.get("waivers") or []
    body = {k: v for k, v in doc.items() if k != "waivers"}
    try:
        config = Config.model_validate(body)
    except ValidationError as exc:
        raise _located(exc, doc, source) from None
    # Waivers one by one: a malformed waiver stops applying (and says so); it does not stop the scan.
    good, bad = [], []
    items = raw_waivers if isinstance(raw_waivers, list) else [raw_waivers]
    for index, raw in enumerate(items):
        line = raw_waivers.item_span(index)[0] if hasattr(raw_waivers, "item_span") else doc.key_span("waivers")[0]
        try:
            good.append(WaiverSpec.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "waiver"
            criterion = str(raw.get("criterion", "")) if isinstance(raw, dict) else ""
            bad.append(MalformedWaiver(criterion=criterion, message=f"{source}:{line}: {field}: {first['msg']}"))
    return config.model_copy(update={"waivers": good, "malformed_waivers": bad, "source": source})


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
