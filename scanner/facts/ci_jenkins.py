"""Jenkins pipelines (``Jenkinsfile``) as :class:`~scanner.facts.ci.Pipeline`, by reading text.

Groovy is never executed: the file is scanned with comments blanked out and string contents masked
(offsets kept, so every line number is exact), braces and parentheses are matched, and the
declarative structure is read from the blocks. What the normalisation decides, and why:

- Each ``stage('x') { ... }`` is a job (``parent/child`` inside ``parallel``/``stages``); a
  scripted pipeline (no ``pipeline { }`` block) gives one job per outermost ``stage``. The
  pipeline-level ``post { }`` becomes a job ``post`` when it runs commands (rollbacks, alerts).
- Steps: ``sh``/``bat``/``powershell``/``pwsh`` with a string literal (``'...'``, ``"..."``,
  triple quotes, or ``script: '...'``) -> ``run``; ``input`` -> ``uses: input``; ``build job: 'x'``
  -> ``uses: build: x``; notification steps (``mail``, ``emailext``, ``slackSend``,
  ``office365ConnectorSend``... :data:`NOTIFY_STEPS`) -> ``uses: <step>`` with the literal
  recipients/channel in ``with_``. A stage's ``post { }`` steps are its steps (condition
  ``post: failure``...); the pipeline's ``post { }`` is a job ``post``. :func:`failure_notifications`
  answers "who hears about a failed build" (``failure``/``unsuccessful``/``regression``/``always``).
- Triggers: a multibranch Jenkins job builds branches and pull requests, configured in Jenkins,
  not in the file, so every pipeline gets push + pull_request (cited at ``pipeline {``).
  ``triggers { cron('H 2 * * 1') }`` (also ``pipelineTriggers([cron(...)])`` in scripted
  pipelines) -> schedule with that cron, ``pollSCM``/``githubPush`` -> push, ``upstream`` -> dispatch;
  a ``parameters { }`` block -> manual (a person may start it with parameters).
- ``when { }`` narrows a stage: ``branch 'x'`` -> not pull requests or tags, ``changeRequest()`` ->
  pull_request, ``buildingTag()``/``tag`` -> tag, ``triggeredBy 'TimerTrigger'`` -> schedule,
  ``triggeredBy cause: 'UserIdCause'`` -> manual; ``allOf``/``anyOf`` combine; ``not`` does not
  constrain; ``expression { false }`` (or ``return false``) disables the stage.
- Approvals: an ``input`` directive on a stage, or an ``input`` step, means a person must approve
  before the work goes on: the gated stage (and every later stage of the same sequence), or the
  steps after the ``input`` step, get the single trigger ``manual`` (like GitLab ``when: manual``).
- Non-blocking: ``catchError(buildResult: 'SUCCESS')`` around steps, ``sh(..., returnStatus: true)``
  (the exit code is returned, not raised), ``try { } catch`` around steps, and ``|| true``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from ..patterns import lazy
from .ci import (
    ALL_TRIGGER_TYPES,
    Job,
    Pipeline,
    Step,
    Trigger,
    narrow,
    register,
    shell_non_blocking,
)

if TYPE_CHECKING:
    from . import Facts

SYSTEM = "jenkins"
JENKINS_PATH = r"(?:.*/)?(?:Jenkinsfile(?:\.(?!(?:md|rst|txt|html|adoc)\Z)[\w-]+)?|[\w.-]+\.(?:jenkinsfile|Jenkinsfile))"
MAX_CHARS = 500_000
MAX_DEPTH = 30

_SHELL_STEPS = ("sh", "bat", "powershell", "pwsh")
# notification steps of the Mailer, Email Extension, Slack, Office 365 Connector, Discord,
# Google Chat, Mattermost and Rocket.Chat plugins
NOTIFY_STEPS = ("mail", "emailext", "slackSend", "office365ConnectorSend", "discordSend",
                "googlechatnotification", "mattermostSend", "rocketSend")
# post conditions under which a notification also fires when the build fails
FAILURE_POST_CONDITIONS = frozenset({"failure", "unsuccessful", "always", "regression"})
_STATEMENT = lazy(r"(?<![\w.$])(sh|bat|powershell|pwsh|input|build|" + "|".join(NOTIFY_STEPS)
                        + r")\b(?!\s*[=:.])")
_BLOCK = lazy(r"(?<![\w.$])([A-Za-z_]\w*)\s*[({]")
_BRANCHLESS = frozenset({"pull_request", "tag", "release"})


# -- masking and blocks -------------------------------------------------------------------------


def mask(text: str) -> str:
    """``text`` with comments blanked and string contents replaced by ``_`` (newlines and
    offsets kept), so braces and keywords are only found in code."""
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int, fill: str) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = fill

    while i < n:
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end, " ")
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end, " ")
            i = end
        elif text.startswith("'''", i) or text.startswith('"""', i):
            quote = text[i:i + 3]
            end = text.find(quote, i + 3)
            end = n if end < 0 else end
            blank(i + 3, end, "_")
            i = end + 3
        elif text[i] in "'\"":
            quote, end = text[i], i + 1
            while end < n and text[end] != quote and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            blank(i + 1, end, "_")
            i = end + 1
        else:
            i += 1
    return "".join(out)


