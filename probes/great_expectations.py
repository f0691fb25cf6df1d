"""Great Expectations (GX): suites, checkpoints, where validation actually runs, and expectations
written in code (RUBRIC §3.1 DM-f, DM-g, DM-h and §3.1.1; §5.4).

Both project layouts are read:

- GX 0.x: ``<root>/expectations/**/*.json`` suites (``expectation_suite_name``,
  ``expectations[].expectation_type``) and ``<root>/checkpoints/*.yml`` (``validations[]``
  naming suites, or a top-level ``expectation_suite_name``).
- GX 1.x: ``<root>/expectations/*.json`` suites (``name``, ``expectations[].type``),
  ``<root>/validation_definitions/*`` (``suite.name``) and ``<root>/checkpoints/*`` (JSON naming
  validation definitions). GX 1.x stores those two without a file extension.

A root is a directory holding ``great_expectations.yml``, or one named ``great_expectations`` or
``gx`` (0.16+ already used ``gx/``, so the layout is read from the content, not the directory).

Value-level vs schema-level (§3.1.1): only value-level expectations constrain what a column may
contain; table shape, column existence and types are schema coverage. A suite made only of
row-count / column-existence / table-level checks is trivial (§2.3) and downgraded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Literal, Optional

from scanner.facts.ci import ci_blocking_reasons, step_triggers
from scanner.facts.yamldoc import YMap, as_list
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from .dvc import stage_commands

if TYPE_CHECKING:
    from scanner.facts.ci import Job, Step
    from scanner.facts.python import Call, PyFile

# -- classification of expectations (reused for critical-feature coverage, RUBRIC §3.1.1) ----

# Expectations about the table as a whole, or that a column merely exists. A suite made only of
# these is trivial (RUBRIC §2.3: "suites that only check row count or column existence").
TABLE_LEVEL_EXPECTATIONS: frozenset[str] = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_row_count_to_equal_other_table",
        "expect_table_column_count_to_be_between",
        "expect_table_column_count_to_equal",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
    }
)

# Schema-level: shape and types. Counts toward "schema coverage" only, never toward DM-h.
SCHEMA_LEVEL_EXPECTATIONS: frozenset[str] = TABLE_LEVEL_EXPECTATIONS | frozenset(
    {
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_in_type_list",
    }
)

# Value-level: constraints on the values of a column (nulls, ranges, sets, patterns,
# distributions, uniqueness, cross-column relations). These are what DM-h counts.
VALUE_LEVEL_EXPECTATIONS: frozenset[str] = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_decreasing",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_match_like_pattern_list",
        "expect_column_values_to_not_match_like_pattern_list",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_be_json_parseable",
        "expect_column_values_to_match_json_schema",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_value_z_scores_to_be_less_than",
        "expect_column_min_to_be_between",
        "expect_column_max_to_be_between",
        "expect_column_mean_to_be_between",
        "expect_column_median_to_be_between",
        "expect_column_stdev_to_be_between",
        "expect_column_sum_to_be_between",
        "expect_column_quantile_values_to_be_between",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
        "expect_column_proportion_of_non_null_values_to_be_between",
        "expect_column_most_common_value_to_be_in_set",
        "expect_column_distinct_values_to_be_in_set",
        "expect_column_distinct_values_to_contain_set",
        "expect_column_distinct_values_to_equal_set",
        "expect_column_kl_divergence_to_be_less_than",
        "expect_column_chisquare_test_p_value_to_be_greater_than",
        "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than",
        "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_in_set",
        "expect_column_pair_cramers_phi_value_to_be_less_than",
        "expect_multicolumn_sum_to_equal",
        "expect_multicolumn_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_select_column_values_to_be_unique_within_record",
        "unexpected_rows_expectation",
    }
)

# Custom / contrib expectations follow GX naming: anything else about column values is value-level.
_VALUE_PREFIXES = (
    "expect_column_",
    "expect_multicolumn_",
    "expect_compound_columns_",
    "expect_select_column_",
    "expect_queried_",
)
# Method names specific enough to GX to count even in a file that does not import it.
_GX_METHOD_PREFIXES = ("expect_column_", "expect_table_", "expect_multicolumn_", "expect_compound_columns_")

Level = Literal["value", "schema", "other"]


def expectation_level(name: str) -> Level:
    """``value`` / ``schema`` / ``other`` for an expectation type (snake_case, as stored)."""
    if name in SCHEMA_LEVEL_EXPECTATIONS:
        return "schema"
    if name in VALUE_LEVEL_EXPECTATIONS:
        return "value"
    if name.startswith("expect_table_"):
        return "schema"
    if name.startswith(_VALUE_PREFIXES):
        return "value"
    return "other"


def snake_case(class_name: str) -> str:
    """``ExpectColumnKLDivergenceToBeLessThan`` -> ``expect_column_kl_divergence_to_be_less_than``."""
    step = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", class_name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", step).lower()


# -- attribute models --------------------------------------------------------------------------


class GxSuite(Attributes):
    name: str
    layout: Literal["0.x", "1.x"]
    expectations: int
    value_level: int
    schema_level: int
    columns: list[str]
    value_columns: list[str]
    trivial: bool
    referenced: bool  # named by a checkpoint or validation definition of the same project


class GxCheckpoint(Attributes):
    name: str
    layout: Literal["0.x", "1.x"]
    suites: list[str]
    suites_exist: bool


class GxRun(Attributes):
    where: Literal["ci", "code"]
    detail: str
    job: Optional[str]
    blocking: bool
    via: Literal["cli", "action", "script", "main_guard", "dvc_stage"]
    triggers: list[str]


class GxCodeExpectations(Attributes):
    expectations: int
    value_level: int
    schema_level: int
    columns: list[str]
    value_columns: list[str]
    notebook: bool


# -- JSON citation helper ------------------------------------------------------------------------


def _string_end(text: str, start: int) -> int:
    """Index of the quote closing the JSON string that opens at ``start``."""
    end = start + 1
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return end


def json_value_span(text: str, key: str) -> Optional[tuple[int, int]]:
    """Lines of the top-level entry ``"key": value`` of a JSON object (1-based, inclusive).

    ``json`` keeps no positions, so this walks the text once, tracking strings and nesting."""
    depth, line, i, n = 0, 1, 0, len(text)
    start: Optional[int] = None  # line of the key, once found
    last = 0  # last line holding part of the value
    while i < n:
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            if start is None and depth == 1:
                after = end + 1
                while after < n and text[after] in " \t\r\n":
                    after += 1
                if after < n and text[after] == ":" and text[i + 1 : end] == key:
                    start = last = line
                    line += text.count("\n", end, after)
                    i = after + 1
                    continue
            elif start is not None:
                last = line
            i = end + 1
            continue
        if ch == "\n":
            line += 1
        elif ch in "{[":
            depth += 1
            if start is not None:
                last = line
        elif ch in "}]":
            depth -= 1
            if start is not None and depth == 1:
                return start, line  # the value's own object or array closed
            if start is not None and depth <= 0:
                return start, last  # the enclosing object closed after a scalar value
        elif start is not None and depth == 1 and ch == ",":
            return start, last
        elif start is not None and not ch.isspace():
            last = line
        i += 1
    return None


# -- project layout --------------------------------------------------------------------------------

GX_DIR_NAMES = ("great_expectations", "gx")
AREAS = ("expectations", "checkpoints", "validation_definitions")
_CONFIG_EXTS = (".json", ".yml", ".yaml")


def gx_place(path: str, config_roots: set[str]) -> Optional[tuple[str, str, str]]:
    """(root, area, rest) when ``path`` lies in a GX project's expectations / checkpoints /
    validation_definitions store, else None."""
    parts = path.split("/")
    for index, part in enumerate(parts[:-1]):
        if part not in AREAS:
            continue
        root = "/".join(parts[:index])
        if root in config_roots or (index > 0 and parts[index - 1] in GX_DIR_NAMES):
            return root, part, "/".join(parts[index + 1 :])
    return None


def _is_store_file(rest: str, area: str) -> bool:
    """Store entries: suites are .json; checkpoints and validation definitions are .yml (0.x),
    .json, or extension-less JSON (1.x). Hidden files (``.ge_store_backend_id``) are not."""
    name = posixpath.basename(rest)
    if not name or name.startswith("."):
        return False
    if area == "expectations":
        return name.endswith(".json")
    return name.endswith(_CONFIG_EXTS) or "." not in name


@dataclass
class Suite:
    path: str
    name: str
    layout: Literal["0.x", "1.x"]
    types: list[str]
    columns: set[str] = field(default_factory=set)
    value_columns: set[str] = field(default_factory=set)
    span: tuple[int, int] = (1, 1)


@dataclass
class Project:
    root: str
    suites: dict[str, Suite] = field(default_factory=dict)  # by suite name, for lookups
    suite_files: list[Suite] = field(default_factory=list)  # every suite file, even a duplicate name
    validation_definitions: dict[str, Optional[str]] = field(default_factory=dict)  # name -> suite
    referenced: set[str] = field(default_factory=set)


def _columns_of(kwargs: Any) -> list[str]:
    if not isinstance(kwargs, dict):
        return []
    found = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    for key in ("column_list", "column_set"):
        found += [c for c in as_list(kwargs.get(key)) if isinstance(c, str)]
    return [c for c in found if isinstance(c, str)]


def parse_suite(path: str, doc: Any, text: str, root: str, rest: str) -> Suite | str:
    """A suite from its JSON, or the reason it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations"), list):
        return "not an expectation suite: no `expectations` list"
    items = [e for e in doc["expectations"] if isinstance(e, dict)]
    if "expectation_suite_name" in doc or any("expectation_type" in e for e in items):
        layout: Literal["0.x", "1.x"] = "0.x"
    elif "name" in doc or any("type" in e for e in items):
        layout = "1.x"
    else:
        layout = "0.x" if posixpath.basename(root) == "great_expectations" else "1.x"
    name = doc.get("expectation_suite_name") or doc.get("name")
    if not isinstance(name, str) or not name:
        name = rest[: -len(".json")].replace("/", ".")
    suite = Suite(path=path, name=name, layout=layout, types=[])
    for item in items:
        kind = item.get("expectation_type") or item.get("type")
        kind = kind if isinstance(kind, str) else "unknown"
        suite.types.append(kind)
        columns = _columns_of(item.get("kwargs"))
        suite.columns.update(columns)
        if expectation_level(kind) == "value":
            suite.value_columns.update(columns)
    suite.span = json_value_span(text, "expectations") or (1, max(len(text.splitlines()), 1))
    return suite


