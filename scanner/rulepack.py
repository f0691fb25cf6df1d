"""Rule packs: YAML criteria per dimension, loaded and checked against the probes' declared kinds.

A typo in a rule (an unknown kind, attribute, operator or strength) is a load error naming the
file and line, never a criterion that silently fails forever.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel

from .patterns import lazy
from .facts.yamldoc import YamlError, YList, YMap, load_all
from .models import DIMENSIONS, Strength
from .probe import Kind

OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "matches", "exists"})
CONTEXT_KEYS = frozenset({"serving", "regulated", "team_size"})
_REQUIRES = lazy(r"^(?P<dim>[A-Z]{2})\s*>=\s*(?P<level>[1-4])$")
DIMENSION_PREFIX = {
    "DM": "data_management",
    "ET": "experiment_tracking",
    "MD": "model_deployment",
    "MO": "monitoring",
    "GV": "governance",
    "CO": "collaboration",
}


class RuleError(Exception):
    """A rule pack that cannot be loaded; the message names the file and line."""


@dataclass(frozen=True)
class Leaf:
    kind: str
    where: tuple[tuple[str, str, Any], ...] = ()  # (attribute, operator, operand)
    count: int = 1
    min_strength: Optional[Strength] = None


@dataclass(frozen=True)
class Combo:
    op: str  # "all" | "any" | "not"
    children: tuple["Matcher", ...]


Matcher = Leaf | Combo


@dataclass
class Criterion:
    id: str
    dimension: str
    level: int
    title: str
    remediation: str
    match: Optional[Matcher] = None
    min_strength: Strength = Strength.configured
    verify_with: tuple[str, ...] = ()
    unobservable: str = ""
    applies_when: dict[str, Any] = field(default_factory=dict)
    requires: tuple[tuple[str, int], ...] = ()
    effort: str = "medium"
    source: str = ""  # file:line, for messages


@dataclass
class Dimension:
    id: str
    title: str
    level_titles: dict[int, str]
    criteria: list[Criterion]


@dataclass
class RulePack:
    id: str
    version: str
    title: str
    sha256: str
    dimensions: list[Dimension]

    def criteria(self) -> list[Criterion]:
        return [c for d in self.dimensions for c in d.criteria]

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria():
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)

    def dimension(self, dim_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise KeyError(dim_id)

    def kinds_used(self) -> set[str]:
        used: set[str] = set()

        def walk(m: Optional[Matcher]) -> None:
            if isinstance(m, Leaf):
                used.add(m.kind)
            elif isinstance(m, Combo):
                for child in m.children:
                    walk(child)

        for criterion in self.criteria():
            walk(criterion.match)
        return used


class _Loader:
    def __init__(self, kinds: dict[str, Kind]):
        self.kinds = kinds

    def fail(self, where: str, line: Optional[int], message: str) -> RuleError:
        return RuleError(f"{where}:{line or 1}: {message}")

    def load_pack(self, directory: Path) -> RulePack:
        pack_file = directory / "pack.yaml"
        if not pack_file.is_file():
            raise RuleError(f"{pack_file}: rule pack file not found")
        files = sorted(p for p in directory.glob("*.yaml"))
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        pack = self.parse(pack_file)
        for key in ("id", "version", "dimensions"):
            if key not in pack:
                raise self.fail(str(pack_file), pack.span[0], f"missing key {key!r}")
        dims: list[Dimension] = []
        seen_ids: dict[str, str] = {}
        for index, name in enumerate(pack["dimensions"]):
            line = pack["dimensions"].item_span(index)[0]
            dim_file = directory / str(name)
            if not dim_file.is_file():
                raise self.fail(str(pack_file), line, f"dimension file {name!r} not found")
            dims.append(self.load_dimension(dim_file, seen_ids))
        found = [d.id for d in dims]
        if sorted(found) != sorted(DIMENSIONS):
            raise self.fail(str(pack_file), pack.key_span("dimensions")[0],
                            f"the pack must define the six dimensions {list(DIMENSIONS)}, got {found}")
        dims.sort(key=lambda d: DIMENSIONS.index(d.id))
        return RulePack(
            id=str(pack["id"]), version=str(pack["version"]), title=str(pack.get("title", pack["id"])),
            sha256=digest.hexdigest(), dimensions=dims,
        )

    def parse(self, path: Path) -> YMap:
        try:
            docs = load_all(path.read_text(encoding="utf-8"))
        except YamlError as exc:
            raise self.fail(str(path), exc.line, f"malformed YAML: {exc}") from None
        if len(docs) != 1 or not isinstance(docs[0], YMap):
            raise self.fail(str(path), 1, "expected one YAML mapping")
        return docs[0]

    def load_dimension(self, path: Path, seen_ids: dict[str, str]) -> Dimension:
        where = str(path)
        doc = self.parse(path)
        dim_id = doc.get("dimension")
        if dim_id not in DIMENSIONS:
            raise self.fail(where, doc.key_span("dimension")[0], f"unknown dimension {dim_id!r}")
        levels = doc.get("levels")
        if not isinstance(levels, YMap):
            raise self.fail(where, doc.span[0], "missing `levels:` mapping")
        criteria: list[Criterion] = []
        titles: dict[int, str] = {}
        for level, body in levels.items():
            line = levels.key_span(level)[0]
            if level not in (1, 2, 3, 4):
                raise self.fail(where, line, f"levels are 1-4, got {level!r}")
            if not isinstance(body, YMap) or not isinstance(body.get("criteria"), YList):
                raise self.fail(where, line, f"level {level} needs a `criteria:` list")
            titles[level] = str(body.get("title", f"Level {level}"))
            items = body["criteria"]
            for index, raw in enumerate(items):
                criterion = self.criterion(raw, dim_id, level, where, items.item_span(index)[0])
                if criterion.id in seen_ids:
                    raise self.fail(where, items.item_span(index)[0],
                                    f"criterion id {criterion.id} already defined at {seen_ids[criterion.id]}")
                seen_ids[criterion.id] = criterion.source
                criteria.append(criterion)
        criteria.sort(key=lambda c: (c.level, c.id))
        return Dimension(id=dim_id, title=str(doc.get("title", dim_id)), level_titles=titles, criteria=criteria)

    def criterion(self, raw: Any, dim: str, level: int, where: str, line: int) -> Criterion:
        if not isinstance(raw, YMap):
            raise self.fail(where, line, "a criterion must be a mapping")
        allowed = {"id", "title", "match", "min_strength", "remediation", "verify_with", "unobservable",
                   "applies_when", "requires", "effort", "sources", "notes"}
        for key in raw:
            if key not in allowed:
                raise self.fail(where, raw.key_span(key)[0], f"unknown criterion key {key!r}")
        for key in ("id", "title", "remediation"):
            if not raw.get(key):
                raise self.fail(where, line, f"criterion needs a non-empty `{key}`")
        has_match, has_unobs = "match" in raw, bool(raw.get("unobservable"))
        if has_match == has_unobs:
            raise self.fail(where, line, f"{raw['id']}: give exactly one of `match` or `unobservable`")
        strength = self.strength(raw.get("min_strength", "configured"), where, raw.key_span("min_strength")[0])
        requires = []
        for index, req in enumerate(raw.get("requires") or []):
            m = _REQUIRES.match(str(req))
            if not m or m.group("dim") not in DIMENSION_PREFIX:
                raise self.fail(where, raw["requires"].item_span(index)[0], f"bad requirement {req!r} (use e.g. DM>=3)")
            requires.append((DIMENSION_PREFIX[m.group("dim")], int(m.group("level"))))
        applies = raw.get("applies_when") or {}
        for key in applies:
            if key not in CONTEXT_KEYS:
                raise self.fail(where, applies.key_span(key)[0], f"unknown context key {key!r}; use {sorted(CONTEXT_KEYS)}")
        return Criterion(
            id=str(raw["id"]), dimension=dim, level=level, title=str(raw["title"]).strip(),
            remediation=" ".join(str(raw["remediation"]).split()),
            match=self.matcher(raw["match"], where, raw.key_span("match")[0]) if has_match else None,
            min_strength=strength,
            verify_with=tuple(raw.get("verify_with") or ()),
            unobservable=" ".join(str(raw.get("unobservable") or "").split()),
            applies_when=dict(applies),
            requires=tuple(requires),
            effort=self.effort(raw.get("effort", "medium"), where, raw.key_span("effort")[0]),
            source=f"{where}:{line}",
        )

    def effort(self, value: Any, where: str, line: int) -> str:
        if value not in ("low", "medium", "high"):
            raise self.fail(where, line, f"effort is low, medium or high, got {value!r}")
        return str(value)

    def strength(self, value: Any, where: str, line: int) -> Strength:
        try:
            return Strength(value)
        except ValueError:
            raise self.fail(where, line, f"unknown strength {value!r}; use one of {[s.value for s in Strength]}") from None

    def matcher(self, raw: Any, where: str, line: int) -> Matcher:
        line = getattr(raw, "span", (line, line))[0]
        if not isinstance(raw, YMap) or not raw:
            raise self.fail(where, line, "a matcher must be a mapping")
        combos = [k for k in ("all", "any", "not") if k in raw]
        if combos:
            if len(raw) != 1:
                raise self.fail(where, line, f"`{combos[0]}` must stand alone in its mapping")
            op = combos[0]
            body = raw[op]
            if op == "not":
                return Combo("not", (self.matcher(body, where, line),))
            if not isinstance(body, YList) or not body:
                raise self.fail(where, line, f"`{op}` takes a non-empty list")
            return Combo(op, tuple(self.matcher(child, where, body.item_span(i)[0]) for i, child in enumerate(body)))
        for key in raw:
            if key not in ("kind", "where", "count", "min_strength"):
                raise self.fail(where, raw.key_span(key)[0], f"unknown matcher key {key!r}")
        kind_name = raw.get("kind")
        kind = self.kinds.get(kind_name)
        if kind is None:
            raise self.fail(where, raw.key_span("kind")[0], f"unknown evidence kind {kind_name!r}: no installed probe emits it")
        conditions: list[tuple[str, str, Any]] = []
        for attr, cond in (raw.get("where") or {}).items():
            attr_line = raw["where"].key_span(attr)[0]
            fields = getattr(kind.model, "model_fields", {})
            if attr not in fields:
                raise self.fail(where, attr_line, f"kind {kind_name!r} has no attribute {attr!r} (has: {sorted(fields)})")
            if isinstance(cond, dict):
                for op, operand in cond.items():
                    if op not in OPERATORS:
                        raise self.fail(where, attr_line, f"unknown operator {op!r}; use one of {sorted(OPERATORS)}")
                    if op == "matches":
                        try:
                            re.compile(str(operand))
                        except re.error as exc:
                            raise self.fail(where, attr_line, f"bad regex {operand!r}: {exc}") from None
                    conditions.append((attr, op, _plain(operand)))
            else:
                conditions.append((attr, "eq", _plain(cond)))
        count = 1
        if "count" in raw:
            count_spec = raw["count"]
            if not (isinstance(count_spec, dict) and set(count_spec) == {"gte"} and isinstance(count_spec["gte"], int)):
                raise self.fail(where, raw.key_span("count")[0], "count takes {gte: N}")
            count = count_spec["gte"]
        strength = self.strength(raw["min_strength"], where, raw.key_span("min_strength")[0]) if "min_strength" in raw else None
        return Leaf(kind=kind_name, where=tuple(conditions), count=count, min_strength=strength)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def load_pack(kinds: dict[str, Kind], directory: Optional[Path] = None) -> RulePack:
    return _Loader(kinds).load_pack(Path(directory) if directory else default_pack_dir())


def default_pack_dir() -> Path:
    """The default pack ships as package data of the top-level ``rules`` package."""
    from importlib.resources import files

    return Path(str(files("rules")))


def attribute_names(model: type[BaseModel]) -> list[str]:
    return sorted(getattr(model, "model_fields", {}))
