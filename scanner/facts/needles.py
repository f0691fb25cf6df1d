"""Words and regexes that decide, from raw bytes, whether a file is worth reading and parsing.

A probe declares needles (``Probe.python_tokens``, or the needles it hands to
:meth:`scanner.facts.Facts.grep`); the facts layer looks for them in one of two ways that give
the same answer:

- ``git grep`` (C, threads, PCRE) over the whole tree in one process, when the snapshot is a git
  tree with enough files to be worth a process;
- :meth:`Needles.search` on each file's bytes otherwise.

``git grep`` matches line by line, so every needle must be **line-local**: it may not match a
newline. :func:`line_local_problem` rejects the regex constructs that could (``\\s``, ``\\W``,
``\\D``, a negated class without ``\\n``, ``.`` under DOTALL); write ``[ \\t]`` instead of ``\\s``,
and to follow a construct across lines, match its first line (``open\\([ \\t]*$``).
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

# `import[ \t]+(?:a|b)\b` / `from[ \t]+(?:a|b)\b`, as imports_of() writes them: merged per keyword.
_IMPORTS_OF = re.compile(r"^(import|from)\[ \\t\]\+\(\?:(.*)\)\\b$")
_SPANS_LINES = re.compile(r"\\[sWD]|\(\?[a-zA-Z]*s[a-zA-Z]*[):]")


def imports_of(*modules: str) -> tuple[str, str]:
    """Needles for an import of any of ``modules`` (``import m`` / ``from m``).

    Matching the import rather than the bare word keeps the filter selective: a word like
    ``numpy`` or ``model`` appears in most files of an ML monorepo, an import of it far less. Each
    regex starts with a literal, which lets the regex engine skip ahead instead of trying every
    position of every file.
    """
    names = "|".join(re.escape(m) for m in sorted(set(modules)))
    return rf"import[ \t]+(?:{names})\b", rf"from[ \t]+(?:{names})\b"


def line_local_problem(needle: str) -> Optional[str]:
    """Why ``needle`` could match across a line break (None when it cannot)."""
    if "\n" in needle:
        return "contains a newline"
    if _SPANS_LINES.search(needle):
        return r"uses \s, \W, \D or DOTALL, which can match a newline; use [ \t] or match the first line only"
    for negated in re.finditer(r"\[\^((?:\\.|[^\]\\])*)\]", needle):
        if "\\n" not in negated.group(1):
            return f"negated class [^{negated.group(1)}] can match a newline; add \\n to it"
    return None


def is_word(needle: str) -> bool:
    """A needle with no regex syntax: found with ``bytes in`` rather than the regex engine."""
    return bool(needle) and re.escape(needle).replace("\\ ", " ") == needle


class Needles:
    """A set of needles, searchable in Python (:meth:`search`) or by ``git grep`` (:meth:`pcre`).

    Plain words are found with ``bytes in`` (C speed); the import regexes of every probe
    (:func:`imports_of`) are merged into one per keyword, each starting with a literal; other
    regexes are tried one by one. A single alternation of everything would make the regex engine
    try every position of every file.
    """

    def __init__(self, needles: Iterable[str]):
        words: set[bytes] = set()
        imported: dict[str, set[str]] = {"import": set(), "from": set()}
        others: set[str] = set()
        for needle in needles:
            if not needle:
                continue
            problem = line_local_problem(needle)
            if problem:
                raise ValueError(f"needle {needle!r} is not line-local: {problem}")
            merged = _IMPORTS_OF.match(needle)
            if merged:
                imported[merged.group(1)].update(merged.group(2).split("|"))
            elif is_word(needle):
                words.add(needle.encode())
            else:
                others.add(needle)
        self.words = sorted(words)
        patterns = [rf"{kw}[ \t]+(?:{'|'.join(sorted(names))})\b" for kw, names in imported.items() if names]
        self.patterns = patterns + sorted(others)
        self.regexes = [re.compile(p.encode(), re.MULTILINE) for p in self.patterns]
        self.key = (*(w.decode() for w in self.words), *self.patterns)  # the same needles, the same key

    def __bool__(self) -> bool:
        return bool(self.words or self.regexes)

    def search(self, data: bytes) -> bool:
        return any(word in data for word in self.words) or any(rx.search(data) for rx in self.regexes)

    def search_text(self, text: str) -> bool:
        """The same test on text already decoded (a file some probe read before)."""
        return self.search(text.encode("utf-8", "surrogateescape"))

    def pcre(self) -> list[str]:
        """Every needle as a Perl-compatible pattern, for ``git grep -P``."""
        return [re.escape(word.decode()) for word in self.words] + self.patterns
