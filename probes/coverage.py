"""Critical-feature validation coverage (RUBRIC §3.1 DM-h, algorithm in §3.1.1).

1. Feature list F, in priority order: the column-based ``signature.inputs`` of committed MLmodel
   files (a JSON string inside the MLmodel YAML); otherwise the fields of the Feast feature
   views (probes/feature_store.py); otherwise ``critical_features:`` declared in ``.mlscan.yaml``
   (self-declared, flagged as such). F is never derived from the validation suites: that would be
   circular. No feature list: one ``unknown`` ("no feature list"), never a zero.
2. Critical set C: the declared ``critical_features`` that are in F, else F.
3. covered(f): at least one value-level constraint on f in any suite: GX suites (re-read from the
   GX JSON stores and classified with probes/great_expectations.py's constants), GX expectations
   in code, and every suite of probes/data_quality.py (pandera, Soda, TFDV, Deequ, dbt,
   contracts, DQDL). Schema-level constraints (types, existence) count toward ``schema_covered``
   only. Names match case-insensitively.

One ``data.feature_coverage`` per feature list (per MLmodel file, per Feast repository, or the
declaration), configured (S1: the coverage is configured; whether the suites ran is DM-g).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Optional

from scanner.facts.yamldoc import YMap
from scanner.models import Evidence, Strength
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from . import data_quality, feature_store
from . import great_expectations as gx

MAX_UNCOVERED = 50
MAX_MODELS = 20
MANIFEST = ".mlscan.yaml"
NO_LIST = ("no feature list: no committed MLmodel with a column signature, no Feast feature views, "
           "no critical_features in .mlscan.yaml")


class FeatureCoverage(Attributes):
    feature_source: Literal["mlmodel_signature", "feast", "declared"]
    features: int
    critical: int
    covered: int
    ratio: float
    uncovered: list[str]
    schema_covered: int
    self_declared: bool  # C (or F) comes from .mlscan.yaml, not from the model or the store


@dataclass
class FeatureList:
    source: Literal["mlmodel_signature", "feast", "declared"]
    path: str
    span: tuple[int, int]
    names: list[str]


# -- F: the feature lists ---------------------------------------------------------------------------


def signature_inputs(doc: Any) -> Optional[list[str] | str]:
    """Column names of an MLmodel's ``signature.inputs`` (None: no column signature; str: why
    it could not be read)."""
    signature = doc.get("signature") if isinstance(doc, dict) else None
    raw = signature.get("inputs") if isinstance(signature, dict) else None
    if raw is None:
        return None
    try:
        specs = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        return f"signature.inputs is not valid JSON: {exc}"
    if not isinstance(specs, list):
        return "signature.inputs is not a list of column specs"
    names = [s["name"] for s in specs if isinstance(s, dict) and isinstance(s.get("name"), str)
             and s.get("type") != "tensor"]
    return names or None


def _mlmodel_lists(ctx: ProbeContext) -> tuple[list[FeatureList], list[tuple[str, str]]]:
    paths = [p for p in ctx.paths if posixpath.basename(p) == "MLmodel"]
    outside_runs = [p for p in paths if not p.startswith("mlruns/") and "/mlruns/" not in p]
    lists: list[FeatureList] = []
    problems: list[tuple[str, str]] = []
    for path in (outside_runs or paths)[:MAX_MODELS]:
        doc = ctx.facts.yaml_doc(path)
        if doc is None and path in ctx.facts.problems:
            problems.append((path, ctx.facts.problems[path]))
            continue
        names = signature_inputs(doc)
        if isinstance(names, str):
            problems.append((path, names))
        elif names and isinstance(doc, YMap):
            lists.append(FeatureList("mlmodel_signature", path, doc.key_span("signature"), names))
    return lists, problems


def _declared(ctx: ProbeContext) -> tuple[Optional[FeatureList], Optional[str]]:
    if MANIFEST not in ctx.paths:
        return None, None
    docs = ctx.facts.yaml(MANIFEST)
    if docs is None:
        return None, ctx.facts.problems.get(MANIFEST, "could not be parsed")
    doc = docs[0] if docs else None
    if not isinstance(doc, YMap) or "critical_features" not in doc:
        return None, None
    names = [n for n in doc["critical_features"] or [] if isinstance(n, str)] if isinstance(doc["critical_features"], list) else []
    if not names:
        return None, "critical_features is not a list of column names"
    return FeatureList("declared", MANIFEST, doc.key_span("critical_features"), names), None


# -- covered: value-level constraints in every suite ---------------------------------------------------


def constrained_columns(ctx: ProbeContext) -> tuple[set[str], set[str]]:
    """(columns with a value-level constraint, columns with any constraint), lower-cased."""
    value: set[str] = set()
    anything: set[str] = set()
    config_roots = {posixpath.dirname(p) for p in ctx.paths if posixpath.basename(p) == "great_expectations.yml"}
    for path in ctx.paths:
        where = gx.gx_place(path, config_roots)
        if not where or where[1] != "expectations" or not path.endswith(".json"):
            continue
        doc = ctx.facts.json(path)
        suite = gx.parse_suite(path, doc, ctx.facts.text(path) or "", where[0], where[2]) if doc is not None else None
        if isinstance(suite, gx.Suite):
            value |= {c.lower() for c in suite.value_columns}
            anything |= {c.lower() for c in suite.columns}
    for _path, pyfile in sorted(ctx.facts.python.files.items()):
        if pyfile.notebook:
            continue
        gx_file = pyfile.imports_module("great_expectations")
        for call in pyfile.calls:
            hit = gx.code_expectation(call, gx_file)
            if hit:
                cols = {c.lower() for c in hit[1]}
                anything |= cols
                if gx.expectation_level(hit[0]) == "value":
                    value |= cols
    for suite in data_quality.find_suites(ctx).suites:
        if suite.notebook:
            continue
        value |= {c.lower() for c in suite.value_columns}
        anything |= {c.lower() for c in suite.columns}
    return value, anything


# -- probe ---------------------------------------------------------------------------------------------


def _coverage(ctx: ProbeContext, flist: FeatureList, declared: Optional[FeatureList],
              value: set[str], anything: set[str]) -> Evidence:
    features = sorted(set(flist.names))
    reasons: list[str] = []
    if declared and flist.source != "declared":
        wanted = {n.lower() for n in declared.names}
        critical = [f for f in features if f.lower() in wanted]
        missing = sorted(n for n in declared.names if n.lower() not in {f.lower() for f in features})
        if missing:
            reasons.append("declared critical features not among the inputs: " + ", ".join(missing[:20]))
    else:
        critical = features
    covered = [f for f in critical if f.lower() in value]
    uncovered = sorted(f for f in critical if f.lower() not in value)
    ratio = round(len(covered) / len(critical), 3) if critical else 0.0
    attrs = FeatureCoverage(
        feature_source=flist.source, features=len(features), critical=len(critical), covered=len(covered),
        ratio=ratio, uncovered=uncovered[:MAX_UNCOVERED],
        schema_covered=sum(f.lower() in anything for f in critical),
        self_declared=declared is not None,
    )
    if not critical:
        reasons.append("no critical feature is a model input")
    return ctx.evidence("data.feature_coverage", attrs, path=flist.path, lines=flist.span,
                        subject=f"{flist.source}:{flist.path}",
                        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    declared, declared_problem = _declared(ctx)
    if declared_problem:
        yield ctx.unknown("data.feature_coverage", f"{MANIFEST}: {declared_problem}", path=MANIFEST)
    lists, problems = _mlmodel_lists(ctx)
    for path, reason in problems:
        yield ctx.unknown("data.feature_coverage", f"MLmodel signature unreadable: {reason}", path=path)
    if not lists:
        for repo in feature_store.feast_repos(ctx):
            if repo.features and repo.span != (0, 0):
                lists.append(FeatureList("feast", repo.path, repo.span, sorted(repo.features)))
    if not lists and declared:
        lists.append(declared)
    if not lists:
        # The rule engine reads a missing kind as "not met"; without a feature list coverage is
        # not zero but unmeasurable, so say so (RUBRIC §2.5: unobservable is not absent).
        yield ctx.unknown("data.feature_coverage", NO_LIST)
        return
    value, anything = constrained_columns(ctx)
    for flist in lists:
        yield _coverage(ctx, flist, declared, value, anything)


PROBE = Probe(
    id="coverage",
    title="Critical-feature validation coverage (MLmodel signature / Feast fields vs value-level checks)",
    patterns=tuple(sorted({
        "**/MLmodel", "**/feature_store.yaml", MANIFEST,
        "**/great_expectations.yml", "**/expectations/**",
        *data_quality.PATTERNS,
    })),
    kinds=(
        Kind("data.feature_coverage", FeatureCoverage,
             "Share of critical model features with at least one value-level validation constraint"),
    ),
    collect=collect,
    # the suites and feature views it reads are found through these probes' prefilters
    python_tokens=tuple(sorted(set(gx.PROBE.python_tokens) | set(data_quality.PROBE.python_tokens)
                               | set(feature_store.PROBE.python_tokens))),
)
