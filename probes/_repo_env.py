"""Environment specs and shared developer tooling (RUBRIC CO-b, CO-d, ET-i).

A ``pyproject.toml`` that only configures linters is not an environment spec, so the TOML is read
by sections (a line scan: no TOML library is needed, and Python 3.10 has none).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional

from scanner.models import Strength
from scanner.patterns import lazy

from ._repo_models import DevTooling, EnvSpec

if TYPE_CHECKING:
    from scanner.models import Evidence
    from scanner.probe import ProbeContext

MAX_FILES = 30
_SKIP_DIR = lazy(r"(?:^|/)(?:tests?|fixtures|examples?|docs?|node_modules|vendor|third_party)/")
_REQUIREMENTS = lazy(r"(?:^|/)(?:requirements[\w.-]*\.txt|requirements/[\w.-]+\.txt)$")
_LOCKS = lazy(
    r"(?:^|/)(?:poetry\.lock|uv\.lock|pipfile\.lock|pdm\.lock|(?:[\w.-]+\.)?conda-lock\.ya?ml|"
    r"conda-[\w-]+\.lock|requirements[\w.-]*\.lock)$"
)
_OTHER_SPECS = lazy(
    r"(?:^|/)(?:environment[\w.-]*\.ya?ml|pipfile|dockerfile(?:\.[\w.-]+)?|[\w.-]+\.dockerfile)$"
)
_HEADER = lazy(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_PINNED = lazy(r"^[A-Za-z0-9][\w.\-\[\], ]*(?:===?)\s*[\w.!+\-]+(?:\s*;.*)?$")
_DIRECT_PINNED = lazy(r"@\s*\S+(?:@[0-9a-f]{40}\b|#sha256=[0-9a-f]{64})")
_SECTION_WITH_DEPS = lazy(
    r"^(?:tool\.poetry(?:\.group\.[\w-]+)?\.(?:dev-)?dependencies|project\.optional-dependencies|"
    r"dependency-groups|tool\.pdm\.dev-dependencies)$"
)


# -- TOML / INI by sections ------------------------------------------------------------------


def sections(lines: list[str]) -> dict[str, list[str]]:
    """Body lines of each ``[table]`` (and ``[[array]]``) of a TOML or INI file, in order."""
    found: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines:
        header = _HEADER.match(line)
        if header:
            current = header.group(1).strip().strip('"')
            found.setdefault(current, [])
        else:
            found[current].append(line)
    return found


def pyproject_declares_deps(lines: list[str]) -> bool:
    tables = sections(lines)
    project = "\n".join(tables.get("project", []))
    if re.search(r"^\s*dependencies\s*=\s*\[[^\]]*[\"']", project, re.MULTILINE):
        return True
    if re.search(r"^\s*dynamic\s*=\s*\[[^\]]*[\"']dependencies[\"']", project, re.MULTILINE):
        return True
    for name, body in tables.items():
        if _SECTION_WITH_DEPS.match(name) and any(
            re.match(r"^\s*[\w\"'.-]+\s*=", line) and not re.match(r"^\s*python\s*=", line) for line in body
        ):
            return True
    uv = "\n".join(tables.get("tool.uv", []))
    return bool(re.search(r"^\s*dev-dependencies\s*=\s*\[[^\]]*[\"']", uv, re.MULTILINE))


def fully_pinned(lines: list[str]) -> bool:
    """Every requirement is ``==``-pinned (or a direct reference pinned to a commit or hash)."""
    requirements = 0
    for line in _logical_lines(lines):
        if not line or line.startswith("-"):
            continue  # options: -r/-c includes, -e editables, --index-url, hash-only continuations
        requirements += 1
        if not (_PINNED.match(line) or _DIRECT_PINNED.search(line)) or "*" in line:
            return False
    return requirements > 0


def _logical_lines(lines: list[str]) -> Iterable[str]:
    buffer = ""
    for raw in lines:
        line = re.sub(r"(?:^|\s)#.*$", "", raw).strip()
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        yield re.sub(r"\s--hash[= ]\S+", "", buffer + line).strip()
        buffer = ""
    if buffer:
        yield buffer.strip()


# -- environment spec ------------------------------------------------------------------------


def collect_env_spec(ctx: "ProbeContext") -> Iterable["Evidence"]:
    files: list[str] = []
    locks: list[str] = []
    for path in ctx.paths:
        low = path.lower()
        if _SKIP_DIR.search(low):
            continue
        name = low.rsplit("/", 1)[-1]
        if _LOCKS.search(low):
            files.append(path)
            locks.append(path)
        elif _REQUIREMENTS.search(low):
            files.append(path)
            lines = ctx.facts.lines(path)
            if lines is not None and fully_pinned(lines):
                locks.append(path)
        elif name == "pyproject.toml":
            if pyproject_declares_deps(ctx.facts.lines(path) or []):
                files.append(path)
        elif name in ("setup.cfg", "setup.py"):
            if "install_requires" in (ctx.facts.text(path) or ""):
                files.append(path)
        elif _OTHER_SPECS.search(low):
            files.append(path)
    if not files:
        return
    files = sorted(files)
    attrs = EnvSpec(files=files[:MAX_FILES], locked=bool(locks), lock_files=sorted(locks)[:MAX_FILES])
    yield ctx.evidence("repo.env_spec", attrs, path=(sorted(locks) or files)[0])


# -- developer tooling -----------------------------------------------------------------------

_PRECOMMIT = (".pre-commit-config.yaml", ".pre-commit-config.yml")
_DEVCONTAINER = lazy(r"^(?:\.devcontainer\.json|\.devcontainer/(?:[^/]+/)?devcontainer\.json)$")
_RUNNER_FILES = (
    ("make", ("Makefile", "makefile", "GNUmakefile")),
    ("just", ("justfile", "Justfile", ".justfile")),
    ("nox", ("noxfile.py",)),
    ("tox", ("tox.ini",)),
)
_JUPYTEXT = (".jupytext", ".jupytext.toml", "jupytext.toml", ".jupytext.yml", ".jupytext.yaml", "jupytext.yml", ".jupytext.json")
_HYGIENE_HOOKS = frozenset({"nbstripout", "nbstripout-fast", "jupytext", "nb-clean"})


def _precommit_hooks(ctx: "ProbeContext", path: str) -> list[str]:
    doc = ctx.facts.yaml_doc(path)
    repos = doc.get("repos") if isinstance(doc, dict) else None
    hooks: list[str] = []
    for repo in repos if isinstance(repos, list) else []:
        for hook in (repo.get("hooks") or []) if isinstance(repo, dict) else []:
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                hooks.append(hook["id"])
    return hooks


def _task_runners(ctx: "ProbeContext", present: set[str]) -> tuple[list[str], list[str]]:
    runners: list[str] = []
    cited: list[str] = []
    for runner, names in _RUNNER_FILES:
        hit = next((n for n in names if n in present), None)
        if hit:
            runners.append(runner)
            cited.append(hit)
    if "tox" not in runners:
        for path, table in (("pyproject.toml", "tool.tox"), ("setup.cfg", "tox:tox")):
            if path in present and table in sections(ctx.facts.lines(path) or []):
                runners.append("tox")
                cited.append(path)
                break
    for path in ("tasks.py", "tasks/__init__.py"):
        pyfile = ctx.facts.python.files.get(path)
        if pyfile is not None and pyfile.imports_module("invoke"):
            runners.append("invoke")
            cited.append(path)
            break
    return sorted(runners), cited


def _notebook_hygiene(ctx: "ProbeContext", present: set[str], hooks: list[str]) -> Optional[str]:
    """The file that keeps notebook outputs out of git (nbstripout, jupytext), if any."""
    for path in sorted(p for p in ctx.paths if p == ".gitattributes" or p.endswith("/.gitattributes")):
        if re.search(r"\bfilter=nbstripout\b", ctx.facts.text(path) or ""):
            return path
    for name in _JUPYTEXT:
        if name in present:
            return name
    if "pyproject.toml" in present and "tool.jupytext" in sections(ctx.facts.lines("pyproject.toml") or []):
        return "pyproject.toml"
    if _HYGIENE_HOOKS.intersection(hooks):
        return next(p for p in _PRECOMMIT if p in present)
    return None


def collect_dev_tooling(ctx: "ProbeContext") -> Iterable["Evidence"]:
    present = set(ctx.paths)
    precommit = next((p for p in _PRECOMMIT if p in present), None)
    hooks = _precommit_hooks(ctx, precommit) if precommit else []
    devcontainer = next((p for p in ctx.paths if _DEVCONTAINER.match(p)), None)
    runners, runner_files = _task_runners(ctx, present)
    hygiene = _notebook_hygiene(ctx, present, hooks)
    cited = [p for p in (precommit, devcontainer, *runner_files, hygiene) if p]
    if not cited:
        return
    attrs = DevTooling(
        precommit=precommit is not None,
        precommit_hooks=len(hooks),
        devcontainer=devcontainer is not None,
        task_runner=runners,
        notebook_hygiene=hygiene is not None,
    )
    downgrades = ["pre-commit config declares no hooks"] if precommit and not hooks and len(cited) == 1 else []
    yield ctx.evidence(
        "repo.dev_tooling", attrs, path=cited[0],
        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
    )