def _pairs(masked: str) -> dict[int, int]:
    """Offset of each ``{``/``(`` -> offset of its matching closer (unbalanced ones left out)."""
    pairs: dict[int, int] = {}
    stacks: dict[str, list[int]] = {"{": [], "(": []}
    closers = {"}": "{", ")": "("}
    for index, char in enumerate(masked):
        if char in stacks:
            stacks[char].append(index)
        elif char in closers and stacks[closers[char]]:
            pairs[stacks[closers[char]].pop()] = index
    return pairs


@dataclass
class Block:
    """``name(args) { body }``: offsets of the name, the braces and the argument text."""

    name: str
    args: str
    start: int
    open: int
    close: int


@dataclass
class _Source:
    path: str
    text: str
    masked: str
    pairs: dict[int, int]
    newlines: list[int] = field(default_factory=list)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.newlines, offset - 1) + 1 if offset > 0 else 1

    def children(self, lo: int, hi: int) -> list[Block]:
        """The blocks directly inside ``[lo, hi)`` (nested ones are inside these)."""
        found: list[Block] = []
        pos = lo
        while pos < hi:
            match = _BLOCK.search(self.masked, pos, hi)
            if not match:
                break
            opener = match.end() - 1
            args = ""
            if self.masked[opener] == "(":
                close = self.pairs.get(opener)
                if close is None or close >= hi:
                    pos = match.end()
                    continue
                args = self.text[opener + 1:close]
                after = re.compile(r"\s*\{").match(self.masked, close + 1, hi)
                if not after:
                    pos = close + 1
                    continue
                opener = after.end() - 1
            close = self.pairs.get(opener)
            if close is None or close >= hi:
                pos = opener + 1
                continue
            found.append(Block(match.group(1), args, match.start(), opener, close))
            pos = close + 1
        return found

    def descendants(self, lo: int, hi: int, depth: int = 0) -> list[Block]:
        found: list[Block] = []
        if depth > MAX_DEPTH:
            return found
        for block in self.children(lo, hi):
            found.append(block)
            found += self.descendants(block.open + 1, block.close, depth + 1)
        return found

    def child(self, block: Block, name: str) -> Optional[Block]:
        return next((b for b in self.children(block.open + 1, block.close) if b.name == name), None)


def _string_literal(src: _Source, pos: int, hi: int) -> Optional[tuple[str, int, int]]:
    """(content, start, end) of the first string literal at or after ``pos`` on this statement."""
    match = re.compile(r"('''|\"\"\"|'|\")").search(src.masked, pos, hi)
    if not match:
        return None
    quote = match.group(1)
    start = match.end()
    end = src.masked.find(quote, start)
    if end < 0 or end > hi:
        return None
    return src.text[start:end], match.start(), end + len(quote)


def _name_arg(args: str) -> str:
    match = re.search(r"['\"]([^'\"]*)['\"]", args)
    return match.group(1) if match else args.strip()


# -- the parser ------------------------------------------------------------------------------------


