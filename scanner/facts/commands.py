"""Shell commands of CI steps, split into the programs they run: a fact every probe shares.

``pytest -x``, ``poetry run python -m train``, ``docker compose run app pytest``: probes ask
what a step runs (tests? training? a deploy tool?) about the same few hundred command lines, so
each line is split once per process (``shlex`` is slow) and the answer is kept. Wrappers (run
managers, launchers, containers, ``env``/``sudo``/``timeout``) are stripped to find the program.
Parsing only: nothing here runs a command.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ..patterns import lazy

_SEGMENT_SPLIT = lazy(r"\s*(?:&&|\|\||;|\|)\s*")
_ENV_ASSIGN = lazy(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = lazy(r"^(?:python(?:\d+(?:\.\d+)?)?|py|pypy3?)$")
_PREFIXES = {"sudo", "time", "exec", "nohup", "command", "xvfb-run", "catchsegv", "stdbuf"}
_RUN_WRAPPERS = {("poetry", "run"), ("pdm", "run"), ("pipenv", "run"), ("uv", "run"), ("rye", "run"),
                 ("hatch", "run"), ("conda", "run"), ("mamba", "run"), ("micromamba", "run"), ("pixi", "run"),
                 ("pipx", "run"), ("uv", "tool")}
_WRAPPER_VALUE_OPTIONS = {"-n", "--name", "-p", "--prefix", "--python", "--with", "--extra", "--group",
                          "--package", "--env-file", "--directory", "-e", "--environment", "--env", "--spec"}
LAUNCHERS = {"accelerate", "torchrun", "deepspeed"}
_MAX_SEGMENTS = 50
_MAX_TOKENS = 200


@dataclass(frozen=True)
class Invocation:
    """One program run by one shell segment, wrappers stripped."""

    program: str  # basename: pytest, python, tox, make, dvc, ...
    args: list[str]
    module: str = ""  # python -m <module>
    script: str = ""  # python <script.py> (or a launcher's script)
    text: str = ""  # the segment as written


def invocations(command: str) -> list[Invocation]:
    """Programs a logical shell line runs, one per ``&&``/``||``/``;``/``|`` segment."""
    return list(_invocations(command))


@lru_cache(maxsize=16384)
def _invocations(command: str) -> tuple[Invocation, ...]:
    # Many probes ask about the same CI commands; shlex is slow, so each line is split once.
    found: list[Invocation] = []
    for segment in _SEGMENT_SPLIT.split(command)[:_MAX_SEGMENTS]:
        tokens = _tokens(segment)
        inv = _invocation(tokens, segment)
        if inv is not None:
            found.append(inv)
    return tuple(found)


def _tokens(segment: str) -> list[str]:
    try:
        tokens = shlex.split(segment, comments=True)
    except ValueError:
        tokens = segment.split()
    return tokens[:_MAX_TOKENS]


def _invocation(tokens: list[str], text: str, depth: int = 0) -> Optional[Invocation]:
    tokens = _strip_prefixes(tokens)
    if not tokens or depth > 4:
        return None
    program = posixpath.basename(tokens[0])
    rest = tokens[1:]
    if (program, rest[0] if rest else "") in _RUN_WRAPPERS:
        inner = _skip_options(rest[1:])
        if program == "hatch" and inner and ":" in inner[0]:  # `hatch run test:pytest`: env:command
            inner = [inner[0].split(":", 1)[1], *inner[1:]]
        return _invocation(inner, text, depth + 1)
    if program in ("uvx", "pipx") or (program == "hatch" and rest[:1] == ["-e"]):
        inner = _skip_options(rest[2:] if program == "hatch" else rest)
        if program == "hatch" and inner[:1] == ["run"]:
            inner = _skip_options(inner[1:])
        return _invocation(inner, text, depth + 1)
    if program in ("docker", "docker-compose", "podman", "kubectl"):
        return _container_invocation(program, rest, text, depth)
    if program == "coverage" and rest[:1] == ["run"]:
        return _python_invocation("python", rest[1:], text)
    if _PYTHON.match(program):
        return _python_invocation(program, rest, text)
    if program in LAUNCHERS:
        args = rest[1:] if program == "accelerate" and rest[:1] == ["launch"] else rest
        script = next((a for a in args if a.endswith(".py")), "")
        return Invocation(program=program, args=args, script=script, text=text)
    return Invocation(program=program, args=rest, text=text)


def _strip_prefixes(tokens: list[str]) -> list[str]:
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if _ENV_ASSIGN.match(token) or token in _PREFIXES or token == "env":
            index += 1
        elif token == "timeout" and index + 1 < len(tokens):
            index += 2
        elif token.startswith("-") and index > 0 and tokens[index - 1] in ("env", "sudo", "xvfb-run"):
            index += 1
        else:
            break
    return tokens[index:]


def _skip_options(tokens: list[str]) -> list[str]:
    index = 0
    while index < len(tokens) and tokens[index].startswith("-"):
        index += 2 if tokens[index] in _WRAPPER_VALUE_OPTIONS else 1
    return tokens[index:]


def _container_invocation(program: str, rest: list[str], text: str, depth: int) -> Optional[Invocation]:
    """``docker compose run --rm app pytest``: the command after the service/image/pod."""
    known = ("pytest", "py.test", "tox", "nox", "make", "dvc", "mlflow", "kedro")
    for index, token in enumerate(rest):
        name = posixpath.basename(token)
        if name in known or _PYTHON.match(name) or name in LAUNCHERS:
            return _invocation(rest[index:], text, depth + 1)
    return Invocation(program=program, args=rest, text=text)


def _python_invocation(program: str, rest: list[str], text: str) -> Invocation:
    index = 0
    while index < len(rest):
        token = rest[index]
        if token == "-m" and index + 1 < len(rest):
            module = rest[index + 1]
            args = rest[index + 2:]
            if module in ("pytest", "unittest", "tox", "nox"):
                return Invocation(program=module, args=args, module=module, text=text)
            if module == "coverage" and args[:1] == ["run"]:
                return _python_invocation(program, args[1:], text)
            return Invocation(program="python", args=args, module=module, text=text)
        if token == "-c":
            return Invocation(program="python", args=rest[index + 1:], text=text)
        if token in ("-W", "-X", "--check-hash-based-pycs"):
            index += 2
            continue
        if token.startswith("-"):
            index += 1
            continue
        return Invocation(program="python", args=rest[index + 1:], script=token, text=text)
    return Invocation(program="python", args=[], text=text)