def _levels(types: list[str]) -> tuple[int, int]:
    levels = [expectation_level(t) for t in types]
    return levels.count("value"), levels.count("schema")


def trivial_reason(types: list[str]) -> Optional[str]:
    """Why a set of expectations is trivial (RUBRIC §2.3), or None when it is not."""
    if not types:
        return "trivial suite: no expectations"
    if all(t in TABLE_LEVEL_EXPECTATIONS for t in types):
        return "trivial suite: only " + ", ".join(sorted(set(types)))
    return None


# -- probe: files ----------------------------------------------------------------------------------


def _load(ctx: ProbeContext, path: str) -> tuple[Any, Optional[str]]:
    """(document, problem) for a JSON or YAML store entry; extension-less entries are JSON."""
    text = ctx.facts.text(path)
    if text is None:
        return None, ctx.facts.problems.get(path, "could not be read")
    if path.endswith((".yml", ".yaml")) and not text.lstrip().startswith("{"):
        docs = ctx.facts.yaml(path)
        if docs is None:
            return None, ctx.facts.problems.get(path, "could not be parsed")
        return (docs[0] if docs else None), None
    value = ctx.facts.json(path)
    if value is None:
        return None, ctx.facts.problems.get(path, "could not be parsed")
    return value, None


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    config_roots = {posixpath.dirname(p) for p in ctx.paths if posixpath.basename(p) == "great_expectations.yml"}
    projects: dict[str, Project] = {}
    placed: dict[str, list[tuple[str, str, str]]] = {area: [] for area in AREAS}
    for path in ctx.paths:
        where = gx_place(path, config_roots)
        if where and _is_store_file(where[2], where[1]):
            placed[where[1]].append((path, where[0], where[2]))
            projects.setdefault(where[0], Project(root=where[0]))
    for path, root, rest in placed["expectations"]:
        doc, problem = _load(ctx, path)
        suite = parse_suite(path, doc, ctx.facts.text(path) or "", root, rest) if problem is None else problem
        if isinstance(suite, str):
            yield ctx.unknown("gx.suite", suite, path=path)
        else:
            projects[root].suites.setdefault(suite.name, suite)
            projects[root].suite_files.append(suite)
    for path, root, rest in placed["validation_definitions"]:
        doc, problem = _load(ctx, path)
        if problem is not None or not isinstance(doc, dict):
            yield ctx.unknown("gx.checkpoint", f"validation definition: {problem or 'not a mapping'}", path=path)
            continue
        suite = doc.get("suite")
        name = doc.get("name") if isinstance(doc.get("name"), str) else posixpath.basename(rest).rsplit(".", 1)[0]
        suite_name = suite.get("name") if isinstance(suite, dict) else None
        projects[root].validation_definitions[name] = suite_name if isinstance(suite_name, str) else None
        if isinstance(suite_name, str):
            projects[root].referenced.add(suite_name)
    for path, root, rest in placed["checkpoints"]:
        yield from _checkpoint(ctx, path, projects[root], rest)
    for project in projects.values():
        for suite in project.suite_files:
            yield _suite_evidence(ctx, suite, suite.name in project.referenced)
    yield from _runs(ctx)
    yield from _code_expectations(ctx)