@register(JENKINS_PATH, contains=("Jenkinsfile", "jenkinsfile"))
def parse_jenkinsfile(facts: "Facts", path: str) -> Optional[Pipeline]:
    text = facts.text(path)
    if text is None:
        return None
    text = text[:MAX_CHARS]
    masked = mask(text)
    src = _Source(path, text, masked, _pairs(masked), [i for i, c in enumerate(text) if c == "\n"])
    top = next((b for b in src.children(0, len(text)) if b.name == "pipeline"), None)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if top is None and not re.search(r"(?<![\w.])(?:stage|node)\s*[({]", masked):
        return Pipeline(system=SYSTEM, path=path, name=path, start_line=1, end_line=1)
    home = src.line(top.start) if top else 1
    triggers = _triggers(src, top, home)
    pipeline = Pipeline(system=SYSTEM, path=path, name=path, start_line=home,
                        end_line=src.line(top.close) if top else max(lines, 1), triggers=triggers)
    if top is not None:
        stages = src.child(top, "stages")
        if stages is not None:
            pipeline.jobs = _stages(src, stages, triggers, "", False)
        env = src.child(top, "environment")
        pipeline.env = _environment_block(src, env) if env else {}
        post = src.child(top, "post")
        if post is not None:
            steps = _post_steps(src, post, triggers)
            if steps:
                pipeline.jobs.append(Job(id="post", name="post", path=path, start_line=src.line(post.start),
                                         end_line=src.line(post.close), steps=steps, triggers=triggers))
    else:
        pipeline.jobs = _scripted_stages(src, triggers)
    image = _agent_image(src, src.child(top, "agent")) if top else ""
    for job in pipeline.jobs:
        job.env = {**pipeline.env, **job.env}
        job.image = job.image or image
    return pipeline


def _triggers(src: _Source, top: Optional[Block], home: int) -> tuple[Trigger, ...]:
    found = [Trigger(type="push", line=home, path=src.path), Trigger(type="pull_request", line=home, path=src.path)]
    block = src.child(top, "triggers") if top else None
    lo, hi = (block.open, block.close) if block else (0, len(src.text))
    for match in re.finditer(r"(?<![\w.])(cron|pollSCM|upstream|githubPush|gitlab|bitbucketPush|GenericTrigger)\s*\(",
                             src.masked[lo:hi]):
        offset = lo + match.start()
        if block is None and "pipelineTriggers" not in src.masked[max(0, offset - 400):offset]:
            continue  # outside a triggers block, only `properties([pipelineTriggers([...])])` counts
        name, line = match.group(1), src.line(offset)
        if name == "cron":
            close = src.pairs.get(lo + match.end() - 1, hi)
            literal = _string_literal(src, lo + match.end(), close)
            cron = " ".join(literal[0].split()) if literal else None
            found.append(Trigger(type="schedule", cron=cron, line=line, path=src.path))
        elif name == "upstream":
            found.append(Trigger(type="dispatch", line=line, path=src.path))
        else:
            found.append(Trigger(type="push", line=line, path=src.path))
    parameters = src.child(top, "parameters") if top else None
    if parameters is not None:
        found.append(Trigger(type="manual", line=src.line(parameters.start), path=src.path))
    return tuple(found)


def _stages(src: _Source, container: Block, triggers: tuple[Trigger, ...], prefix: str, parallel: bool) -> list[Job]:
    """The stages of a ``stages``/``parallel`` block; after a stage that waits for an ``input``,
    the later stages of a sequence wait too."""
    jobs: list[Job] = []
    gated = False
    for block in src.children(container.open + 1, container.close):
        if block.name != "stage":
            continue
        name = f"{prefix}{_name_arg(block.args)}"
        stage_jobs, waits = _stage(src, block, triggers, name, gated and not parallel)
        jobs += stage_jobs
        gated = gated or waits
    return jobs


