"""One scan, end to end: target -> snapshot -> probes -> evidence -> rule engine -> scorecard.

Everything the ``mlscan scan`` command does is callable from here::

    from scanner.scan import scan
    card = scan("path/to/repo", rev="main")
    print(card.dimension("data_management").level)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from . import __version__
from .config import CONFIG_FILE, Config, ConfigError, Policy, parse_config, parse_policy
from .engine import EngineInput, score
from .models import Header, RulePackRef, ScanProblem, Scorecard, Target
from .probe import Probe
from .registry import all_probes, kind_index
from .rulepack import RulePack, load_pack
from .facts import BlobCache, Facts
from .gcpolicy import fewer_collections
from .runner import RunResult, run_probe_pairs, run_probes
from .store import RunStore
from .services import ServiceSession
from .services.links import resolve_links
from .snapshot import FileSkipped, Snapshot, open_snapshot

Progress = Callable[[str], None]


@dataclass
class ScanOptions:
    rev: Optional[str] = None
    config_file: Optional[Path] = None
    probes: Optional[list[Probe]] = None
    pack: Optional[RulePack] = None
    progress: Optional[Progress] = None
    extra_problems: list[ScanProblem] = field(default_factory=list)
    mlflow_uri: Optional[str] = None
    github_repo: Optional[str] = None
    github_api: Optional[str] = None
    offline: bool = False
    follow_declared: bool = False  # contact services the scanned repository itself declares
    policy: Optional[Policy] = None
    jobs: Optional[int] = None  # worker processes for probes; None: one per core on large trees
    cache_dir: Optional[Path] = None  # keep probe runs here between scans (None: no result store)


def load_policy(path: Path) -> Policy:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_policy(text, str(path))


def scan_time() -> datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds convention), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def load_config(snapshot: Snapshot, config_file: Optional[Path]) -> Config:
    if config_file is not None:
        try:
            text = Path(config_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{config_file}: cannot read: {exc.strerror}") from None
        return parse_config(text, str(config_file))
    if CONFIG_FILE in snapshot:
        try:
            data = snapshot.read_bytes(CONFIG_FILE)
        except FileSkipped as exc:
            raise ConfigError(f"{CONFIG_FILE}: {exc}") from None
        return parse_config(data.decode("utf-8", "replace"), CONFIG_FILE)
    return Config()


def open_services(config: Config, remote: Optional[str], options: ScanOptions, when: datetime) -> ServiceSession:
    links = resolve_links(config, remote, mlflow_uri=options.mlflow_uri, github_repo=options.github_repo,
                          github_api=options.github_api)
    return ServiceSession(links, offline=options.offline, observed_at=when.isoformat(),
                          follow_declared=options.follow_declared)


def scan(path: str | os.PathLike[str], rev: Optional[str] = None, **kwargs) -> Scorecard:
    return scan_with(path, ScanOptions(rev=rev, **kwargs))


def scan_with(path: str | os.PathLike[str], options: ScanOptions) -> Scorecard:
    probes = options.probes if options.probes is not None else all_probes()
    pack = options.pack or load_pack(kind_index(probes))
    with fewer_collections(), open_snapshot(path, options.rev) as snapshot:
        card, _ = scan_snapshot(snapshot, probes, pack, options)
    return card


def scan_snapshot(
    snapshot: Snapshot,
    probes: list[Probe],
    pack: RulePack,
    options: ScanOptions,
    *,
    cache: Optional[BlobCache] = None,
    prior: Optional[RunResult] = None,
    services: Optional[ServiceSession] = None,
) -> tuple[Scorecard, RunResult]:
    """Scan an open snapshot. ``cache`` and ``prior`` let a second scan (a diff's head) skip
    files and probes whose blobs did not change; ``services`` lets it share service answers."""
    prepared = _prepare(snapshot, probes, options, cache, services)
    store = open_store(options, probes)
    run = run_probes(snapshot, probes, prepared.facts, prior=prior, services=prepared.services,
                     record_inputs=cache is not None and prior is None, jobs=options.jobs, store=store)
    _say_reused(options, run, store)
    return _finish(snapshot, pack, options, prepared, run), run


def open_store(options: ScanOptions, probes: list[Probe]) -> Optional[RunStore]:
    """The result store of ``options.cache_dir`` for these probes (None: no store)."""
    return RunStore(options.cache_dir, probes) if options.cache_dir is not None else None


def _say_reused(options: ScanOptions, run: RunResult, store: Optional[RunStore]) -> None:
    say = options.progress or (lambda message: None)
    if store is not None and store.problem:
        say(f"result cache not written ({store.problem}); scans stay correct, only slower")
    recalled = set(run.recalled)
    if recalled:
        say(f"unchanged since an earlier scan (result cache): {len(recalled)} probes")
    others = [p for p in run.reused if p not in recalled]
    if others:
        say(f"reused unchanged results of {len(others)} probes: {', '.join(others)}")


def scan_pair(
    base: Snapshot,
    head: Snapshot,
    probes: list[Probe],
    pack: RulePack,
    base_options: ScanOptions,
    head_options: ScanOptions,
    services: ServiceSession,
    jobs: int,
) -> tuple[Scorecard, RunResult, Scorecard, RunResult]:
    """Both sides of a diff at once: workers take each probe's base and head runs together (see
    :func:`scanner.runner.run_probe_pairs`). The same scorecards as two :func:`scan_snapshot` calls."""
    cache = BlobCache()
    first = _prepare(base, probes, base_options, cache, services)
    second = _prepare(head, probes, head_options, cache, services)
    store = open_store(head_options, probes)
    base_run, head_run = run_probe_pairs(base, first.facts, head, second.facts, probes, services, jobs, store=store)
    _say_reused(head_options, head_run, store)
    return (_finish(base, pack, base_options, first, base_run), base_run,
            _finish(head, pack, head_options, second, head_run), head_run)


@dataclass
class _Prepared:
    config: Config
    facts: Facts
    services: ServiceSession
    when: datetime


def _prepare(snapshot: Snapshot, probes: list[Probe], options: ScanOptions, cache: Optional[BlobCache],
             services: Optional[ServiceSession]) -> _Prepared:
    say = options.progress or (lambda message: None)
    when = scan_time()
    config = load_config(snapshot, options.config_file)
    if options.policy is not None:
        config = options.policy.apply(config)
    if config.scope.exclude:
        snapshot.exclude(config.scope.exclude)
    inside = _inside(options.cache_dir, snapshot)
    if inside:  # a result cache kept in the checkout (as CI caches must be) is not the project
        snapshot.exclude([f"{inside}/**"])
    where = snapshot.commit[:12] if snapshot.commit else "work tree"
    say(f"{snapshot.name} @ {where}: {len(snapshot.paths())} files, running {len(probes)} probes")
    if services is None:
        services = open_services(config, snapshot.remote, options, when)
    facts = Facts(snapshot, python_tokens=[t for p in probes for t in p.python_tokens], cache=cache)
    return _Prepared(config, facts, services, when)


def _inside(directory: Optional[Path], snapshot: Snapshot) -> Optional[str]:
    """``directory`` relative to the scanned root, when it lies inside it."""
    root = getattr(snapshot, "root", None)
    if directory is None or root is None:
        return None
    try:
        rel = Path(directory).resolve().relative_to(root)
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def _finish(snapshot: Snapshot, pack: RulePack, options: ScanOptions, prepared: _Prepared,
            run: RunResult) -> Scorecard:
    config, services, when = prepared.config, prepared.services, prepared.when
    target = Target(
        name=snapshot.name, rev=options.rev, commit=snapshot.commit, remote=snapshot.remote,
        subpath=snapshot.subpath or None, dirty=snapshot.dirty,
    )
    waivers = config.resolved_waivers(when.date(), subpath=snapshot.subpath, policy=options.policy)
    dims, criteria = score(pack, EngineInput(
        evidence=run.evidence, context=config.declared_context(), waivers=waivers,
        services=services.states(),
    ))
    reproducible = "SOURCE_DATE_EPOCH" in os.environ
    timings = {k: (0.0 if reproducible else round(v, 4)) for k, v in sorted(run.timings.items())}
    card = Scorecard(
        header=Header(
            scanner="mlscan", scanner_version=__version__, generated_at=when.isoformat(),
            rule_pack=RulePackRef(id=pack.id, version=pack.version, sha256=pack.sha256),
            target=target, context=config.declared_context(), targets=dict(sorted(config.targets.items())),
        ),
        dimensions=dims,
        criteria=criteria,
        evidence=run.evidence,
        waivers=waivers,
        errors=sorted(run.problems + options.extra_problems, key=lambda p: (p.scope, p.subject, p.message)),
        timings=timings,
    )
    return card
