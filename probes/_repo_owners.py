"""CODEOWNERS parsing and gitignore-style path patterns (shared with the LFS check).

Why our own matcher: CODEOWNERS and ``.gitattributes`` use gitignore rules (a pattern without a
slash matches at any depth, a leading slash anchors it), which ``fnmatch`` does not model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional

from scanner.models import Strength
from scanner.globs import glob_to_regex
from scanner.patterns import lazy

from ._repo_models import Codeowners

if TYPE_CHECKING:
    from scanner.models import Evidence
    from scanner.probe import ProbeContext

# GitHub reads the first of these; GitLab also looks in .gitlab/.
CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
ML_DIR_NAMES = frozenset(
    {"data", "features", "training", "train", "models", "model", "serving", "src", "pipelines", "notebooks", "infra"}
)
CATCH_ALL = frozenset({"*", "**", "/*", "/**", "/"})
MAX_ML_DIRS = 500
_SECTION = lazy(r"^\^?\[(?P<name>[^\]]+)\](?:\[\d+\])?(?:\s+(?P<owners>.*))?$")


def compile_git_pattern(pattern: str, *, recursive: bool) -> Optional[re.Pattern[str]]:
    """A regex for one gitignore-style pattern, matched against repo-relative paths.

    ``recursive`` (CODEOWNERS) lets a pattern that matches a directory cover everything in it;
    ``.gitattributes`` patterns match paths themselves only, as git documents.
    """
    pattern = pattern.replace("\\ ", " ").replace("\\#", "#")
    if not pattern or pattern.startswith("!"):
        return None
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        return re.compile(r".*\Z")  # "/" alone: the whole tree
    anchored = "/" in pattern
    body = glob_to_regex(pattern.lstrip("/"))
    prefix = "" if anchored else "(?:.*/)?"
    if dir_only:
        suffix = r"/.*" if recursive else r"(?!)"
    else:
        suffix = r"(?:/.*)?" if recursive else ""
    return re.compile(prefix + body + suffix + r"\Z")


@dataclass
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: Optional[re.Pattern[str]] = field(default=None, repr=False)


@dataclass
class OwnersFile:
    rules: list[Rule]
    sections: int


def parse_codeowners(lines: Iterable[str]) -> OwnersFile:
    """Rules of a GitHub or GitLab CODEOWNERS file, with GitLab section default owners applied."""
    rules: list[Rule] = []
    sections = 0
    defaults: tuple[str, ...] = ()
    for number, raw in enumerate(lines, start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        section = _SECTION.match(line)
        if section:
            sections += 1
            defaults = tuple(_owners((section.group("owners") or "").split()))
            continue
        pattern, owners = _split_rule(line)
        rules.append(Rule(pattern, owners or defaults, number, compile_git_pattern(pattern, recursive=True)))
    return OwnersFile(rules=rules, sections=sections)


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    match = re.search(r"(?<!\\)\s#", line)  # a trailing comment needs a space before the '#'
    return line[: match.start()] if match else line


def _split_rule(line: str) -> tuple[str, tuple[str, ...]]:
    tokens = re.split(r"(?<!\\)\s+", line)
    return tokens[0], tuple(_owners(tokens[1:]))


def _owners(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t.startswith("@") or ("@" in t and "." in t.split("@", 1)[1])]


def ml_dirs(paths: Iterable[str]) -> list[str]:
    """Directories of the tree named like ML code or data (data/, src/, models/, ...), bounded."""
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for depth, name in enumerate(parts):
            if name in ML_DIR_NAMES:
                found.add("/".join(parts[: depth + 1]))
        if len(found) >= MAX_ML_DIRS:
            break
    return sorted(found)


def covered_dirs(rules: list[Rule], dirs: list[str]) -> list[str]:
    """ML directories some non-catch-all rule with owners covers (as a directory, not by extension)."""
    covered = []
    for directory in dirs:
        probes = (directory, f"{directory}/file")
        for rule in rules:
            if rule.owners and rule.pattern not in CATCH_ALL and rule.regex is not None:
                if any(rule.regex.match(p) for p in probes):
                    covered.append(directory)
                    break
    return covered


def codeowners_location(paths: set[str]) -> Optional[str]:
    return next((p for p in CODEOWNERS_LOCATIONS if p in paths), None)


def collect_codeowners(ctx: "ProbeContext") -> Iterable["Evidence"]:
    location = codeowners_location(set(ctx.paths))
    if location is None:
        return
    lines = ctx.facts.lines(location)
    if lines is None:
        reason = ctx.facts.problems.get(location, "unreadable")
        yield ctx.unknown("repo.codeowners", f"CODEOWNERS could not be read: {reason}", path=location)
        return
    parsed = parse_codeowners(lines)
    rules = parsed.rules
    owned = [r for r in rules if r.owners]
    owners = sorted({o for r in owned for o in r.owners})
    catch_all_only = bool(owned) and all(r.pattern in CATCH_ALL for r in owned)
    covered = covered_dirs(rules, ml_dirs(ctx.snapshot.paths()))
    attrs = Codeowners(
        rules=len(rules),
        owners=owners[:50],
        owner_groups=len(owners),
        catch_all_only=catch_all_only,
        covers_ml_paths=bool(covered),
        ml_paths_covered=covered[:30],
        location=location,
        sections=parsed.sections,
    )
    downgrades = []
    if not rules:
        downgrades.append("CODEOWNERS has no rules")
    elif not owned:
        downgrades.append("CODEOWNERS rules name no owners")
    elif catch_all_only:
        downgrades.append("CODEOWNERS has one catch-all rule")
    span = (rules[0].line, rules[-1].line) if rules else None
    strength = Strength.mention if downgrades else Strength.configured
    yield ctx.evidence("repo.codeowners", attrs, path=location, lines=span, strength=strength, downgrades=downgrades)