def _stage(src: _Source, block: Block, triggers: tuple[Trigger, ...], name: str,
           gated: bool) -> tuple[list[Job], bool]:
    """(jobs of one stage, whether it waits for an approval)."""
    when = src.child(block, "when")
    allowed, disabled = _when(src, when, triggers) if when else (None, None)
    stage_triggers = narrow(triggers, allowed)
    approval = src.child(block, "input")
    if gated or approval is not None:
        line = src.line(approval.start) if approval else src.line(block.start)
        stage_triggers = (Trigger(type="manual", line=line, path=src.path),) if stage_triggers else ()
    nested = [src.child(block, key) for key in ("parallel", "stages")]
    matrix = src.child(block, "matrix")
    if matrix is not None:
        nested.append(src.child(matrix, "stages"))
    inner: list[Job] = []
    for container in nested:
        if container is not None:
            inner += _stages(src, container, stage_triggers, f"{name}/", container.name == "parallel")
    for job in inner:
        job.disabled = job.disabled or disabled
    steps_block = src.child(block, "steps")
    post = src.child(block, "post")
    if steps_block is None and post is None and inner:
        return inner, approval is not None
    job = Job(id=name, name=name, path=src.path, start_line=src.line(block.start), end_line=src.line(block.close),
              triggers=stage_triggers, disabled=disabled, image=_agent_image(src, src.child(block, "agent")))
    env = src.child(block, "environment")
    job.env = _environment_block(src, env) if env else {}
    if steps_block is not None:
        job.steps = _steps(src, steps_block.open + 1, steps_block.close, stage_triggers)
    if post is not None:
        job.steps += _post_steps(src, post, stage_triggers)
    waits = approval is not None or any(s.uses == "input" for s in job.steps)
    return [job, *inner], waits


def _scripted_stages(src: _Source, triggers: tuple[Trigger, ...]) -> list[Job]:
    """Outermost ``stage('x') { }`` blocks of a scripted pipeline, wherever they are nested."""
    jobs: list[Job] = []
    outer: list[Block] = []
    for block in src.descendants(0, len(src.text)):
        if block.name == "stage" and not any(o.open < block.start < o.close for o in outer):
            outer.append(block)
    gated = False
    for block in outer:
        name = _name_arg(block.args)
        stage_triggers = (Trigger(type="manual", line=src.line(block.start), path=src.path),) if gated else triggers
        job = Job(id=name, name=name, path=src.path, start_line=src.line(block.start),
                  end_line=src.line(block.close), triggers=stage_triggers)
        job.steps = _steps(src, block.open + 1, block.close, stage_triggers)
        gated = gated or any(s.uses == "input" for s in job.steps)
        jobs.append(job)
    return jobs


def _post_steps(src: _Source, post: Block, triggers: tuple[Trigger, ...]) -> list[Step]:
    steps: list[Step] = []
    for condition in src.children(post.open + 1, post.close):
        for step in _steps(src, condition.open + 1, condition.close, triggers):
            step.condition = step.condition or f"post: {condition.name}"
            steps.append(step)
    return steps


# -- when ---------------------------------------------------------------------------------------------


def _when(src: _Source, when: Block, triggers: tuple[Trigger, ...]) -> tuple[Optional[frozenset], Optional[str]]:
    """(allowed trigger types or None, why the stage can never run)."""
    universe = frozenset(t.type for t in triggers) or ALL_TRIGGER_TYPES
    allowed = _when_all(src, when, universe, 0)
    if allowed is not None and not allowed:
        body = " ".join(src.text[when.open + 1:when.close].split())
        return allowed, f"`when {{ {body[:80]} }}` is always false"
    if allowed is not None and triggers and not narrow(triggers, allowed):
        return allowed, "`when` matches none of the pipeline's triggers"
    return allowed, None


def _when_all(src: _Source, block: Block, universe: frozenset, depth: int) -> Optional[frozenset]:
    """Conditions of a ``when``/``allOf`` body: all must hold."""
    parts = _when_parts(src, block, universe, depth)
    known = [p for p in parts if p is not None]
    return frozenset.intersection(*known) if known else None


