"""Every CI pipeline of every system, normalised into one model.

Probes ask questions of :class:`CIModel` ("which jobs run pytest on pull requests?") instead of
re-reading workflow files, so adding a CI system here makes every probe understand it.
Systems parse in their own modules (``ci_github.py``, ``ci_gitlab.py``) and register in ``PARSERS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Literal, Optional

from ..patterns import lazy
from .yamldoc import YMap

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
    path: str = ""  # file the ``line`` is in, when not the pipeline's own file (GitLab includes)


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
    path: str = ""  # file the lines are in (a GitLab template may live in an included file)
    disabled: Optional[str] = None  # why the step can never run (`if: false`)
    triggers: Optional[tuple[Trigger, ...]] = None  # narrower than the job's, when a step `if:` says so
    workdir: str = ""  # working directory relative to the repository root ("" = root)

    def commands(self) -> list[str]:
        """Logical shell lines: continuation lines joined, comments dropped."""
        return shell_lines(self.run)

    def command_non_blocking(self, command: str) -> Optional[str]:
        """Why a failure of ``command`` (one of :meth:`commands`) cannot fail this step, or None.

        Per command, not per step: ``pip install x || true`` must not excuse the ``pytest`` on the
        next line, while ``set +e`` excuses every command after it (until ``set -e``).
        """
        if self.non_blocking:
            return self.non_blocking
        errexit_off = False
        for line in self.commands():
            if _SET_PLUS_E.search(line):
                errexit_off = True
            elif _SET_MINUS_E.search(line):
                errexit_off = False
            if line == command:
                if errexit_off and not _SET_PLUS_E.search(line):
                    return "`set +e` earlier in the step swallows failures"
                return shell_non_blocking(command)
        return shell_non_blocking(command)

    def where(self, job: "Job") -> str:
        """The file to cite for this step."""
        return self.path or job.path


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
    # references the parser did not follow (remote includes, other repositories' reusable
    # workflows, missing or malformed local files): (reference, reason)
    unfollowed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CIModel:
    pipelines: list[Pipeline] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # path -> reason, for `unknown` evidence
    paths: list[str] = field(default_factory=list)  # every path a CI system's pattern names (parsed or not)

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


_NON_BLOCKING_SHELL = lazy(
    r"\|\|\s*(?:(?:/usr)?(?:/bin/)?true\b|:(?=\s|;|\)|$)|exit\s+0\b|echo\b|printf\b)"
    r"|^\s*set\s+\+[a-z]*e"
)
_SET_PLUS_E = lazy(r"^\s*set\s+\+[a-z]*e|^\s*set\s+\+o\s+errexit\b")
_SET_MINUS_E = lazy(r"^\s*set\s+-[a-z]*e|^\s*set\s+-o\s+errexit\b")


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


_FAILS_AFTER_ALL = lazy(r"\bexit\s+(?:[1-9]|\$)|\bfalse\b")


def shell_non_blocking(command: str) -> Optional[str]:
    """Why a shell line cannot fail its step (``|| true``, ``|| echo``, ``set +e``), or None.

    ``cmd || echo failed && exit 1`` still fails, so a fallback that exits non-zero later on the
    same line is not counted.
    """
    match = _NON_BLOCKING_SHELL.search(command)
    if not match or _FAILS_AFTER_ALL.search(command[match.end():]):
        return None
    return f"`{match.group(0).strip()}` swallows failures"


# -- trigger conditions ------------------------------------------------------------------

ALL_TRIGGER_TYPES: frozenset[str] = frozenset(
    ("push", "pull_request", "schedule", "manual", "dispatch", "tag", "release")
)

# An atom evaluates to the trigger types under which it can be true, or None when it does not
# constrain the trigger at all (``needs.build.result == 'success'``, ``$DEPLOY == "1"``).
Atom = Callable[[str], Optional[frozenset]]

_MAX_CONDITION_CHARS = 4000
_MAX_CONDITION_DEPTH = 40


def eval_condition(expr: str, atom: Atom) -> Optional[frozenset]:
    """Which trigger types a job/step condition (``&&``, ``||``, ``!``, parentheses) allows.

    Shared by GitHub ``if:`` and GitLab ``rules: if:``; each system supplies its own ``atom``.
    The result is an over-approximation: None means "any trigger", an empty set "never".
    Negated groups (``!(...)``) are treated as unconstrained rather than guessed.
    """
    tokens = _condition_tokens(expr[:_MAX_CONDITION_CHARS])
    if not tokens:
        return None
    parser = _ConditionParser(tokens, atom)
    try:
        return parser.parse_or(0)
    except (IndexError, RecursionError):
        return None


def _condition_tokens(expr: str) -> list[str]:
    """Split into ``(``, ``)``, ``&&``, ``||``, ``!`` and atoms; quotes, regex literals
    (after ``=~``/``!~``) and function calls (``startsWith(a, 'b')``) stay inside their atom."""
    tokens: list[str] = []
    buf: list[str] = []
    i, n = 0, len(expr)

    def flush() -> None:
        text = "".join(buf).strip()
        buf.clear()
        if text == "!":
            tokens.append("!")
        elif text:
            tokens.append(text)

    while i < n:
        c = expr[i]
        if c in "'\"":
            end = expr.find(c, i + 1)
            end = n - 1 if end < 0 else end
            buf.append(expr[i : end + 1])
            i = end + 1
        elif expr.startswith("&&", i) or expr.startswith("||", i):
            flush()
            tokens.append(expr[i : i + 2])
            i += 2
        elif c == "/" and re.search(r"[=!]~\s*$", "".join(buf)):
            end = i + 1
            while end < n and expr[end] != "/":
                end += 2 if expr[end] == "\\" else 1
            buf.append(expr[i : end + 1])
            i = end + 1
        elif c == "(" and re.search(r"[A-Za-z_][\w.]*\s*$", "".join(buf)):
            depth, end = 0, i
            while end < n:
                if expr[end] in "'\"":
                    close = expr.find(expr[end], end + 1)
                    end = n - 1 if close < 0 else close
                elif expr[end] == "(":
                    depth += 1
                elif expr[end] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            buf.append(expr[i : end + 1])
            i = end + 1
        elif c in "()":
            flush()
            tokens.append(c)
            i += 1
        elif c == "!" and not "".join(buf).strip() and not expr.startswith("!=", i) and not expr.startswith("!~", i):
            flush()
            tokens.append("!")
            i += 1
        else:
            buf.append(c)
            i += 1
    flush()
    return tokens


class _ConditionParser:
    def __init__(self, tokens: list[str], atom: Atom):
        self.tokens = tokens
        self.pos = 0
        self.atom = atom

    def _peek(self) -> Optional[str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse_or(self, depth: int) -> Optional[frozenset]:
        parts = [self.parse_and(depth)]
        while self._peek() == "||":
            self.pos += 1
            parts.append(self.parse_and(depth))
        if any(p is None for p in parts):
            return None
        return frozenset().union(*parts)

    def parse_and(self, depth: int) -> Optional[frozenset]:
        parts = [self.parse_unary(depth)]
        while self._peek() == "&&":
            self.pos += 1
            parts.append(self.parse_unary(depth))
        known = [p for p in parts if p is not None]
        if not known:
            return None
        result = known[0]
        for part in known[1:]:
            result = result & part
        return result

    def parse_unary(self, depth: int) -> Optional[frozenset]:
        if depth > _MAX_CONDITION_DEPTH:
            raise RecursionError
        token = self._peek()
        if token is None:
            return None
        if token == "!":
            self.pos += 1
            self.parse_unary(depth + 1)
            return None
        if token == "(":
            self.pos += 1
            value = self.parse_or(depth + 1)
            if self._peek() == ")":
                self.pos += 1
            return value
        if token in (")", "&&", "||"):
            self.pos += 1
            return None
        self.pos += 1
        return self.atom(token)


def narrow(triggers: tuple[Trigger, ...], allowed: Optional[frozenset]) -> tuple[Trigger, ...]:
    """The triggers whose type ``allowed`` keeps (all of them when ``allowed`` is None)."""
    if allowed is None:
        return triggers
    return tuple(t for t in triggers if t.type in allowed)


def trigger_types(triggers: tuple[Trigger, ...]) -> list[str]:
    """Sorted distinct trigger types, for attributes."""
    return sorted({t.type for t in triggers})


Parser = Callable[["Facts", str], Optional[Pipeline]]
Sniff = Callable[["Facts", str], bool]

# (path regex, parser). Systems register here; build_ci_model reads each matching file once.
PARSERS: list[tuple["re.Pattern[str]", Parser]] = []
# parser registrations whose path regex is only a hint: the file is theirs when the sniff, which
# looks at content, says so (Tekton manifests live anywhere; Azure pipelines under `ci/`...).
SNIFFS: dict[int, Sniff] = {}


def pipeline_doc(facts: "Facts", path: str, system: str) -> "YMap | Pipeline | None":
    """The first YAML document of a CI file, as the parsers start: None when it is not valid YAML
    or not a mapping, a pipeline with no jobs when it is empty (or all commented out), else the
    mapping to parse."""
    docs = facts.yaml(path)
    if docs is None:
        return None
    doc = docs[0] if docs else None
    if doc is None:
        return Pipeline(system=system, path=path, name=path, start_line=1, end_line=1)
    return doc if isinstance(doc, YMap) else None


# What a path must have for a registration's pattern to match it at all: a suffix, a substring
# (empty: no such promise). Most paths of a tree are no CI file; these rule them out with str
# methods instead of the regexes.
HINTS: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
YAML_SUFFIXES = (".yml", ".yaml")


def register(pattern: str, sniff: Optional[Sniff] = None, *, suffixes: tuple[str, ...] = (),
             contains: tuple[str, ...] = ()) -> Callable[[Parser], Parser]:
    """Claim the files whose path fully matches ``pattern``; with ``sniff``, only those it accepts
    (a rejected file goes on to the next registration, and is not reported as unreadable).

    ``suffixes`` and ``contains`` promise that every matching path ends with one of the suffixes
    and holds one of the substrings: paths without them are not tried against ``pattern``."""

    def wrap(parser: Parser) -> Parser:
        if sniff is not None:
            SNIFFS[len(PARSERS)] = sniff
        PARSERS.append((re.compile(pattern), parser))
        HINTS.append((suffixes, contains))
        return parser

    return wrap


def ci_blocking_reasons(job: Job, step: Step, command_line: str) -> list[str]:
    """Why a failure of this command cannot fail the pipeline (empty when it can)."""
    reasons = []
    for why in (job.disabled, step.disabled):
        if why:
            reasons.append(f"disabled: {why}")
    for why in (job.non_blocking, step.command_non_blocking(command_line)):
        if why:
            reasons.append(f"non-blocking: {why}")
    return reasons


def step_triggers(job: Job, step: Step) -> list[str]:
    """Trigger types under which this step runs (a step `if:` may narrow the job's)."""
    return trigger_types(step.triggers if step.triggers is not None else job.triggers)


_LOADED: list[bool] = []


def load_parsers() -> None:
    """Import every CI system's module once; each registers its parser in PARSERS."""
    if not _LOADED:
        from . import ci_azure, ci_cloud, ci_github, ci_gitlab, ci_jenkins, ci_misc  # noqa: F401

        _LOADED.append(True)


class _CIPaths:
    """Whether some registration claims a path: its hints rule most paths out, and the patterns
    that remain are tried as one regex (one per combination of hints a path passes)."""

    def __init__(self) -> None:
        self.count = len(PARSERS)
        self.unhinted = any(not suffixes and not contains for suffixes, contains in HINTS)
        self.suffixes = tuple(sorted({s for suffixes, _ in HINTS for s in suffixes}))
        self.contains = tuple(sorted({c for _, contains in HINTS for c in contains}))
        self._regexes: dict[tuple[int, ...], Optional["re.Pattern[str]"]] = {}

    def claims(self, path: str) -> bool:
        if not (self.unhinted or path.endswith(self.suffixes) or any(c in path for c in self.contains)):
            return False
        chosen = tuple(i for i, (suffixes, contains) in enumerate(HINTS)
                       if (not suffixes or path.endswith(suffixes)) and (not contains or any(c in path for c in contains)))
        if chosen not in self._regexes:
            self._regexes[chosen] = re.compile("|".join(f"(?:{PARSERS[i][0].pattern})" for i in chosen)) if chosen else None
        regex = self._regexes[chosen]
        return regex is not None and regex.fullmatch(path) is not None


_PATHS: list[_CIPaths] = []


def _ci_paths() -> _CIPaths:
    load_parsers()
    if not _PATHS or _PATHS[0].count != len(PARSERS):
        _PATHS[:] = [_CIPaths()]
    return _PATHS[0]


def is_ci_path(path: str) -> bool:
    return _ci_paths().claims(path)


def build_ci_model(facts: "Facts") -> CIModel:
    claims = _ci_paths().claims
    model = CIModel()
    for path in facts.snapshot.paths():
        if not claims(path):
            continue
        model.paths.append(path)
        claimed, pipeline = facts.derived(("ci", path), lambda: _parse_ci_file(facts, path))
        if not claimed:
            continue
        if pipeline is None:
            model.unreadable[path] = facts.problems.get(path, "not a pipeline definition")
        else:
            model.pipelines.append(pipeline)
    return model


def _parse_ci_file(facts: "Facts", path: str) -> tuple[bool, Optional[Pipeline]]:
    """(whether some CI system claims the file, its pipeline or None when it cannot be read).
    One file at a time, so a diff's head re-parses only CI files whose inputs changed."""
    for index, (pattern, parser) in enumerate(PARSERS):
        if pattern.fullmatch(path):
            sniff = SNIFFS.get(index)
            if sniff is not None and not sniff(facts, path):
                continue
            return True, parser(facts, path)
    return False, None
