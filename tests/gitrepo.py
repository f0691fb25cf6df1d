"""Build real git repositories from fixture trees, in tmp dirs, for tests and benchmarks.

A fixture may carry a ``history`` list (in its ``expected.yaml`` or ``fixture.yaml``)::

    history:
      - author: Ann Lee <ann@example.com>
        date: 2026-01-05T10:00:00+00:00
        message: Add the training pipeline
        paths: ["src/**", "dvc.yaml"]      # tree files first added by this commit (globs)
        append: {params.yaml: "# tuned\n"}  # optional: text appended to files already added
      - author: Bo Chen <bo@example.com>
        date: 2026-02-11T09:30:00+00:00
        message: Everything else                # the last commit adds every remaining file

Without a history the whole tree is one commit by a default author.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Iterable, Optional

DEFAULT_AUTHOR = "Fixture Author <fixture@example.com>"
DEFAULT_DATE = "2026-06-01T12:00:00+00:00"


def git(cwd: Path, *args: str, env: Optional[dict[str, str]] = None) -> str:
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), **(env or {})}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, check=True, capture_output=True, text=True
    ).stdout


def _split_author(author: str) -> tuple[str, str]:
    name, _, email = author.partition("<")
    return name.strip(), email.rstrip(">").strip()


def _tree_files(src: Path) -> list[str]:
    return sorted(
        p.relative_to(src).as_posix()
        for p in src.rglob("*")
        if (p.is_file() or p.is_symlink()) and ".git" not in p.relative_to(src).parts
    )


# A fixture's own .gitattributes would apply to *this* repository too (LFS filters!), so fixtures
# store it as `_gitattributes` and the built repository gets the real name.
RENAMED = {"_gitattributes": ".gitattributes"}


def _copy(src: Path, dest: Path, rel: str) -> None:
    parts = rel.split("/")
    parts[-1] = RENAMED.get(parts[-1], parts[-1])
    target = dest.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = src / rel
    if source.is_symlink():
        target.symlink_to(os.readlink(source))
    else:
        shutil.copyfile(source, target)


def commit(dest: Path, author: str, date: str, message: str) -> None:
    name, email = _split_author(author)
    env = {
        "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date,
    }
    git(dest, "add", "-A", "-f")
    git(dest, "commit", "-q", "--allow-empty", "-m", message, env=env)


def build_repo(
    src: Path,
    dest: Path,
    history: Optional[Iterable[dict[str, Any]]] = None,
    remote: Optional[str] = "https://github.com/example-org/example-repo.git",
) -> Path:
    """Turn the fixture tree ``src`` into a git repository at ``dest``; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.name", "Fixture Author")
    git(dest, "config", "user.email", "fixture@example.com")
    git(dest, "config", "commit.gpgsign", "false")
    if remote:
        git(dest, "remote", "add", "origin", remote)
    remaining = _tree_files(src)
    steps = list(history or [])
    if not steps:
        steps = [{"author": DEFAULT_AUTHOR, "date": DEFAULT_DATE, "message": "Initial commit"}]
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        globs = step.get("paths")
        if last:
            chosen = remaining
        else:
            chosen = [rel for rel in remaining if any(fnmatch(rel, g) for g in (globs or []))]
        for rel in chosen:
            _copy(src, dest, rel)
        remaining = [rel for rel in remaining if rel not in set(chosen)]
        for rel, text in (step.get("append") or {}).items():
            with open(dest / rel, "a", encoding="utf-8") as handle:
                handle.write(text)
        commit(dest, step.get("author", DEFAULT_AUTHOR), str(step.get("date", DEFAULT_DATE)),
               step.get("message", f"Commit {index + 1}"))
    return dest


def build_fixture(fixture_dir: Path, dest: Path) -> Path:
    """Build ``fixtures/repos/<name>`` (its ``tree/`` and the history in ``fixture.yaml``) at ``dest``."""
    import yaml

    spec_file = fixture_dir / "fixture.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) if spec_file.exists() else {}
    return build_repo(fixture_dir / "tree", dest, (spec or {}).get("history"))


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python tests/gitrepo.py fixtures/repos/<name> DEST")
    target = Path(sys.argv[2])
    if target.exists():
        sys.exit(f"{target} already exists; remove it or pick another destination")
    build_fixture(Path(sys.argv[1]), target)
    print(f"built {target} from {sys.argv[1]}")