def _suite_evidence(ctx: ProbeContext, suite: Suite, referenced: bool) -> Evidence:
    value, schema = _levels(suite.types)
    trivial = trivial_reason(suite.types)
    attrs = GxSuite(
        name=suite.name,
        layout=suite.layout,
        expectations=len(suite.types),
        value_level=value,
        schema_level=schema,
        columns=sorted(suite.columns),
        value_columns=sorted(suite.value_columns),
        trivial=trivial is not None,
        referenced=referenced,
    )
    return ctx.evidence(
        "gx.suite", attrs, path=suite.path, lines=suite.span, subject=suite.name,
        strength=Strength.mention if trivial else Strength.configured, downgrades=[trivial] if trivial else [],
    )


def _checkpoint(ctx: ProbeContext, path: str, project: Project, rest: str) -> Iterator[Evidence]:
    doc, problem = _load(ctx, path)
    if problem is not None or not isinstance(doc, dict):
        yield ctx.unknown("gx.checkpoint", problem or "checkpoint is not a mapping", path=path)
        return
    reasons: list[str] = []
    if "validation_definitions" in doc:
        layout: Literal["0.x", "1.x"] = "1.x"
        suites: list[str] = []
        missing_vds = []
        for ref in as_list(doc.get("validation_definitions")):
            vd_name = ref.get("name") if isinstance(ref, dict) else None
            if not isinstance(vd_name, str) or vd_name not in project.validation_definitions:
                missing_vds.append(str(vd_name))
                continue
            suite_name = project.validation_definitions[vd_name]
            if suite_name:
                suites.append(suite_name)
        if missing_vds:
            reasons.append("validation definition not found: " + ", ".join(sorted(missing_vds)))
        span = json_value_span(ctx.facts.text(path) or "", "validation_definitions")
    else:
        layout = "0.x"
        suites = _suites_0x(doc)
        span = _span_0x(doc)
    suites = sorted(set(suites))
    project.referenced.update(suites)
    missing = [s for s in suites if s not in project.suites]
    if not suites and not reasons:
        reasons.append("checkpoint names no expectation suite")
    if missing:
        reasons.append("suite not found: " + ", ".join(missing))
    name = doc.get("name") if isinstance(doc.get("name"), str) else posixpath.basename(rest).rsplit(".", 1)[0]
    attrs = GxCheckpoint(name=name, layout=layout, suites=suites, suites_exist=not reasons)
    yield ctx.evidence(
        "gx.checkpoint", attrs, path=path, lines=span or (1, len(ctx.facts.lines(path) or [""])), subject=name,
        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons,
    )


