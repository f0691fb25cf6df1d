"""The ``mlscan`` command. Thin: parse options, call the library, pick the exit code.

Exit codes: 0 ok; 1 a gate failed (``--fail-under``, a ``diff`` regression); 2 usage or scanner error.
Heavy imports (pydantic, GitPython, rich) happen inside commands so ``--version`` stays instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import click

from . import __version__

FORMATS = ("terminal", "json", "md", "sarif", "junit")
DEFAULT_FAIL_ON = ("level-drop", "criterion-regression")

EXIT_GATE = 1
EXIT_ERROR = 2


def _fail(message: str) -> "click.exceptions.Exit":
    click.echo(f"mlscan: error: {message}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


def _parse_levels(value: Optional[str], option: str) -> dict[str, int]:
    from .models import DIMENSIONS

    levels: dict[str, int] = {}
    if not value:
        return levels
    for part in value.split(","):
        dim, sep, level = part.strip().partition("=")
        if not sep or dim not in DIMENSIONS or not level.isdigit() or not 0 <= int(level) <= 4:
            raise click.BadParameter(f"{part!r}: use DIMENSION=LEVEL with a dimension of {', '.join(DIMENSIONS)} and a level 0-4", param_hint=option)
        levels[dim] = int(level)
    return levels


def _load_policy(path: Optional[Path]):
    if path is None:
        return None
    from .config import ConfigError
    from .scan import load_policy

    try:
        return load_policy(path)
    except ConfigError as exc:
        raise _fail(f"bad policy: {exc}") from None


def _load_probes_and_pack():
    from .registry import RegistryError, all_probes, kind_index
    from .rulepack import RuleError, load_pack

    try:
        probes = all_probes()
        return probes, load_pack(kind_index(probes))
    except (RegistryError, RuleError) as exc:
        raise _fail(str(exc)) from None


def _cache_dir(given: Optional[Path], off: bool) -> Optional[Path]:
    if off:
        return None
    if given is not None:
        return given
    from .store import default_cache_dir

    return default_cache_dir()


def _service_options(command):
    """Linked services: read-only, credentials from the environment only."""
    for option in reversed((
        click.option("--mlflow-uri", help="MLflow tracking server or store to read (default: MLFLOW_TRACKING_URI, then .mlscan.yaml)."),
        click.option("--github-repo", help="owner/name to read from the GitHub API (default: the origin remote when linked)."),
        click.option("--github-api", help="GitHub API base URL (GitHub Enterprise)."),
        click.option("--offline", is_flag=True, help="No network: every service criterion is unknown (offline)."),
        click.option("--link-declared", "follow_declared", is_flag=True,
                     help="Also read a tracking server the repository itself declares (off by default: a scanned "
                          "repository must not make mlscan contact hosts of its choosing)."),
        click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="A central policy that wins over .mlscan.yaml (minimum levels, waiver rules)."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Keep probe results here between scans, keyed by blob id, so a rescan re-runs only the "
                          "probes whose inputs changed (default: $MLSCAN_CACHE_DIR, else ~/.cache/mlscan)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache."),
        click.option("--jobs", "-j", type=click.IntRange(min=1),
                     help="Worker processes for the probes (default: one per core, up to 4, on trees of 3,000 "
                          "files or more; 1 runs everything in one process). The report is the same either way."),
    )):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlscan")
def main() -> None:
    """mlscan: MLOps maturity from evidence, not questionnaires.

    Reads a repository (and, later, the services it is wired to), collects cited evidence and
    scores six dimensions from 0 to 4.
    """
    from .gcpolicy import fewer_collections

    click.get_current_context().with_resource(fewer_collections())  # rendering included


@main.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--rev", help="Scan this commit (read from git objects; the work tree is untouched).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here instead of stdout.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config instead of the repository's .mlscan.yaml.")
@click.option("--fail-under", help="Exit 1 if a dimension is below a level, e.g. data_management=2,monitoring=1.")
@click.option("--target", help="Gap analysis against these levels, e.g. model_deployment=3 (SARIF/JUnit results).")
@_service_options
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
def scan(path: Path, rev: Optional[str], fmt: str, output: Optional[Path], config_file: Optional[Path],
         fail_under: Optional[str], target: Optional[str], mlflow_uri: Optional[str], github_repo: Optional[str],
         github_api: Optional[str], offline: bool, follow_declared: bool, policy_file: Optional[Path],
         cache_dir: Optional[Path], no_cache: bool, jobs: Optional[int], quiet: bool) -> None:
    """Scan a repository and report six cited maturity levels."""
    thresholds = _parse_levels(fail_under, "--fail-under")
    targets = _parse_levels(target, "--target")
    policy = _load_policy(policy_file)
    if policy is not None:
        thresholds = {**policy.min_levels, **thresholds}
    from .config import ConfigError
    from .report import render
    from .scan import ScanOptions, scan_with
    from .snapshot import SnapshotError

    probes, pack = _load_probes_and_pack()
    progress = None if quiet else (lambda message: click.echo(f"mlscan: {message}", err=True))
    try:
        card = scan_with(path, ScanOptions(rev=rev, config_file=config_file, probes=probes, pack=pack, progress=progress,
                                           mlflow_uri=mlflow_uri, github_repo=github_repo, github_api=github_api,
                                           offline=offline, follow_declared=follow_declared, policy=policy,
                                           jobs=jobs, cache_dir=_cache_dir(cache_dir, no_cache)))
    except SnapshotError as exc:
        raise _fail(str(exc)) from None
    except ConfigError as exc:
        raise _fail(f"bad config: {exc}") from None
    color = output is None and fmt == "terminal" and sys.stdout.isatty()
    _emit(render(card, fmt, pack=pack, targets=targets, color=color), output, fmt, quiet)
    below = _below(card, thresholds)
    if below:
        click.echo("mlscan: gate failed: " + "; ".join(below), err=True)
        raise click.exceptions.Exit(EXIT_GATE)


def _below(card, thresholds: dict[str, int]) -> list[str]:
    return [f"{dim} is {card.dimension(dim).level}, needs {lvl}" for dim, lvl in thresholds.items()
            if card.dimension(dim).level < lvl]


def _emit(text: str, output: Optional[Path], fmt: str, quiet: bool) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
        if not quiet:
            click.echo(f"mlscan: wrote {fmt} report to {output}", err=True)
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base", required=True, help="The commit or branch the change is measured against.")
@click.option("--head", help="The changed commit (default: the work tree as it is).")
@click.option("--no-merge-base", is_flag=True, help="Compare with BASE itself, not the merge-base of BASE and HEAD.")
@click.option("--fail-on", default=",".join(DEFAULT_FAIL_ON), show_default=True,
              help="What fails the gate: a comma list of level-drop, criterion-regression, evidence-lost, or none.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here instead of stdout.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config for both sides.")
@click.option("--target", help="Gap analysis against these levels, e.g. model_deployment=3 (SARIF/JUnit results).")
@_service_options
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
def diff(path: Path, base: str, head: Optional[str], no_merge_base: bool, fail_on: str, fmt: str,
         output: Optional[Path], config_file: Optional[Path], target: Optional[str], mlflow_uri: Optional[str],
         github_repo: Optional[str], github_api: Optional[str], offline: bool, follow_declared: bool,
         policy_file: Optional[Path], cache_dir: Optional[Path], no_cache: bool, jobs: Optional[int],
         quiet: bool) -> None:
    """Pre-merge gate: compare two commits and exit 1 when maturity regresses."""
    from .config import ConfigError
    from .diff import DiffOptions, diff as run_diff, parse_fail_on
    from .report import render_diff
    from .scan import ScanOptions
    from .snapshot import SnapshotError

    try:
        policy = parse_fail_on(fail_on)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    targets = _parse_levels(target, "--target")
    probes, pack = _load_probes_and_pack()
    progress = None if quiet else (lambda message: click.echo(f"mlscan: {message}", err=True))
    options = DiffOptions(base=base, head=head, merge_base=not no_merge_base, fail_on=policy,
                          scan=ScanOptions(config_file=config_file, progress=progress, mlflow_uri=mlflow_uri,
                                           github_repo=github_repo, github_api=github_api, offline=offline,
                                           follow_declared=follow_declared, policy=_load_policy(policy_file),
                                           jobs=jobs, cache_dir=_cache_dir(cache_dir, no_cache)))
    try:
        result = run_diff(path, options, probes, pack)
    except SnapshotError as exc:
        raise _fail(str(exc)) from None
    except ConfigError as exc:
        raise _fail(f"bad config: {exc}") from None
    color = output is None and fmt == "terminal" and sys.stdout.isatty()
    _emit(render_diff(result, fmt, pack=pack, targets=targets, color=color), output, fmt, quiet)
    below = _below(result.head_card, options.scan.policy.min_levels if options.scan.policy else {})
    if result.failed or below:
        reasons = ([f"{len(result.regressions)} regressions"] if result.failed else []) + below
        click.echo("mlscan: gate failed: " + "; ".join(reasons), err=True)
        raise click.exceptions.Exit(EXIT_GATE)


@main.group()
def cache() -> None:
    """The result cache: probe runs kept between scans (see --cache-dir)."""


@cache.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="The cache to describe.")
def cache_info(cache_dir: Optional[Path]) -> None:
    """Where the cache is and how much it holds."""
    from .store import summarise

    probes, _ = _load_probes_and_pack()
    summary = summarise(_cache_dir(cache_dir, False) or Path(), probes)
    click.echo(f"cache: {summary.root}")
    click.echo(f"generations: {summary.generations} (this mlscan's: {'yes' if summary.current else 'none yet'})")
    click.echo(f"entries: {summary.files}, {summary.bytes / 1_048_576:.1f} MiB")


@cache.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="The cache to clear.")
def cache_clear(cache_dir: Optional[Path]) -> None:
    """Remove every stored probe run (the next scan computes everything again)."""
    from .store import clear

    root = _cache_dir(cache_dir, False) or Path()
    click.echo(f"removed {clear(root)} generations from {root}")


class _Size(click.ParamType):
    """A size like 500M, 2G, 1.5GiB or a plain number of bytes."""

    name = "size"
    UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> int:
        import re

        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", str(value), re.IGNORECASE)
        if match is None:
            self.fail(f"{value!r} is not a size (e.g. 500M, 2G, 1048576)", param, ctx)
        return int(float(match.group(1)) * self.UNITS[match.group(2).upper()])


@cache.command("prune")
@click.option("--max-size", type=_Size(), required=True, help="Keep at most this much, e.g. 500M or 2G.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="The cache to prune.")
def cache_prune(max_size: int, cache_dir: Optional[Path]) -> None:
    """Remove the entries no scan has needed for longest until the cache fits in --max-size."""
    from .store import prune

    root = _cache_dir(cache_dir, False) or Path()
    done = prune(root, max_size)
    click.echo(f"removed {done.files} entries ({done.bytes / 1_048_576:.1f} MiB) from {root}; "
               f"{done.left / 1_048_576:.1f} MiB left")


@main.command()
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here instead of stdout.")
@click.option("--target", help="Gap analysis against these levels, e.g. model_deployment=3 (SARIF/JUnit results).")
def render(report: Path, fmt: str, output: Optional[Path], target: Optional[str]) -> None:
    """Render a saved JSON report (of scan or diff) in another format, without scanning again."""
    import json

    from pydantic import ValidationError

    from .models import DiffResult, Scorecard
    from .report import render as render_card, render_diff

    targets = _parse_levels(target, "--target")
    _, pack = _load_probes_and_pack()
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "head_card" in data:
            text = render_diff(DiffResult.model_validate(data), fmt, pack=pack, targets=targets)
        else:
            text = render_card(Scorecard.model_validate(data), fmt, pack=pack, targets=targets)
    except (ValueError, ValidationError) as exc:
        raise _fail(f"{report}: not an mlscan JSON report ({str(exc).splitlines()[0]})") from None
    _emit(text, output, fmt, quiet=True)


@main.command()
def probes() -> None:
    """List installed probes and the evidence kinds they emit."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    probe_list, _ = _load_probes_and_pack()
    table = Table(show_lines=False, expand=True)
    table.add_column("Probe", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Attributes")
    table.add_column("Description")
    for probe in probe_list:
        for index, kind in enumerate(probe.kinds):
            attrs = ", ".join(sorted(getattr(kind.model, "model_fields", {})))
            table.add_row(Text(probe.id if index == 0 else ""), Text(kind.name), Text(attrs), Text(kind.description))
    Console(width=160, highlight=False).print(table)


@main.command()
@click.option("--dimension", help="Only this dimension.")
def rules(dimension: Optional[str]) -> None:
    """List the criteria of the rule pack, level by level."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    _, pack = _load_probes_and_pack()
    table = Table(title=Text(f"{pack.id} {pack.version}"), expand=True)
    for column in ("Criterion", "Level", "Needs", "Title"):
        table.add_column(column)
    for dim in pack.dimensions:
        if dimension and dim.id != dimension:
            continue
        for criterion in dim.criteria:
            needs = "no probe yet" if criterion.unobservable else criterion.min_strength.value
            table.add_row(Text(criterion.id), Text(str(criterion.level)), Text(needs), Text(criterion.title))
    Console(width=140, highlight=False).print(table)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the JSON report."""
    import json

    from .models import Scorecard

    click.echo(json.dumps(Scorecard.model_json_schema(), indent=2, sort_keys=True))


@main.command()
@click.argument("subject")
def explain(subject: str) -> None:
    """Explain a DIMENSION (its levels) or a CRITERION (what it needs and how to get there)."""
    from .explain import explain_text

    _, pack = _load_probes_and_pack()
    try:
        click.echo(explain_text(pack, subject))
    except KeyError:
        raise _fail(f"{subject!r} is neither a dimension nor a criterion id; see `mlscan rules`") from None


if __name__ == "__main__":  # pragma: no cover
    main()
