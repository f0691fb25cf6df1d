"""One tree of files at one point: a directory (`WorkTree`) or a commit read from git objects (`GitTree`).

Git is driven as processes through GitPython: one ``ls-files``/``ls-tree`` lists the tree, and
blobs are read through the persistent ``cat-file --batch`` (``repo.git.get_object_data``). We never
use GitPython's Python-side tree walk, never check anything out and never touch the index.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from pathlib import Path
import subprocess
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator, NamedTuple, Optional

if TYPE_CHECKING:
    from concurrent.futures import Future

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024

# Directories a plain directory walk never descends into.
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
     ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages"}
)


class SnapshotError(Exception):
    """The target cannot be scanned at all (not a directory, unknown revision...)."""


class FileSkipped(Exception):
    """One file could not be read; the scan goes on and records the reason."""


class Entry(NamedTuple):
    """One file of the listing (a named tuple: a tree lists tens of thousands)."""

    size: int
    blob: Optional[str]
    symlink: bool = False


class Snapshot:
    """Common surface of both trees. Paths are POSIX, relative to the scanned root, sorted."""

    name: str
    commit: Optional[str] = None
    remote: Optional[str] = None
    subpath: str = ""
    rev: Optional[str] = None
    dirty: bool = False
    repo = None  # git.Repo when the tree lives in git

    def __init__(self, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        self.max_file_bytes = max_file_bytes
        self._entries: dict[str, Entry] = {}
        self._paths: list[str] = []
        self._ahead: dict[tuple, "Future[Optional[set[str]]]"] = {}  # grep_ahead() answers to come

    # -- listing ---------------------------------------------------------------------

    def paths(self) -> list[str]:
        return self._paths

    def size(self, path: str) -> Optional[int]:
        entry = self._entries.get(path)
        return entry.size if entry else None

    def blob_id(self, path: str) -> Optional[str]:
        entry = self._entries.get(path)
        return entry.blob if entry else None

    def __contains__(self, path: str) -> bool:
        return path in self._entries

    def exclude(self, globs: list[str]) -> None:
        """Leave paths matching ``globs`` out of the scan (``scope.exclude`` in .mlscan.yaml)."""
        from .globs import compile_patterns

        pattern = compile_patterns(globs)
        self._paths = [p for p in self._paths if not pattern.match(p)]

    # -- reading ---------------------------------------------------------------------

    def read_bytes(self, path: str, cap: Optional[int] = None) -> bytes:
        entry = self._entries.get(path)
        if entry is None:
            raise FileSkipped("not in the tree")
        limit = cap if cap is not None else self.max_file_bytes
        if entry.size > limit:
            raise FileSkipped(f"{entry.size} bytes, over the {limit}-byte cap")
        return self._read(path, entry)

    def _read(self, path: str, entry: Entry) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def iter_bytes(self, paths: list[str]) -> Iterator[tuple[str, Optional[bytes], str]]:
        """(path, content or None, why not) for each path, streamed: never all held at once."""
        for path in paths:
            try:
                yield path, self.read_bytes(path), ""
            except FileSkipped as exc:
                yield path, None, str(exc)

    def grep(self, paths: list[str], patterns: list[str]) -> Optional[set[str]]:
        """The paths among ``paths`` with a line matching any of ``patterns`` (Perl-compatible),
        or None when this tree cannot be searched outside Python (then the caller searches)."""
        ahead = self._ahead.pop(_grep_key(paths, patterns), None)
        return ahead.result() if ahead is not None else self._grep_now(paths, patterns)

    def grep_ahead(self, paths: list[str], patterns: list[str]) -> None:
        """Start :meth:`grep` for these arguments in a thread (git works while Python does
        something else); the call with the same arguments takes its answer."""
        from concurrent.futures import Future

        key = _grep_key(paths, patterns)
        if key in self._ahead:
            return
        future: "Future[Optional[set[str]]]" = Future()

        def run() -> None:
            try:
                future.set_result(self._grep_now(paths, patterns))
            except BaseException as exc:  # handed to the caller of grep()
                future.set_exception(exc)

        self._ahead[key] = future
        threading.Thread(target=run, name="mlscan-grep", daemon=True).start()

    def _grep_now(self, paths: list[str], patterns: list[str]) -> Optional[set[str]]:
        return None

    def greppable(self, path: str) -> bool:
        """Whether :meth:`grep` may answer for ``path``: a regular file within the size cap (a
        symlink or an oversized file goes through :meth:`read_bytes`, which checks and records)."""
        entry = self._entries.get(path)
        return entry is not None and not entry.symlink and entry.size <= self.max_file_bytes

    def _git_grep(self, paths: list[str], patterns: list[str], tree: Optional[str]) -> Optional[set[str]]:
        """One ``git grep -l -P`` over the pathspecs that cover ``paths`` (by file extension)."""
        exts = {posixpath.splitext(p)[1] for p in paths}
        if not paths or not patterns or "" in exts or len(exts) > 8 or self.repo is None:
            return None
        prefix = self.subpath + "/" if self.subpath else ""
        specs = [f"{prefix}*{ext}" for ext in sorted(exts)]
        args = ["-l", "-z", "-a", "--no-color", "--full-name", "-P"]
        for pattern in patterns:
            args += ["-e", pattern]
        args += [tree] if tree else ["--untracked"]
        try:
            status, out, _ = self.repo.git.grep(*args, "--", *specs, with_extended_output=True,
                                                  with_exceptions=False)
        except Exception:  # git missing or killed: the caller falls back to Python
            return None
        if status not in (0, 1):  # e.g. git built without PCRE
            return None
        lead = f"{tree}:" if tree else ""
        wanted = set(paths)
        found = set()
        for record in filter(None, out.split("\0")):
            rel = record[len(lead):] if lead and record.startswith(lead) else record
            path = rel[len(prefix):] if prefix and rel.startswith(prefix) else rel
            if path in wanted:
                found.add(path)
        return found

    # -- citing ----------------------------------------------------------------------

    def repo_path(self, path: str) -> str:
        """The path from the repository root (what a permalink needs)."""
        return f"{self.subpath}/{path}" if self.subpath else path

    def permalink(self, path: str, start: Optional[int] = None, end: Optional[int] = None) -> Optional[str]:
        if not (self.remote and self.commit) or not self._citable(path):
            return None
        return permalink(self.remote, self.commit, self.repo_path(path), start, end)

    def _citable(self, path: str) -> bool:
        return True

    def close(self) -> None:
        if self.repo is not None:
            self.repo.close()
            self.repo = None

    def __enter__(self) -> "Snapshot":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_repo(path: Path):
    """The git repository containing ``path``, or None when it is not in one."""
    import git  # GitPython; imported here so `mlscan --version` stays fast

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _grep_key(paths: list[str], patterns: list[str]) -> tuple:
    return (len(paths), hash(tuple(paths)), tuple(patterns))


def reopen_repo(snapshot: "Snapshot"):
    """A new handle on the snapshot's repository, with git processes of its own (a forked worker
    must not talk to its parent's ``cat-file`` pipes)."""
    repo = snapshot.repo
    return _open_repo(Path(repo.working_tree_dir or repo.git_dir))