def _suites_0x(doc: dict) -> list[str]:
    """Suites a 0.x checkpoint validates: per validation, falling back to the top-level suite;
    LegacyCheckpoint ``batches[].expectation_suite_names`` too."""
    top = doc.get("expectation_suite_name")
    suites = []
    validations = [v for v in as_list(doc.get("validations")) if isinstance(v, dict)]
    for validation in validations:
        suites.append(validation.get("expectation_suite_name") or top)
    if not validations:
        suites.append(top)
    for batch in as_list(doc.get("batches")):
        if isinstance(batch, dict):
            suites += as_list(batch.get("expectation_suite_names"))
    return [s for s in suites if isinstance(s, str) and s]


def _span_0x(doc: dict) -> Optional[tuple[int, int]]:
    if not isinstance(doc, YMap):
        return None
    for key in ("validations", "batches", "expectation_suite_name"):
        if doc.get(key):
            return doc.key_span(key)
    return doc.span


# -- probe: where validation runs ------------------------------------------------------------------

_GX_CLI = lazy(
    r"(?<![\w./-])(?:great_expectations|gx)(?:\s+--?[\w-]+)*\s+checkpoint\s+run\s+(?P<name>[^\s;&|]+)"
)
_GX_ACTION = "great-expectations/great_expectations_action"
_RUN_ATTRS = frozenset({"run_checkpoint", "run_validation_operator"})
_CHECKS_RESULT = lazy(r"\.success\b|\[\s*[\"']success[\"']\s*\]")
_PY_SCRIPT = lazy(r"(?<![\w./-])python(?:3(?:\.\d+)?)?\s+(?:-[A-Za-z]+\s+)*(?P<script>[\w./-]+\.py)(?![\w.])")
_PY_MODULE = lazy(r"(?<![\w./-])python(?:3(?:\.\d+)?)?\s+(?:-[A-Za-z]+\s+)*-m\s+(?P<module>[\w.]+)")
NOT_CHECKED = "validation result never checked (no `.success`): a failing validation does not fail the run"