def _when_parts(src: _Source, block: Block, universe: frozenset, depth: int) -> list[Optional[frozenset]]:
    if depth > MAX_DEPTH:
        return []
    parts: list[Optional[frozenset]] = []
    children = src.children(block.open + 1, block.close)
    for child in children:
        if child.name == "allOf":
            parts.append(_when_all(src, child, universe, depth + 1))
        elif child.name == "anyOf":
            options = _when_parts(src, child, universe, depth + 1)
            parts.append(None if not options or any(o is None for o in options) else frozenset().union(*options))
        elif child.name == "expression":
            body = " ".join(src.masked[child.open + 1:child.close].split())
            parts.append(frozenset() if re.fullmatch(r"(?:return\s+)?false", body) else None)
        else:
            parts.append(None)  # not { }, environment, ...: does not constrain the trigger
    rest = list(src.masked[block.open + 1:block.close])
    for child in children:  # the simple conditions written outside nested blocks
        for k in range(child.start - block.open - 1, child.close - block.open):
            rest[k] = " "
    text = "".join(rest)
    offset = block.open + 1
    for match in re.finditer(r"(?<![\w.])(branch|changeRequest|buildingTag|tag|triggeredBy)\b", text):
        name = match.group(1)
        line_end = text.find("\n", match.end())
        literal = _string_literal(src, offset + match.end(), offset + line_end if line_end >= 0 else block.close)
        value = literal[0] if literal else ""
        if name == "branch":
            parts.append(universe - _BRANCHLESS if not value.startswith("PR-") else frozenset({"pull_request"}))
        elif name == "changeRequest":
            parts.append(frozenset({"pull_request"}))
        elif name in ("buildingTag", "tag"):
            parts.append(frozenset({"tag", "release"}))
        elif name == "triggeredBy":
            parts.append(_cause(value))
    return parts


def _cause(value: str) -> Optional[frozenset]:
    lowered = value.lower()
    if "timer" in lowered:
        return frozenset({"schedule"})
    if "userid" in lowered:
        return frozenset({"manual"})
    if "upstream" in lowered:
        return frozenset({"dispatch"})
    if "scm" in lowered or "push" in lowered:
        return frozenset({"push"})
    return None


# -- steps ---------------------------------------------------------------------------------------------


def _steps(src: _Source, lo: int, hi: int, triggers: tuple[Trigger, ...]) -> list[Step]:
    """Shell, ``input`` and ``build`` steps between ``lo`` and ``hi`` (also inside ``script``,
    ``dir``, ``withCredentials``... blocks); steps after an ``input`` wait for approval."""
    blocks = src.descendants(lo, hi)
    steps: list[Step] = []
    after_input: Optional[tuple[Trigger, ...]] = None
    for match in _STATEMENT.finditer(src.masked, lo, hi):
        start = match.start()
        if any(b.start == start for b in blocks):
            continue  # `input { }` inside steps is not a step; a stage directive is read elsewhere
        keyword = match.group(1)
        end = _statement_end(src, match.end(), hi)
        args = src.text[match.end():end]
        enclosing = [b for b in blocks if b.open < start < b.close]
        step = _make_step(src, keyword, args, start, end, match.end(), enclosing)
        if step is None:
            continue
        if after_input is not None:
            step.triggers = after_input
        if keyword == "input" and triggers:
            after_input = (Trigger(type="manual", line=step.start_line, path=src.path),)
        steps.append(step)
    return steps


def _statement_end(src: _Source, pos: int, hi: int) -> int:
    """Where a step call ends: its closing parenthesis, or the end of the line its first string
    literal ends on."""
    head = re.compile(r"\s*\(").match(src.masked, pos, hi)
    if head:
        close = src.pairs.get(head.end() - 1)
        if close is not None and close < hi:
            return close + 1
    literal = _string_literal(src, pos, hi)
    line_end = src.masked.find("\n", pos)
    line_end = hi if line_end < 0 or line_end > hi else line_end
    if literal and literal[1] <= line_end:
        after = src.masked.find("\n", literal[2])
        return _continued(src, hi if after < 0 or after > hi else after, hi)
    return line_end


def _continued(src: _Source, end: int, hi: int) -> int:
    """Named arguments go on after a line ending in a comma (``mail to: 'a',`` / ``subject: ...``)."""
    while end < hi:
        last = end - 1
        while last > 0 and src.masked[last] in " \t\r":
            last -= 1
        if src.masked[last] != ",":
            break
        after = src.masked.find("\n", end + 1)
        end = hi if after < 0 or after > hi else after
    return end


