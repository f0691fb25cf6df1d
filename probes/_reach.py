"""What runs what: the cross-reference that makes code in a repository "configured".

A tracking call, a seed or a search only matters where something runs it. A file counts as run
when it has a ``__main__`` guard, an MLproject entry point or a ``dvc.yaml`` stage names it, a CI
step runs it (``python x.py``, ``python -m pkg.mod``, ``mlflow run .``), a pipeline runs it (a
Kubeflow/Vertex component used as a task of a ``@dsl.pipeline``, a container component whose
command runs a repo module, a TFX ``module_file``/custom component, a SageMaker step's
``entry_point``/``code``, an Azure ML ``command``: see ``probes.orchestrators.pipeline_reached``),
or such an entrypoint imports it (one level deep). Shared by the probes that weigh Python evidence this way (mlflow,
trackers) so they agree on what "reached" means. Nothing scanned is imported or run.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Optional

from scanner.facts.ci import CIModel
from scanner.facts.python import PythonIndex, imports_of
from scanner.patterns import lazy
from scanner.probe import ProbeContext

MAX_COMMAND_TOKENS = 200

# Files that define pipelines decide what a pipeline runs: a probe weighing reach must have them
# in its Python index, so it adds these to its prefilter tokens.
PIPELINE_ROOTS = ("kfp", "tfx", "sagemaker.workflow", "azure.ai.ml")
PIPELINE_TOKENS = imports_of(*PIPELINE_ROOTS)

PYTHON = lazy(r"python(?:\d(?:\.\d+)?)?(?:\.exe)?")
TEST_RUNNER = lazy(r"\b(?:pytest|py\.test|unittest|nose2?|tox|nox)\b")
MLFLOW_RUN = lazy(r"(?:^|[\s;&|(])mlflow\s+run(?=\s)")


def in_mlruns(path: str) -> bool:
    return "mlruns" in path.split("/")[:-1]


@dataclass
class Wiring:
    """Which files something runs, and how: the cross-reference that makes code "configured"."""

    runs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # path -> reasons
    ci_runs: set[str] = field(default_factory=set)
    _imported: Optional[dict[str, set[str]]] = None

    @classmethod
    def build(cls, ctx: ProbeContext, index: PythonIndex, ci: CIModel) -> "Wiring":
        wiring = cls()
        resolver = Resolver.of(tuple(index.modules), tuple(index.notebooks))
        for path, pyfile in index.files.items():
            if pyfile.has_main_guard and not pyfile.notebook:
                wiring.runs[path].add("main_guard")
        projects: dict[str, dict[str, set[str]]] = {}  # MLproject dir -> entry point -> files
        for path in ctx.paths:
            name = posixpath.basename(path)
            if in_mlruns(path):
                continue
            if name.lower() == "mlproject":
                here = posixpath.dirname(path)
                entries = {e: resolver.targets(c, here) for e, c in mlproject_commands(ctx, path).items()}
                projects[here] = entries
                for targets in entries.values():
                    wiring.add(targets, "mlproject")
            elif name == "dvc.yaml":
                for command, base in dvc_commands(ctx, path):
                    wiring.add(resolver.targets(command, base), "dvc")
        from .orchestrators import pipeline_reached  # imported here: orchestrators imports this module

        wiring.add(pipeline_reached(ctx, resolver.targets), "pipeline")
        for _pipeline, job, step in ci.steps():
            if job.disabled or step.disabled:
                continue  # a job that can never run wires nothing
            for command in step.commands():
                targets = resolver.targets(command, step.workdir) | mlflow_run_targets(command, step.workdir, projects)
                wiring.add(targets, "ci")
                wiring.ci_runs |= targets
        return wiring

    def add(self, paths: Iterable[str], reason: str) -> None:
        for path in paths:
            self.runs[path].add(reason)

    def imported_names(self, index: PythonIndex) -> dict[str, set[str]]:
        """Dotted name (and each of its prefixes) -> entrypoints importing it; built once."""
        if self._imported is None:
            self._imported = defaultdict(set)
            for entry in self.runs:
                importer = index.files.get(entry)
                for imp in importer.imports if importer else ():
                    parts = imp.module.split(".")
                    for end in range(1, len(parts) + 1):
                        self._imported[".".join(parts[:end])].add(entry)
        return self._imported


class Resolver:
    """Turns a shell command into the repository files it runs (scripts, ``-m`` modules, notebooks)."""

    def __init__(self, modules: Iterable[str], notebooks: Iterable[str]):
        self.known = set(modules) | set(notebooks)
        by_name: dict[str, list[str]] = defaultdict(list)
        for path in sorted(self.known):
            by_name[path[path.rfind("/") + 1:]].append(path)
        self.by_name = dict(by_name)

    @staticmethod
    @lru_cache(maxsize=4)
    def of(modules: tuple[str, ...], notebooks: tuple[str, ...]) -> "Resolver":
        """One resolver per file list, shared by the probes (and a diff's two scans) that need it;
        it is only read after it is built."""
        return Resolver(modules, notebooks)

    def targets(self, command: str, base_dir: str) -> set[str]:
        if TEST_RUNNER.search(command):
            return set()  # a test run executes tests, not training entrypoints
        try:
            tokens = shlex.split(command)
        except ValueError:
            tokens = command.split()
        tokens = tokens[:MAX_COMMAND_TOKENS]
        found: set[str] = set()
        python_seen = False
        for i, token in enumerate(tokens):
            if token == "cd" and i + 1 < len(tokens):
                base_dir = posixpath.normpath(posixpath.join(base_dir, tokens[i + 1])).lstrip("/")
                base_dir = "" if base_dir == "." else base_dir
            elif PYTHON.fullmatch(posixpath.basename(token)):
                python_seen = True
            elif token == "-m" and python_seen and i + 1 < len(tokens):
                found |= self._module(tokens[i + 1], base_dir)
            elif token.endswith((".py", ".ipynb")):
                found |= self.file(token, base_dir)
        return found

    def file(self, token: str, base_dir: str) -> set[str]:
        """The file a command names, relative to its directory, else the repository root, else
        any file with that path suffix (a CI step's working directory is not always known)."""
        for base in (base_dir, ""):
            candidate = posixpath.normpath(posixpath.join(base, token)).lstrip("/")
            if candidate in self.known:
                return {candidate}
        tail = posixpath.normpath(token).lstrip("/")
        while tail.startswith("../"):
            tail = tail[3:]
        return {p for p in self.by_name.get(posixpath.basename(tail), []) if p == tail or p.endswith("/" + tail)}

    def _module(self, dotted: str, base_dir: str) -> set[str]:
        if not re.fullmatch(r"[A-Za-z_][\w.]*", dotted):
            return set()
        rel = dotted.replace(".", "/")
        return self.file(rel + ".py", base_dir) or self.file(rel + "/__main__.py", base_dir)


def mlproject_commands(ctx: ProbeContext, path: str) -> dict[str, str]:
    doc = ctx.facts.yaml_doc(path)
    entries = doc.get("entry_points") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {
        str(name): entry["command"]
        for name, entry in entries.items()
        if isinstance(entry, dict) and isinstance(entry.get("command"), str)
    }


def mlflow_run_targets(command: str, workdir: str, projects: dict[str, dict[str, set[str]]]) -> set[str]:
    """Files behind ``mlflow run <local dir> [-e entry]``: the MLproject entry point's command."""
    match = MLFLOW_RUN.search(command)
    if not match:
        return set()
    try:
        tokens = shlex.split(command[match.end():])
    except ValueError:
        tokens = command[match.end():].split()
    uri, entry = None, "main"
    i = 0
    while i < min(len(tokens), MAX_COMMAND_TOKENS):
        token = tokens[i]
        if token in ("-e", "--entry-point") and i + 1 < len(tokens):
            entry, i = tokens[i + 1], i + 2
            continue
        if token.startswith("--entry-point="):
            entry = token.split("=", 1)[1]
        elif token in ("-P", "--param-list", "-A", "--docker-args", "-b", "--backend", "-c",
                       "--backend-config", "--experiment-name", "--experiment-id", "--run-name",
                       "--env-manager", "-v", "--version", "--run-id", "--build-image"):
            i += 1 if token == "--build-image" else 2
            continue
        elif not token.startswith("-") and uri is None:
            uri = token
        i += 1
    if uri is None or "://" in uri or uri.startswith("git@"):
        return set()  # a remote project is not this repository's code
    here = posixpath.normpath(posixpath.join(workdir, uri)).lstrip("/")
    return set(projects.get("" if here == "." else here, {}).get(entry, set()))


def dvc_commands(ctx: ProbeContext, path: str) -> list[tuple[str, str]]:
    """(command, directory it runs in) for every stage, ``foreach``/``do`` stages included."""
    doc = ctx.facts.yaml_doc(path)
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return []
    here = posixpath.dirname(path)
    out: list[tuple[str, str]] = []
    for stage in stages.values():
        if not isinstance(stage, dict):
            continue
        body = stage.get("do") if isinstance(stage.get("do"), dict) else stage
        wdir = body.get("wdir") if isinstance(body.get("wdir"), str) else "."
        base = posixpath.normpath(posixpath.join(here, wdir))
        base = "" if base == "." else base
        commands = body.get("cmd")
        for command in commands if isinstance(commands, list) else [commands]:
            if isinstance(command, str):
                out.append((command, base))
    return out


def module_names(path: str) -> set[str]:
    """Dotted names a module can be imported by: every suffix of its path (``src/`` layouts)."""
    stem = path[: -len(".py")] if path.endswith(".py") else path
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts)) if parts[i:]}


def importing_entrypoints(index: PythonIndex, path: str, wiring: Wiring) -> list[str]:
    """Entrypoints that import ``path`` directly (one level deep).

    A bare one-segment name (``import train``) only counts from the same directory: that is how
    sibling scripts import each other, and elsewhere it would match unrelated modules.
    """
    imported = wiring.imported_names(index)
    here = posixpath.dirname(path)
    found: set[str] = set()
    for name in module_names(path):
        for entry in imported.get(name, ()):
            if entry != path and ("." in name or posixpath.dirname(entry) == here):
                found.add(entry)
    return sorted(found)


def reach(index: PythonIndex, path: str, wiring: Wiring, notebook: bool) -> tuple[bool, list[str], bool]:
    """(run itself, sorted reasons it is reached, imported by an entrypoint) for one file."""
    via = set(wiring.runs.get(path, set()))
    importers = [] if notebook else importing_entrypoints(index, path, wiring)
    if importers:
        via.add("import")
    return bool(wiring.runs.get(path)), sorted(via), bool(importers)