def is_run_call(pyfile: "PyFile", call: "Call") -> bool:
    """A call that runs a checkpoint or a validation (0.x and 1.x APIs)."""
    if call.attr in _RUN_ATTRS:
        return True
    if not pyfile.imports_module("great_expectations"):
        return False
    prefix = call.name.rsplit(".", 1)[0].lower() if "." in call.name else ""
    if call.attr == "run":
        return "checkpoint" in prefix or "validation" in prefix
    if call.attr == "validate":
        return "validator" in prefix or "batch" in prefix or prefix.startswith("great_expectations")
    return False


def script_refs(command: str, base: str = "") -> list[str]:
    """Python files a shell command runs (``python x.py``) and module paths (``python -m a.b``),
    relative to ``base``; resolution against the tree happens later."""
    refs = [posixpath.normpath(posixpath.join(base, m.group("script"))) for m in _PY_SCRIPT.finditer(command)]
    for match in _PY_MODULE.finditer(command):
        module = match.group("module").replace(".", "/")
        refs += [f"{module}.py", f"{module}/__main__.py"]
    return refs


def resolve(ref: str, modules: set[str], by_suffix: dict[str, list[str]]) -> Optional[str]:
    """The tree path of a script reference; a unique suffix match covers `cd src && python x.py`
    and src layouts."""
    if ref in modules:
        return ref
    candidates = by_suffix.get(posixpath.basename(ref), [])
    matches = [m for m in candidates if m.endswith("/" + ref.lstrip("./"))]
    return matches[0] if len(matches) == 1 else None


def call_detail(call: "Call") -> str:
    """``context.run_checkpoint(taxi_checkpoint)``: the call and the checkpoint it names, if literal."""
    named = call.kwarg("checkpoint_name") or call.kwarg("name")
    if not isinstance(named, str) and call.literal_args and isinstance(call.literal_args[0], str):
        named = call.literal_args[0]
    return f"{call.name}({named})" if isinstance(named, str) else call.name


@dataclass
class RunFile:
    pyfile: "PyFile"
    calls: list["Call"]
    checks_result: bool


def _run_files(ctx: ProbeContext) -> dict[str, RunFile]:
    found: dict[str, RunFile] = {}
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        if pyfile.notebook:
            continue  # a notebook is run by hand; it is not wired into anything
        calls = [c for c in pyfile.calls if is_run_call(pyfile, c)]
        if calls:
            text = ctx.facts.text(path) or ""
            found[path] = RunFile(pyfile, calls, bool(_CHECKS_RESULT.search(text)))
    return found


def _ci_reasons(job: "Job", step: "Step", line: str) -> tuple[list[str], list[str]]:
    """(reasons a failure cannot fail CI, reasons the run is weak although blocking)."""
    blocking = ci_blocking_reasons(job, step, line)
    weak = []
    types = set(step_triggers(job, step))
    if types and types <= {"manual"}:
        weak.append("runs only when triggered by hand (RUBRIC §2.3)")
    return blocking, weak


