"""Every CI pipeline of every system, normalised into one model.

Probes ask questions of :class:`CIModel` ("which jobs run pytest on pull requests?") instead of
re-reading workflow files, so adding a CI system here makes every probe understand it.
Systems parse in their own modules (``ci_github.py``, ``ci_gitlab.py``) and register in ``PARSERS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Literal, Optional

if TYPE_CHECKING:
    from . import Facts

TriggerType = Literal["push", "pull_request", "schedule", "manual", "dispatch", "tag", "release"]


@dataclass(frozen=True)
class Trigger:
    """One way a pipeline or job starts.

    ``manual``: a person clicks (workflow_dispatch, GitLab ``when: manual``/web).
    ``dispatch``: another system calls an API (repository_dispatch, GitLab ``trigger``/``api``).
    """

    type: TriggerType
    cron: Optional[str] = None
    branches: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    line: int = 0


@dataclass
class Step:
    name: str
    start_line: int
    end_line: int
    run: str = ""  # shell commands, as written
    uses: str = ""  # action / image / template reference
    with_: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    non_blocking: Optional[str] = None  # why a failure here cannot fail the job, if it cannot
    condition: str = ""

    def commands(self) -> list[str]:
        """Logical shell lines: continuation lines joined, comments dropped."""
        return shell_lines(self.run)


@dataclass
class Job:
    id: str
    name: str
    path: str
    start_line: int
    end_line: int
    steps: list[Step] = field(default_factory=list)
    triggers: tuple[Trigger, ...] = ()  # effective triggers (pipeline triggers narrowed by job rules)
    environment: Optional[str] = None
    non_blocking: Optional[str] = None  # continue-on-error / allow_failure at job level
    disabled: Optional[str] = None  # why the job can never run (`if: false`, `when: never`)
    needs: tuple[str, ...] = ()
    env: dict = field(default_factory=dict)
    image: str = ""

    def trigger_types(self) -> set[str]:
        return {t.type for t in self.triggers}

    def all_steps_text(self) -> str:
        return "\n".join(s.run for s in self.steps)


@dataclass
class Pipeline:
    system: str  # "github_actions", "gitlab_ci", ...
    path: str
    name: str
    start_line: int
    end_line: int
    triggers: tuple[Trigger, ...] = ()
    jobs: list[Job] = field(default_factory=list)
    env: dict = field(default_factory=dict)


@dataclass
class CIModel:
    pipelines: list[Pipeline] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # path -> reason, for `unknown` evidence

    def jobs(self) -> Iterator[tuple[Pipeline, Job]]:
        for pipeline in self.pipelines:
            for job in pipeline.jobs:
                yield pipeline, job

    def steps(self) -> Iterator[tuple[Pipeline, Job, Step]]:
        for pipeline, job in self.jobs():
            for step in job.steps:
                yield pipeline, job, step

    def steps_running(self, pattern: "re.Pattern[str] | str") -> Iterator[tuple[Pipeline, Job, Step, str]]:
        """Steps with a shell command matching ``pattern``; yields the matching command too."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        for pipeline, job, step in self.steps():
            for command in step.commands():
                if rx.search(command):
                    yield pipeline, job, step, command
                    break


_NON_BLOCKING_SHELL = re.compile(r"\|\|\s*(true|:|exit\s+0)\b|^\s*set\s+\+e\b")


def shell_lines(script: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in script.splitlines():
        line = raw.strip()
        if pending:
            line = pending + " " + line
            pending = ""
        if line.endswith("\\"):
            pending = line[:-1].rstrip()
            continue
        if not line or line.startswith("#"):
            continue
        lines.append(line)
    if pending:
        lines.append(pending)
    return lines


def shell_non_blocking(command: str) -> Optional[str]:
    """Why a shell line cannot fail its step (``|| true``, ``set +e``), or None."""
    match = _NON_BLOCKING_SHELL.search(command)
    return f"`{match.group(0).strip()}` swallows failures" if match else None


Parser = Callable[["Facts", str], Optional[Pipeline]]

# (path regex, parser). Systems register here; build_ci_model reads each matching file once.
PARSERS: list[tuple["re.Pattern[str]", Parser]] = []


def register(pattern: str) -> Callable[[Parser], Parser]:
    def wrap(parser: Parser) -> Parser:
        PARSERS.append((re.compile(pattern), parser))
        return parser

    return wrap


def build_ci_model(facts: "Facts") -> CIModel:
    from . import ci_github, ci_gitlab  # noqa: F401  (they register their parsers)

    model = CIModel()
    for path in facts.snapshot.paths():
        for pattern, parser in PARSERS:
            if pattern.fullmatch(path):
                pipeline = parser(facts, path)
                if pipeline is None:
                    model.unreadable[path] = facts.problems.get(path, "not a pipeline definition")
                else:
                    model.pipelines.append(pipeline)
                break
    return model
