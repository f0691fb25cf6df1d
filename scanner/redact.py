"""Keep secrets that a repository committed by mistake out of our reports."""

from __future__ import annotations

import re

MASK = "***"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # credentials inside URLs: scheme://user:secret@host
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
    # key = value / key: value where the key names a secret
    re.compile(
        r"(?i)((?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?token)"
        r"[A-Za-z0-9_\-]*\s*[:=]\s*)(['\"]?)([^\s'\"$][^\s'\"]*)"
    ),
    # well-known token shapes
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bdapi[0-9a-f]{32}\b"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}\b"),
)


# Every pattern above needs one of these; most excerpts have none, and one search is cheaper than
# seven substitutions.
_MAYBE = re.compile(r"://|(?i:pass|secret|token|key)|gh[pousr]_|glpat-|AKIA|dapi|xox[abpr]-")


def redact(text: str) -> str:
    """Mask anything shaped like a credential; keep the surrounding text readable."""
    if not _MAYBE.search(text):
        return text
    text = _PATTERNS[0].sub(MASK, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    for pattern in _PATTERNS[2:]:
        text = pattern.sub(MASK, text)
    return text