def _line_in_step(ctx: ProbeContext, path: str, step: "Step", needle: re.Pattern[str]) -> tuple[int, int]:
    lines = ctx.facts.lines(path) or []
    for number in range(max(step.start_line, 1), min(step.end_line, len(lines)) + 1):
        text = lines[number - 1]
        if needle.search(text) and not text.lstrip().startswith("#"):
            return number, number
    return step.start_line, step.end_line


def _runs(ctx: ProbeContext) -> Iterator[Evidence]:
    run_files = _run_files(ctx)
    modules = set(ctx.facts.python.modules)
    by_suffix: dict[str, list[str]] = {}
    for module in sorted(modules):
        by_suffix.setdefault(posixpath.basename(module), []).append(module)
    yield from _ci_runs(ctx, run_files, modules, by_suffix)
    scripts = [posixpath.basename(p) for p in run_files]
    for path, reason in sorted(ctx.facts.ci.unreadable.items()):
        text = ctx.facts.text(path) or ""
        if _GX_CLI.search(text) or _GX_ACTION in text or any(name in text for name in scripts):
            yield ctx.unknown("gx.run", f"CI file not readable: {reason}", path=path)
    dvc_scripts: dict[str, str] = {}
    for path in ctx.paths:
        if posixpath.basename(path) != "dvc.yaml":
            continue
        for stage, command in stage_commands(ctx.facts.yaml_doc(path), posixpath.dirname(path)):
            if _GX_CLI.search(command):
                yield _dvc_cli_run(ctx, path, command)
                continue
            for ref in script_refs(command, stage.wdir):
                target = resolve(ref, modules, by_suffix)
                if target:
                    dvc_scripts.setdefault(target, stage.name)
    for path, run in run_files.items():
        via = "dvc_stage" if path in dvc_scripts else "main_guard" if run.pyfile.has_main_guard else None
        if via is None:
            continue
        call = run.calls[0]
        reasons = [] if run.checks_result else [NOT_CHECKED]
        attrs = GxRun(
            where="code", detail=call_detail(call), job=None, blocking=run.checks_result, via=via, triggers=[]
        )
        yield ctx.evidence(
            "gx.run", attrs, path=path, lines=(call.line, call.end_line), subject=path,
            strength=Strength.mention if reasons else Strength.configured, downgrades=reasons,
        )


def _dvc_cli_run(ctx: ProbeContext, path: str, command: str) -> Evidence:
    """A dvc.yaml stage whose command is the GX CLI: the CLI exits non-zero on failure, so the
    stage (and `dvc repro`) fails with it."""
    line = ctx.facts.find_line(path, command.strip().splitlines()[0]) or ctx.facts.find_line(path, "checkpoint") or 1
    attrs = GxRun(where="code", detail=command[:200], job=None, blocking=True, via="dvc_stage", triggers=[])
    return ctx.evidence("gx.run", attrs, path=path, lines=(line, line), subject=command[:200])


def _ci_runs(
    ctx: ProbeContext, run_files: dict[str, RunFile], modules: set[str], by_suffix: dict[str, list[str]]
) -> Iterator[Evidence]:
    for _pipeline, job, step in ctx.facts.ci.steps():
        if step.uses.startswith(_GX_ACTION):
            checkpoints = step.with_.get("CHECKPOINTS") or step.with_.get("checkpoints") or ""
            detail = f"{step.uses} {checkpoints}".strip()
            blocking, weak = _ci_reasons(job, step, "")
            yield _ci_run(ctx, job, step, (step.start_line, step.end_line), detail, "action", blocking, weak)
        for line in step.commands():
            if _GX_CLI.search(line):
                blocking, weak = _ci_reasons(job, step, line)
                lines = _line_in_step(ctx, step.where(job), step, re.compile(r"checkpoint\s+run"))
                yield _ci_run(ctx, job, step, lines, line, "cli", blocking, weak)
                continue
            for ref in script_refs(line, step.workdir):
                target = resolve(ref, modules, by_suffix)
                if target not in run_files:
                    continue
                blocking, weak = _ci_reasons(job, step, line)
                if not run_files[target].checks_result:
                    blocking.append(NOT_CHECKED)
                needle = re.compile(re.escape(posixpath.basename(target)[: -len(".py")]))
                lines = _line_in_step(ctx, step.where(job), step, needle)
                yield _ci_run(ctx, job, step, lines, line, "script", blocking, weak)
                break


