"""Which CI steps run which repository file, and which workflows can be started from outside.

Shared by the drift and governance_tools probes. A drift check or an explainability script is
only a pipeline when something runs it: a CI step ``python monitoring/drift.py`` or
``python -m monitoring.drift`` (one import hop further: an entry script that imports the module),
or ``papermill notebooks/drift.ipynb``. Reads only the normalised CI model and the Python index.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Optional

from scanner.facts.ci import Job, Pipeline, Step
from scanner.facts.commands import invocations
from scanner.facts.yamldoc import YList, YMap, get_key
from scanner.probe import ProbeContext


@dataclass(frozen=True)
class CiRun:
    """One CI step that runs a file (directly, or through an entry script that imports it)."""

    pipeline: Pipeline
    job: Job
    step: Step
    command: str
    via: str = ""  # the entry script, when the file is reached through an import

    @property
    def path(self) -> str:
        return self.step.where(self.job)

    @property
    def dead(self) -> Optional[str]:
        return self.job.disabled or self.step.disabled

    def crons(self) -> list[str]:
        triggers = self.step.triggers if self.step.triggers is not None else self.job.triggers
        return sorted({t.cron for t in triggers if t.type == "schedule" and t.cron})

    def scheduled(self) -> bool:
        triggers = self.step.triggers if self.step.triggers is not None else self.job.triggers
        return not self.dead and any(t.type == "schedule" for t in triggers)


def ci_model(ctx: ProbeContext) -> Any:
    try:
        return ctx.facts.ci
    except ImportError:  # a build without CI parsers
        return None


def _dotted(path: str) -> list[str]:
    """Import names a module path can be reached by (``src/`` layouts included)."""
    base = path[:-3] if path.endswith(".py") else path
    if base.endswith("/__init__"):
        base = base[: -len("/__init__")]
    names = [base.replace("/", ".")]
    if base.startswith("src/"):
        names.append(base[4:].replace("/", "."))
    return names


def module_names(ctx: ProbeContext) -> dict[str, str]:
    """dotted module name -> path, over every .py file of the tree (read it, never change it)."""
    return ctx.memo("ci_links.module_names", lambda: _module_names(tuple(ctx.facts.python.modules)))


@lru_cache(maxsize=4)
def _module_names(modules: tuple[str, ...]) -> dict[str, str]:
    """One map per module list: the probes of a scan, and a diff's two scans, share it."""
    found: dict[str, str] = {}
    for path in modules:
        for name in _dotted(path):
            found.setdefault(name, path)
    return found


@lru_cache(maxsize=4)
def _known(modules: tuple[str, ...], notebooks: tuple[str, ...]) -> frozenset[str]:
    return frozenset(modules) | frozenset(notebooks)


def _resolve(ctx: ProbeContext, inv: Any, workdir: str) -> list[str]:
    modules = ctx.memo("ci_links.known", lambda: _known(tuple(ctx.facts.python.modules),
                                                         tuple(ctx.facts.python.notebooks)))
    candidates: list[str] = []
    if inv.script:
        candidates.append(posixpath.normpath(posixpath.join(workdir or ".", inv.script)))
    elif inv.module:
        base = inv.module.replace(".", "/")
        for root in (workdir, "src", ""):
            candidates += [posixpath.normpath(posixpath.join(root or ".", base + ".py")),
                           posixpath.normpath(posixpath.join(root or ".", base, "__main__.py"))]
    for arg in inv.args:  # papermill/nbconvert/jupyter execute a notebook
        if isinstance(arg, str) and arg.endswith(".ipynb"):
            candidates.append(posixpath.normpath(posixpath.join(workdir or ".", arg)))
    return [c for c in candidates if c in modules]


def runs_by_path(ctx: ProbeContext) -> dict[str, list[CiRun]]:
    """path -> the CI steps that run it, directly or one import away from the entry script."""
    return ctx.memo("ci_links.runs", lambda: _runs_by_path(ctx))


def _runs_by_path(ctx: ProbeContext) -> dict[str, list[CiRun]]:
    found: dict[str, list[CiRun]] = {}
    ci = ci_model(ctx)
    if ci is None:
        return found
    names = module_names(ctx)
    for pipeline, job, step in ci.steps():
        for command in step.commands():
            for inv in invocations(command):
                for path in _resolve(ctx, inv, step.workdir):
                    found.setdefault(path, []).append(CiRun(pipeline, job, step, command))
                    pyfile = ctx.facts.python.files.get(path)
                    for imp in pyfile.imports if pyfile else []:
                        target = names.get(imp.module) or names.get(imp.module.rsplit(".", 1)[0])
                        if target and target != path:
                            found.setdefault(target, []).append(CiRun(pipeline, job, step, command, via=path))
    return found


def workflow_listeners(ctx: ProbeContext) -> list[tuple[str, str, list[str], int]]:
    """(workflow path, event, repository_dispatch types, line) for GitHub workflows that another
    system can start: ``repository_dispatch`` (with its ``types``) and ``workflow_dispatch``."""
    def build() -> list[tuple[str, str, list[str], int]]:
        found: list[tuple[str, str, list[str], int]] = []
        ci = ci_model(ctx)
        for pipeline in ci.pipelines if ci is not None else []:
            if pipeline.system != "github_actions":
                continue
            doc = ctx.facts.yaml_doc(pipeline.path)
            key, on = get_key(doc, "on", True)
            if key is None:
                continue
            events: dict[str, Any] = {}
            lines: dict[str, int] = {}
            if isinstance(on, str):
                events[on] = None
                lines[on] = doc.key_span(key)[0]
            elif isinstance(on, YList):
                for index, event in enumerate(on):
                    events[str(event)] = None
                    lines[str(event)] = on.item_span(index)[0]
            elif isinstance(on, YMap):
                for event, config in on.items():
                    events[str(event)] = config
                    lines[str(event)] = on.key_span(event)[0]
            for event in ("repository_dispatch", "workflow_dispatch"):
                if event in events:
                    config = events[event]
                    types = config.get("types") if isinstance(config, dict) else None
                    types = [str(t) for t in types] if isinstance(types, list) else [str(types)] if types else []
                    found.append((pipeline.path, event, sorted(types), lines[event]))
        return found

    return ctx.memo("ci_links.listeners", build)


def steps_matching(ctx: ProbeContext, predicate: Any) -> Iterator[tuple[Pipeline, Job, Step, str]]:
    """(pipeline, job, step, what) for every CI step ``predicate(step)`` names (non-empty)."""
    ci = ci_model(ctx)
    if ci is None:
        return
    for pipeline, job, step in ci.steps():
        what = predicate(step)
        if what:
            yield pipeline, job, step, what
