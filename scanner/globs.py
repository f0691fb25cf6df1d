"""Path globs as one compiled regex: `**/` spans directories, `*` stays inside one segment."""

from __future__ import annotations

import re
from fnmatch import translate
from typing import Iterable, Optional


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
    """Matches paths against globs, fast, by splitting each glob into a folder part and a name part.

    A full-path regex that starts with ``(?:.*/)?`` backtracks over every slash of every path; on
    a 20,000-file tree that dominated the one pass over the path list. Here the folder parts are
    matched once per distinct folder (thousands of files share a few hundred folders), and each
    folder gets one regex of the name parts that apply there, so a path costs one match.
    """

    def __init__(self, patterns: Iterable[str]):
        by_folder_glob: dict[str, list[str]] = {}
        whole: list[str] = []
        for pattern in patterns:
            folder, _, name = pattern.rpartition("/")
            if name == "**" and folder:  # `docs/**`: any file at any depth below the folder
                folder, name = folder + "/**", "*"
            if "**" in name:
                whole.append(pattern)
                continue
            by_folder_glob.setdefault(folder + "/" if folder else "", []).append(name)
        self._folder_globs = [(compile_patterns([glob]), names) for glob, names in sorted(by_folder_glob.items())]
        self._whole = compile_patterns(whole) if whole else None
        self._names_in: dict[str, "re.Pattern[str]"] = {}
        self._compiled: dict[tuple[str, ...], "re.Pattern[str]"] = {}

    def _names_for(self, folder: str) -> Optional["re.Pattern[str]"]:
        """One regex of the name parts of every glob whose folder part matches ``folder``."""
        try:
            return self._names_in[folder]
        except KeyError:
            pass
        wanted = tuple(sorted({n for rx, group in self._folder_globs if rx.match(folder) for n in group}))
        names = None
        if wanted:
            names = self._compiled.get(wanted)
            if names is None:
                names = self._compiled[wanted] = compile_patterns(wanted)
        self._names_in[folder] = names
        return names

    def match(self, path: str, folder: str, name: str) -> bool:
        """Does ``path`` (``folder`` + ``name``, folder with a trailing slash or empty) match?"""
        names = self._names_for(folder)
        return bool((names is not None and names.match(name)) or (self._whole is not None and self._whole.match(path)))

    def matching(self, folder: str, names: list[str]) -> list[str]:
        """The paths ``folder + name`` that match, for all ``names`` in one folder at once: a folder
        no glob can reach costs one dictionary lookup, not one call per file."""
        rx = self._names_for(folder)
        if self._whole is None:
            return [] if rx is None else [folder + n for n in names if rx.match(n)]
        return [folder + n for n in names if (rx is not None and rx.match(n)) or self._whole.match(folder + n)]
