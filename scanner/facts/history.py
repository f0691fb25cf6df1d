"""Git history of the scanned commit: one bounded ``git log --name-only`` per scan.

Authors go through ``--use-mailmap`` (``%aN``/``%aE``), so a ``.mailmap`` in the repository merges
identities the way git itself does. Bot accounts are recognised here, once, for every probe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from ..patterns import lazy

if TYPE_CHECKING:
    from ..snapshot import Snapshot

MAX_COMMITS = 20_000

_BOT = lazy(
    r"(\[bot\]|^dependabot|^renovate|^github-actions|^gitlab-bot|^pre-commit-ci|^snyk-bot|noreply@github\.com$)",
    re.IGNORECASE,
)


def is_bot(name: str, email: str) -> bool:
    if _BOT.search(name):
        return True
    local = email.split("@", 1)[0]
    return bool(_BOT.search(local)) or (email.endswith("[bot]@users.noreply.github.com"))


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    time: int  # author time, seconds since the epoch
    files: tuple[str, ...]

    @property
    def is_bot(self) -> bool:
        return is_bot(self.author, self.email)


@dataclass
class History:
    available: bool
    reason: str = ""
    commits: tuple[Commit, ...] = ()
    truncated: bool = False

    @classmethod
    def read(cls, snapshot: "Snapshot", max_commits: int = MAX_COMMITS) -> "History":
        repo = snapshot.repo
        if repo is None:
            return cls(available=False, reason="not a git repository: no history to read")
        if not snapshot.commit:
            return cls(available=False, reason="the repository has no commits yet")
        scope = ["--", snapshot.subpath] if snapshot.subpath else []
        try:
            out = repo.git.log(
                snapshot.commit,
                "--use-mailmap",
                f"--max-count={max_commits + 1}",
                "--no-renames",
                "--format=%x1e%H%x1f%aN%x1f%aE%x1f%at",
                "--name-only",
                *scope,
            )
        except Exception as exc:  # shallow clones with missing parents and the like
            return cls(available=False, reason=f"git log failed: {str(exc).splitlines()[0][:200]}")
        prefix = snapshot.subpath + "/" if snapshot.subpath else ""
        commits: list[Commit] = []
        for record in out.split("\x1e"):
            if not record.strip():
                continue
            head, _, rest = record.partition("\n")
            sha, author, email, when = head.split("\x1f")
            files = tuple(
                f[len(prefix):] if prefix and f.startswith(prefix) else f
                for f in rest.splitlines()
                if f.strip()
            )
            commits.append(Commit(sha, author, email, int(when or 0), files))
        truncated = len(commits) > max_commits
        shallow = _is_shallow(repo)
        reason = "shallow clone: history is partial" if shallow else ""
        return cls(available=True, reason=reason, commits=tuple(commits[:max_commits]), truncated=truncated)

    def human_commits(self) -> list[Commit]:
        return [c for c in self.commits if not c.is_bot]

    def head_time(self) -> Optional[int]:
        return self.commits[0].time if self.commits else None


def _is_shallow(repo) -> bool:
    try:
        return repo.git.rev_parse("--is-shallow-repository").strip() == "true"
    except Exception:
        return False