def _ci_run(
    ctx: ProbeContext, job: "Job", step: "Step", lines: tuple[int, int], detail: str, via: str,
    blocking: list[str], weak: list[str],
) -> Evidence:
    attrs = GxRun(
        where="ci", detail=detail[:200], job=job.id, blocking=not blocking, via=via,  # type: ignore[arg-type]
        triggers=step_triggers(job, step),
    )
    reasons = blocking + weak
    return ctx.evidence(
        "gx.run", attrs, path=step.where(job), lines=lines, subject=f"{job.id}:{detail[:200]}",
        strength=Strength.mention if reasons else Strength.configured, downgrades=reasons,
    )


# -- probe: expectations written in code -------------------------------------------------------------


def code_expectation(call: "Call", gx_file: bool) -> Optional[tuple[str, list[str]]]:
    """(expectation type, columns) for a call that declares an expectation, else None.

    ``validator.expect_column_values_to_not_be_null("age")`` (0.x), ``gxe.ExpectColumnValuesToBe
    Between(column="x")`` (1.x) and ``ExpectationConfiguration(expectation_type=...)`` (0.x)."""
    attr = call.attr
    positional = [a for a in call.literal_args if isinstance(a, str)]
    if attr.startswith("expect_"):
        if not gx_file and not attr.startswith(_GX_METHOD_PREFIXES):
            return None
        kind = attr
        columns = [call.kwarg("column"), call.kwarg("column_A"), call.kwarg("column_B")]
        if call.literal_args and isinstance(call.literal_args[0], str):
            columns += positional[:2] if attr.startswith("expect_column_pair_") else positional[:1]
    elif re.match(r"Expect[A-Z]", attr) and (gx_file or call.name.startswith("great_expectations.")):
        kind = snake_case(attr)
        columns = [call.kwarg("column"), call.kwarg("column_A"), call.kwarg("column_B")]
    elif attr == "ExpectationConfiguration" and gx_file:
        kind = call.kwarg("expectation_type") or call.kwarg("type")
        if not isinstance(kind, str):
            return None
        columns = []
    else:
        return None
    return kind, sorted({c for c in columns if isinstance(c, str)})


def _code_expectations(ctx: ProbeContext) -> Iterator[Evidence]:
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        gx_file = pyfile.imports_module("great_expectations")
        found = [(call, code_expectation(call, gx_file)) for call in pyfile.calls]
        found = [(call, hit) for call, hit in found if hit]
        if not found:
            continue
        types = [hit[0] for _, hit in found]
        columns = {c for _, hit in found for c in hit[1]}
        value_columns = {c for _, hit in found if expectation_level(hit[0]) == "value" for c in hit[1]}
        value, schema = _levels(types)
        attrs = GxCodeExpectations(
            expectations=len(types), value_level=value, schema_level=schema, columns=sorted(columns),
            value_columns=sorted(value_columns), notebook=pyfile.notebook,
        )
        reasons = ["notebook only"] if pyfile.notebook else []
        trivial = trivial_reason(types)
        if trivial:
            reasons.append(trivial.replace("trivial suite", "trivial expectations"))
        first = min(call.line for call, _ in found)
        last = max(call.end_line for call, _ in found)
        yield ctx.evidence(
            "gx.code_expectations", attrs, path=path, lines=(first, last), subject=path,
            strength=Strength.mention if reasons else Strength.configured, downgrades=reasons,
        )


PROBE = Probe(
    id="great_expectations",
    title="Great Expectations suites, checkpoints and validation runs",
    patterns=(
        "**/great_expectations.yml",
        "**/expectations/**",
        "**/checkpoints/**",
        "**/validation_definitions/**",
        "**/dvc.yaml",
    ),
    kinds=(
        Kind("gx.suite", GxSuite, "A GX expectation suite with its value-level / schema-level split"),
        Kind("gx.checkpoint", GxCheckpoint, "A GX checkpoint and whether the suites it names exist"),
        Kind("gx.run", GxRun, "A checkpoint or validation actually invoked from CI, a pipeline stage or a script"),
        Kind("gx.code_expectations", GxCodeExpectations, "Expectations declared in Python code (expect_* calls)"),
    ),
    collect=collect,
    python_tokens=(
        "great_expectations",
        "expect_column",
        "expect_table",
        "expect_multicolumn",
        "expect_compound",
        "run_checkpoint",
    ),
)