def _git_subpath(repo, path: Path) -> str:
    top = Path(repo.working_tree_dir).resolve() if repo.working_tree_dir else None
    if top is None:
        return ""
    rel = path.resolve().relative_to(top).as_posix()
    return "" if rel == "." else rel


def _remote_url(repo) -> Optional[str]:
    try:
        url = repo.git.config("--get", "remote.origin.url")
    except Exception:
        return None
    return strip_credentials(url.strip()) or None


def _read_file(path: Path, limit: int) -> bytes:
    """Up to ``limit`` bytes with plain os calls: ``open()`` builds a buffered file object per
    call, which is most of the cost when a scan reads tens of thousands of small files."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def blob_hash(data: bytes) -> str:
    """Git's blob id of ``data``: lets a work tree cite the same blob git would."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class WorkTree(Snapshot):
    """A directory as it is on disk. Inside a git checkout, git lists the files."""

    def __init__(self, path: str | os.PathLike[str], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        super().__init__(max_file_bytes)
        root = Path(path)
        if not root.exists():
            raise SnapshotError(f"{path}: no such directory")
        if not root.is_dir():
            raise SnapshotError(f"{path}: not a directory")
        self.root = root.resolve()
        self._root_str = str(self.root)
        self.name = self.root.name
        self._head_blobs: dict[str, str] = {}
        self._changed: set[str] = set()
        self._hashed: dict[str, Optional[str]] = {}
        self.repo = _open_repo(self.root)
        if self.repo is not None and self.repo.working_tree_dir:
            self._list_with_git()
        else:
            self.repo = None
            self._list_by_walking()
        self._paths = sorted(self._entries)

    def _list_with_git(self) -> None:
        repo = self.repo
        self.subpath = _git_subpath(repo, self.root)
        self.remote = _remote_url(repo)
        try:
            self.commit = repo.git.rev_parse("--verify", "-q", "HEAD")
        except Exception:
            self.commit = None  # a repository with no commit yet
        top = str(Path(repo.working_tree_dir).resolve())
        scope = ["--", self.subpath] if self.subpath else []
        prefix = self.subpath + "/" if self.subpath else ""
        # HEAD's blobs (with their sizes) and the files that differ from HEAD come from two more
        # git processes, run in threads (waiting on a pipe releases the GIL) beside ls-files. A
        # regular file git says is unchanged has HEAD's size: only the others are stat'ed. (The
        # size cap is enforced again when a file is read, so a smudged LFS file cannot slip by.)
        from concurrent.futures import ThreadPoolExecutor

        head_sizes: dict[str, int] = {}
        changed = ""
        with ThreadPoolExecutor(max_workers=2) as pool:
            if self.commit:
                head_listing = pool.submit(repo.git.ls_tree, "-r", "-l", "-z", "--full-tree", self.commit, *scope)
                # Files that differ from HEAD (staged or not); git answers from its stat cache.
                head_changes = pool.submit(repo.git.diff_index, "--name-only", "-z", "--no-renames", "HEAD", *scope)
            out = repo.git.ls_files("-z", "--cached", "--others", "--exclude-standard", *scope)
            if self.commit:
                for record in filter(None, head_listing.result().split("\0")):
                    meta, rel = record.split("\t", 1)
                    mode, kind, sha, size = meta.split()
                    path = rel[len(prefix):] if prefix and rel.startswith(prefix) else rel
                    self._head_blobs[path] = sha
                    if mode in ("100644", "100755") and size.isdigit():
                        head_sizes[path] = int(size)
                changed = head_changes.result()
        self._changed = {
            rel[len(prefix):] if prefix and rel.startswith(prefix) else rel for rel in filter(None, changed.split("\0"))
        }
        entries, differs = self._entries, self._changed
        for rel in filter(None, out.split("\0")):
            path = rel[len(prefix):] if prefix and rel.startswith(prefix) else rel
            size = head_sizes.get(path)
            if size is not None and path not in differs:
                entries[path] = Entry(size, None)
            else:
                self._add(path, os.path.join(top, rel))
        self._dirty_by_git = True
        self.dirty = bool(self._changed) or any(p not in self._head_blobs for p in self._entries)

    def exclude(self, globs: list[str]) -> None:
        """Also: a change only in files left out does not make the scanned tree dirty."""
        super().exclude(globs)
        if getattr(self, "_dirty_by_git", False):
            kept = set(self._paths)
            self.dirty = (any(p in kept or p not in self._entries for p in self._changed)
                          or any(p not in self._head_blobs for p in self._paths))

    def _list_by_walking(self) -> None:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not (Path(dirpath, d, "pyvenv.cfg").exists())
            )
            for name in filenames:
                full = os.path.join(dirpath, name)
                self._add(Path(full).relative_to(self.root).as_posix(), full)

    def _add(self, path: str, full: str) -> None:
        try:
            st = os.lstat(full)
        except OSError:
            return  # listed by git but deleted in the work tree
        if stat.S_ISLNK(st.st_mode):
            try:
                target = Path(full).resolve(strict=True)
                target.relative_to(self.root)
                st = os.stat(target)
            except (OSError, ValueError, RuntimeError):
                return  # dangling, looping or escaping the tree: never followed
            if not stat.S_ISREG(st.st_mode):
                return
            self._entries[path] = Entry(size=st.st_size, blob=None, symlink=True)
        elif stat.S_ISREG(st.st_mode):
            self._entries[path] = Entry(size=st.st_size, blob=None)

    def _read(self, path: str, entry: Entry) -> bytes:
        full: "str | Path" = os.path.join(self._root_str, path)
        if entry.symlink:
            full = Path(full).resolve(strict=True)
            full.relative_to(self.root)  # re-checked at read time: no escape through races
        try:
            return _read_file(full, self.max_file_bytes + 1)
        except OSError as exc:
            raise FileSkipped(f"unreadable: {exc.strerror or exc}") from exc

    def blob_id(self, path: str) -> Optional[str]:
        """Git's blob id of the file as it is on disk (HEAD's, when git says it is unchanged)."""
        if path not in self._entries:
            return None
        if path in self._head_blobs and path not in self._changed and not self._entries[path].symlink:
            return self._head_blobs[path]
        if path not in self._hashed:  # changed or untracked: hash what is on disk, once
            try:
                self._hashed[path] = blob_hash(self.read_bytes(path))
            except FileSkipped:
                self._hashed[path] = None
        return self._hashed[path]

    def _grep_now(self, paths: list[str], patterns: list[str]) -> Optional[set[str]]:
        return self._git_grep(paths, patterns, None) if self.repo is not None else None

    def _citable(self, path: str) -> bool:
        # A permalink to the commit is honest only when the file is as committed.
        blob = self.blob_id(path)
        return blob is not None and self._head_blobs.get(path) == blob


