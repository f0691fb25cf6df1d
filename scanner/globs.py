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
        self._names_in: dict[str, Optional[_NameTest]] = {}
        self._compiled: dict[tuple[str, ...], _NameTest] = {}

    def _names_for(self, folder: str) -> Optional["_NameTest"]:
        """One test of the name parts of every glob whose folder part matches ``folder``."""
        try:
            return self._names_in[folder]
        except KeyError:
            pass
        if len(self._names_in) > 100_000:  # one matcher serves many trees in a batch: stay bounded
            self._names_in.clear()
        wanted = tuple(sorted({n for rx, group in self._folder_globs if rx.match(folder) for n in group}))
        names = None
        if wanted:
            names = self._compiled.get(wanted)
            if names is None:
                names = self._compiled[wanted] = _NameTest(wanted)
        self._names_in[folder] = names
        return names

    def match(self, path: str, folder: str, name: str) -> bool:
        """Does ``path`` (``folder`` + ``name``, folder with a trailing slash or empty) match?"""
        names = self._names_for(folder)
        return bool((names is not None and names.match(name)) or (self._whole is not None and self._whole.match(path)))

    def matching(self, folder: str, names: list[str],
                 shared: Optional[dict[tuple[tuple[str, ...], str], list[str]]] = None) -> list[str]:
        """The paths ``folder + name`` that match, for all ``names`` in one folder at once: a folder
        no glob can reach costs one dictionary lookup, not one call per file. ``shared`` memoises
        results by (name globs, folder) across matchers: many probes ask for ``*.yaml``."""
        test = self._names_for(folder)
        if self._whole is None:
            if test is None:
                return []
            if shared is None:
                return test.filter(folder, names)
            key = (test.globs, folder)
            found = shared.get(key)
            if found is None:
                found = shared[key] = test.filter(folder, names)
            return found
        return [folder + n for n in names if (test is not None and test.match(n)) or self._whole.match(folder + n)]


_GLOB_CHARS = re.compile(r"[*?\[]")


class _NameTest:
    """File-name globs as the cheapest test that decides them: ``*`` matches all, ``*.yaml`` is a
    suffix (``str.endswith`` on a tuple, in C), ``Chart.yaml`` is a set lookup, and only the rest
    (``Dockerfile*``, ``test_*.py``) goes to one regex."""

    def __init__(self, globs: tuple[str, ...]):
        self.globs = globs
        self.everything = "*" in globs
        suffixes, isuffixes, exact, rest = [], [], set(), []
        for glob in globs:
            folded = _case_insensitive_literal(glob[1:]) if glob.startswith("*") else None
            if glob.startswith("*") and not _GLOB_CHARS.search(glob[1:]):
                suffixes.append(glob[1:])
            elif folded:
                isuffixes.append(folded)
            elif not _GLOB_CHARS.search(glob):
                exact.add(glob)
            else:
                rest.append(glob)
        self.suffixes = tuple(suffixes)
        self.isuffixes = tuple(isuffixes)  # `*.[pP][kK][lL]`: matched on the lower-cased name
        self.exact = frozenset(exact)
        self.rx = compile_patterns(rest) if rest else None

    def match(self, name: str) -> bool:
        return bool(self.filter("", [name]))

    def filter(self, folder: str, names: list[str]) -> list[str]:
        if self.everything:
            return [folder + n for n in names]
        suffixes, isuffixes, exact, rx = self.suffixes, self.isuffixes, self.exact, self.rx
        if rx is None and not isuffixes:
            return [folder + n for n in names if n.endswith(suffixes) or n in exact]
        return [folder + n for n in names if n.endswith(suffixes) or n in exact
                or (isuffixes and n.lower().endswith(isuffixes)) or (rx is not None and rx.match(n))]


_CASE_PAIR = re.compile(r"\[([a-zA-Z])([a-zA-Z])\]")


def _case_insensitive_literal(glob: str) -> Optional[str]:
    """``.[pP][kK][lL]`` -> ``.pkl``: a literal written with ``[xX]`` pairs, else None."""
    if "[" not in glob:
        return None
    plain = _CASE_PAIR.sub(lambda m: m.group(1).lower() if m.group(1).lower() == m.group(2).lower() else "\0", glob)
    if "\0" in plain or _GLOB_CHARS.search(plain) or plain != plain.lower():
        return None
    return plain
