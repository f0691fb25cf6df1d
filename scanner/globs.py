"""Path globs as one compiled regex: `**/` spans directories, `*` stays inside one segment."""

from __future__ import annotations

import re
from fnmatch import translate
from typing import Iterable


def glob_to_regex(pattern: str) -> str:
    """Translate a path glob where ``**/`` spans directories and ``*`` stays in one segment."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i)
            if end == -1:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                # reuse fnmatch's class handling, minus its anchors
                out.append(translate(pattern[i : end + 1])[4:-3])
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def compile_patterns(patterns: Iterable[str]) -> "re.Pattern[str]":
    parts = [glob_to_regex(p) for p in patterns]
    if not parts:
        return re.compile(r"(?!x)x")
    return re.compile("(?:" + "|".join(parts) + r")\Z")


class PathMatcher:
    """Matches paths against globs, fast: ``**/name`` globs are tried on the base name alone.

    A full-path regex that starts with ``(?:.*/)?`` backtracks over every slash of every path;
    on a 20,000-file tree that dominated the one pass over the path list.
    """

    def __init__(self, patterns: Iterable[str]):
        anywhere, rooted = [], []
        for pattern in patterns:
            tail = pattern[3:]
            if pattern.startswith("**/") and "/" not in tail and "**" not in tail:
                anywhere.append(tail)
            else:
                rooted.append(pattern)
        self._name = compile_patterns(anywhere) if anywhere else None
        self._path = compile_patterns(rooted) if rooted else None

    def match(self, path: str, name: str) -> bool:
        """Does ``path`` (whose last segment is ``name``) match any glob?"""
        return bool(
            (self._name is not None and self._name.match(name))
            or (self._path is not None and self._path.match(path))
        )