def _make_step(src: _Source, keyword: str, args: str, start: int, end: int, args_at: int,
               enclosing: list[Block]) -> Optional[Step]:
    first, last = src.line(start), src.line(max(start, end - 1))
    if keyword == "input":
        message = re.search(r"(?:message\s*:\s*)?['\"]([^'\"]*)['\"]", args)
        return Step(name=f"input: {message.group(1)}" if message else "input", start_line=first, end_line=last,
                    uses="input", path=src.path)
    if keyword in NOTIFY_STEPS:
        return _notify_step(keyword, args, first, last, src.path)
    if keyword == "build":
        job = re.search(r"(?:job\s*:\s*)?['\"]([^'\"]+)['\"]", args)
        if not job:
            return None
        return Step(name=f"build {job.group(1)}", start_line=first, end_line=last, uses=f"build: {job.group(1)}",
                    path=src.path)
    script_at = re.compile(r"script\s*:").search(src.masked, args_at, end)
    literal = _string_literal(src, script_at.end() if script_at else args_at, end)
    if literal is None:
        return None
    run = literal[0]
    step = Step(name=_step_name(args, run, keyword), start_line=first, end_line=last, run=run, path=src.path,
                uses="" if keyword == "sh" else keyword)
    if re.search(r"returnStatus\s*:\s*true", args):
        step.non_blocking = "`returnStatus: true` returns the exit code instead of failing"
    for block in enclosing:
        if block.name in ("catchError", "warnError") and _swallows(block):
            step.non_blocking = step.non_blocking or f"`{block.name}({' '.join(block.args.split())})` swallows failures"
        elif block.name == "try" and re.compile(r"\s*catch\b").match(src.masked, block.close + 1):
            step.non_blocking = step.non_blocking or "`try { } catch` swallows failures"
    if step.non_blocking is None:
        reasons = [shell_non_blocking(c) for c in step.commands()]
        if reasons and all(reasons):
            step.non_blocking = reasons[0]
    return step


def _notify_step(keyword: str, args: str, first: int, last: int, path: str) -> Step:
    """A notification step (``mail to: ...``, ``slackSend channel: ...``): ``uses`` is the step,
    ``with_`` its literal named arguments (recipients, channel), never a secret's value."""
    named = {m.group(1): m.group(3) for m in re.finditer(r"\b(to|channel|recipientProviders|webhookUrl|room)\s*:\s*(['\"])(.*?)\2", args)}
    if "webhookUrl" in named:
        named["webhookUrl"] = "<set>"
    return Step(name=keyword, start_line=first, end_line=last, uses=keyword, with_=named, path=path)


def failure_notifications(job: Job) -> list[Step]:
    """The notification steps of a job that run when the build fails: ``post { failure { } }``
    (also ``unsuccessful``, ``regression`` and ``always``, which fire on a failure too)."""
    found: list[Step] = []
    for step in job.steps:
        condition = step.condition.removeprefix("post: ") if step.condition.startswith("post: ") else ""
        if step.uses in NOTIFY_STEPS and condition in FAILURE_POST_CONDITIONS:
            found.append(step)
    return found


def _swallows(block: Block) -> bool:
    """``catchError`` fails the build unless ``buildResult`` is SUCCESS (or null);
    ``warnError`` only marks it unstable."""
    if block.name == "warnError":
        return True
    result = re.search(r"buildResult\s*:\s*(?:['\"](\w+)['\"]|(null))", block.args)
    return bool(result) and (result.group(2) == "null" or (result.group(1) or "").upper() == "SUCCESS")


def _step_name(args: str, run: str, keyword: str) -> str:
    label = re.search(r"label\s*:\s*['\"]([^'\"]+)['\"]", args)
    if label:
        return label.group(1)
    first = next((line.strip() for line in run.splitlines() if line.strip()), "")
    return first[:80] or keyword


def _environment_block(src: _Source, block: Block) -> dict:
    env: dict = {}
    for match in re.finditer(r"^\s*([A-Za-z_]\w*)\s*=\s*(['\"])(.*?)\2\s*$", src.text[block.open + 1:block.close], re.MULTILINE):
        env[match.group(1)] = match.group(3)
    return env


def _agent_image(src: _Source, agent: Optional[Block]) -> str:
    if agent is None:
        return ""
    docker = re.search(r"(?:image\s+|docker\s+)['\"]([^'\"]+)['\"]", src.text[agent.open + 1:agent.close])
    return docker.group(1) if docker else ""
