"""Re-check citations the way an auditor would: against the git objects at the cited commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scanner.models import Evidence
from scanner.redact import redact


def show(repo: Path, commit: str, path: str) -> str | None:
    proc = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=repo, capture_output=True)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode("utf-8-sig", "replace")


def check_citation(repo: Path, item: Evidence, subpath: str = "") -> list[str]:
    """Problems with one evidence item's repo citation (empty when it holds)."""
    cit = item.citation
    if cit is None or cit.source != "repo" or cit.path is None:
        return []
    where = f"{item.kind} {cit.path}:{cit.start_line}-{cit.end_line}"
    if not cit.commit:
        return [f"{where}: no commit"]
    full = f"{subpath}/{cit.path}" if subpath else cit.path
    text = show(repo, cit.commit, full)
    if text is None:
        return [f"{where}: path not in commit {cit.commit[:8]}"]
    if cit.start_line is None:
        return []
    lines = text.splitlines()
    problems = []
    if not (1 <= cit.start_line <= (cit.end_line or cit.start_line) <= len(lines)):
        problems.append(f"{where}: lines outside the file ({len(lines)} lines)")
    elif cit.excerpt is not None:
        cited = "\n".join(line.rstrip() for line in lines[cit.start_line - 1 : cit.end_line])
        if not redact(cited).startswith(cit.excerpt):
            problems.append(f"{where}: excerpt does not match the lines")
    return problems