class GitTree(Snapshot):
    """A commit read straight from git objects: no checkout, work tree and index untouched."""

    def __init__(self, path: str | os.PathLike[str], rev: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        super().__init__(max_file_bytes)
        root = Path(path)
        if not root.is_dir():
            raise SnapshotError(f"{path}: no such directory")
        repo = _open_repo(root)
        if repo is None:
            raise SnapshotError(f"{path}: not a git repository, so --rev cannot be read")
        self.repo = repo
        self.rev = rev
        self.root = root.resolve()
        self.name = self.root.name
        self.subpath = _git_subpath(repo, self.root) if repo.working_tree_dir else ""
        self.remote = _remote_url(repo)
        self.commit = resolve_commit(repo, rev)
        self._missing: set[str] = set()
        scope = ["--", self.subpath] if self.subpath else []
        listing = repo.git.ls_tree("-r", "-l", "-z", "--full-tree", self.commit, *scope)
        prefix = self.subpath + "/" if self.subpath else ""
        for record in filter(None, listing.split("\0")):
            meta, rel = record.split("\t", 1)
            mode, kind, sha, size = meta.split()
            if kind != "blob":
                continue  # submodules are other repositories
            path = rel[len(prefix):] if prefix and rel.startswith(prefix) else rel
            self._entries[path] = Entry(
                size=int(size) if size.isdigit() else 0, blob=sha, symlink=(mode == "120000")
            )
        self._paths = sorted(self._entries)

    def _read(self, path: str, entry: Entry) -> bytes:
        if entry.symlink:
            target = self._symlink_target(path, entry)
            return self.read_bytes(target)
        return self._cat(entry.blob)

    def _cat(self, sha: Optional[str]) -> bytes:
        try:
            _, _, _, data = self.repo.git.get_object_data(sha)
        except Exception as exc:  # missing object: partial clone, pruned blob
            raise FileSkipped(f"git object {sha} is missing (partial clone?)") from exc
        return data

    def _symlink_target(self, path: str, entry: Entry) -> str:
        link = self._cat(entry.blob).decode("utf-8", "replace")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
        if link.startswith("/") or target.startswith("..") or target not in self._entries:
            raise FileSkipped(f"symlink to {link!r} leaves the tree; not followed")
        if self._entries[target].symlink:
            raise FileSkipped("symlink to a symlink; not followed")
        return target

    def iter_bytes(self, paths: list[str]) -> Iterator[tuple[str, Optional[bytes], str]]:
        """Stream many blobs through one ``git cat-file --batch`` process.

        One request per file costs a round trip each; writing every object id up front (from a
        thread, so neither pipe can fill and block) and reading the answers in order is as fast
        as git can go.
        """
        batch = [p for p in paths if p in self._entries and not self._entries[p].symlink
                 and self._entries[p].size <= self.max_file_bytes]
        if len(batch) < 64:
            yield from super().iter_bytes(paths)
            return
        in_batch = set(batch)
        for path in paths:  # the odd ones (symlinks, over the cap, not in the tree) one by one
            if path not in in_batch:
                yield from super().iter_bytes([path])
        proc = self.repo.git.execute(["git", "cat-file", "--batch"], as_process=True, istream=subprocess.PIPE)
        shas = "".join(f"{self._entries[p].blob}\n" for p in batch).encode()

        def feed() -> None:
            try:
                proc.stdin.write(shas)
            finally:
                proc.stdin.close()

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out = proc.stdout
        try:
            for path in batch:
                header = out.readline().split()
                if len(header) == 2 and header[1] == b"missing":
                    yield path, None, f"git object {header[0].decode()} is missing (partial clone?)"
                    continue
                if len(header) != 3:
                    raise SnapshotError(f"git cat-file --batch answered {header!r}")
                data = out.read(int(header[2]))
                out.read(1)  # the newline after each object
                yield path, data, ""
        finally:
            writer.join()
            proc.wait()

    def _grep_now(self, paths: list[str], patterns: list[str]) -> Optional[set[str]]:
        return self._git_grep(paths, patterns, self.commit)

    def changed_paths(self, base: str) -> list[str]:
        """Paths that differ between ``base`` and this commit (one ``diff-tree``)."""
        base_commit = resolve_commit(self.repo, base)
        out = self.repo.git.diff_tree("-r", "--name-only", "-z", "--no-renames", base_commit, self.commit)
        prefix = self.subpath + "/" if self.subpath else ""
        return sorted(
            p[len(prefix):] for p in filter(None, out.split("\0")) if p.startswith(prefix)
        )


def resolve_commit(repo, rev: str) -> str:
    if rev.startswith("-"):
        raise SnapshotError(f"unknown revision {rev!r}")
    try:
        return repo.git.rev_parse("--verify", "-q", f"{rev}^{{commit}}")
    except Exception as exc:
        raise SnapshotError(f"unknown revision {rev!r}") from exc


def open_snapshot(path: str | os.PathLike[str], rev: Optional[str] = None, **kwargs) -> Snapshot:
    return GitTree(path, rev, **kwargs) if rev else WorkTree(path, **kwargs)


# -- permalinks -----------------------------------------------------------------------

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//)[^\s]+)$")


def strip_credentials(url: str) -> str:
    return re.sub(r"(?<=://)[^/@\s]+@", "", url)


@lru_cache(maxsize=64)
def web_base(remote: str) -> Optional[tuple[str, str]]:
    """(forge, https base) of a remote in https, ssh:// or scp-like form; None if unknown."""
    remote = strip_credentials(remote.strip())
    match = re.match(r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$", remote)
    if not match:
        match = _SCP_LIKE.match(remote)
    if not match:
        return None
    host, path = match.group("host").lower(), match.group("path")
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if "github" in host:
        forge = "github"
    elif "gitlab" in host:
        forge = "gitlab"
    elif "bitbucket" in host:
        forge = "bitbucket"
    else:
        return None
    return forge, f"https://{host}/{path}"


def permalink(remote: str, commit: str, path: str, start: Optional[int], end: Optional[int]) -> Optional[str]:
    base = web_base(remote)
    if base is None:
        return None
    forge, url = base
    quoted = "/".join(_quote(part) for part in path.split("/"))
    if forge == "bitbucket":
        link = f"{url}/src/{commit}/{quoted}"
        if start:
            link += f"#lines-{start}" + (f":{end}" if end and end != start else "")
        return link
    link = f"{url}/-/blob/{commit}/{quoted}" if forge == "gitlab" else f"{url}/blob/{commit}/{quoted}"
    if start:
        if forge == "gitlab":
            link += f"#L{start}" + (f"-{end}" if end and end != start else "")
        else:
            link += f"#L{start}" + (f"-L{end}" if end and end != start else "")
    return link


@lru_cache(maxsize=65536)
def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="@+-._~")

