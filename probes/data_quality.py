"""Data validation beyond Great Expectations: suites, where they run, and freshness checks
(RUBRIC §3.1 DM-f, DM-g, DM-h, DM-o; §5.4). GX itself is probes/great_expectations.py.

Suites (``data.validation_suite``), one per validated table or schema object:

- pandera ``DataFrameSchema({...: Column(...)})`` and ``DataFrameModel``/``SchemaModel`` classes,
  read with ``ast`` from the files that import pandera (the shared index keeps calls, not class
  bodies or dict keys);
- Soda ``checks for <dataset>:`` YAML;
- TFDV ``schema.pbtxt`` (text protobuf ``feature { ... }`` blocks);
- PyDeequ ``Check(...).isComplete("x")...`` chains;
- dbt ``schema.yml`` models / sources with column ``tests:``/``data_tests:``/``constraints:``;
- Deepchecks suites with conditions;
- data contracts: Data Contract Specification ``datacontract.yaml`` and ODCS ``kind: DataContract``;
- AWS Glue Data Quality ``Rules = [...]`` (DQDL) in ``.dqdl`` files or IaC.

Value-level vs schema-level follows RUBRIC §3.1.1: a constraint on what a column may contain
(nulls, ranges, sets, patterns, uniqueness) is value-level; types, column existence and row counts
are not. A suite with no value-level check is trivial (§2.3) and downgraded to ``mention``.

Runs (``data.validation_run``): ``soda scan``, ``dbt test``/``dbt build``, ``datacontract test``
in CI steps or DVC stages, and a pandera ``<schema>.validate(df)`` in a script that CI or a DVC
stage runs. Non-blocking or disabled steps, manual-only triggers and runs with no suite of that
tool in the repository are downgraded.

Freshness (``data.freshness``): dbt source ``freshness:`` and Soda ``freshness(col) < ...``.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Literal, Optional

from scanner.facts.ci import ci_blocking_reasons, step_triggers
from scanner.facts.needles import Needles
from scanner.facts.python import imports_of
from scanner.facts.yamldoc import YList, YMap, as_list
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

from .dvc import stage_commands
from .great_expectations import expectation_level, resolve, script_refs

if TYPE_CHECKING:
    from scanner.facts.ci import Job, Step
    from scanner.facts.python import PyFile

Tool = Literal["pandera", "soda", "tfdv", "deequ", "dbt", "deepchecks", "datacontract", "glue_dqdl"]
Level = Literal["value", "schema", "other"]


# -- attribute models --------------------------------------------------------------------------


class ValidationSuite(Attributes):
    tool: Tool
    name: str
    checks: int
    value_level: int
    columns: list[str]
    value_columns: list[str]
    trivial: bool


class ValidationRun(Attributes):
    tool: Literal["soda", "dbt", "datacontract", "pandera"]
    where: Literal["ci", "pipeline"]
    command: str
    job: str
    blocking: bool
    triggers: list[str]


class Freshness(Attributes):
    tool: Literal["dbt", "soda"]
    tables: int
    run_in_ci: bool  # a blocking CI step runs the check (`dbt source freshness`, `soda scan <this file>`)


# -- the suites, as other probes (coverage) read them ------------------------------------------------


@dataclass
class Suite:
    """One validation suite: what it constrains, where it stands."""

    tool: Tool
    name: str
    path: str
    span: tuple[int, int]
    levels: list[Level] = field(default_factory=list)  # one per check
    columns: set[str] = field(default_factory=set)
    value_columns: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)  # downgrades beyond triviality
    notebook: bool = False

    def add(self, level: Level, columns: list[str]) -> None:
        self.levels.append(level)
        self.columns.update(columns)
        if level == "value":
            self.value_columns.update(columns)

    @property
    def value_level(self) -> int:
        return self.levels.count("value")


@dataclass
class FreshnessDecl:
    tool: Literal["dbt", "soda"]
    path: str
    span: tuple[int, int]
    tables: int


@dataclass
class Found:
    suites: list[Suite] = field(default_factory=list)
    freshness: list[FreshnessDecl] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


YAML_NEEDLES = Needles(["checks for ", "tests:", "data_tests:", "constraints:", "freshness:",
                        "dataContractSpecification", "DataContract"])
# Text that makes a YAML file that fails to parse worth an `unknown` (it claims to be a suite).
_CLAIMS = lazy(r"^checks for |^dataContractSpecification:|^kind:\s*DataContract\b", re.MULTILINE)
_DBT_CLAIM = lazy(r"^(?:models|sources|seeds|snapshots):", re.MULTILINE)
_TESTS_KEY = lazy(r"^\s*-?\s*(?:data_)?tests:", re.MULTILINE)


def find_suites(ctx: ProbeContext) -> Found:
    """Every non-GX suite in the tree (memoised per scan; probes/coverage.py reads it too)."""
    return ctx.memo("data_quality.suites", lambda: _find(ctx))


def _find(ctx: ProbeContext) -> Found:
    found = Found()
    yaml_paths = [p for p in ctx.paths if p.endswith((".yml", ".yaml")) and posixpath.basename(p) != "dvc.yaml"]
    for path, text in ctx.facts.grep(yaml_paths, YAML_NEEDLES):
        _yaml_file(ctx, path, text, found)
    for path in ctx.paths:
        if path.endswith(".pbtxt"):
            _tfdv_file(ctx, path, found)
        elif path.endswith((".dqdl", ".tf")):
            _dqdl_file(ctx, path, found)
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        if pyfile.imports_module("pandera") and not pyfile.notebook:
            found.suites += _pandera_file(ctx, path)
        if pyfile.imports_module("pydeequ"):
            suite = _deequ_file(pyfile)
            if suite:
                found.suites.append(suite)
        if pyfile.imports_module("deepchecks"):
            suite = _deepchecks_file(pyfile)
            if suite:
                found.suites.append(suite)
    return found


def _yaml_file(ctx: ProbeContext, path: str, text: str, found: Found) -> None:
    docs = ctx.facts.yaml(path)
    if docs is None:
        if _CLAIMS.search(text) or (_DBT_CLAIM.search(text) and _TESTS_KEY.search(text)):
            found.unknown.append((path, ctx.facts.problems.get(path, "could not be parsed")))
        return
    for doc in docs:
        if not isinstance(doc, YMap):
            continue
        if "dataContractSpecification" in doc or (doc.get("kind") == "DataContract" and "apiVersion" in doc):
            suite = _contract(path, doc)
            if suite:
                found.suites.append(suite)
            continue
        if any(isinstance(k, str) and k.startswith("checks for ") for k in doc):
            _soda_doc(path, doc, found)
            continue
        if any(isinstance(doc.get(k), list) for k in _DBT_SECTIONS):
            _dbt_doc(path, doc, found)


# -- Soda ---------------------------------------------------------------------------------------

_SODA_COLUMN_METRIC = lazy(
    r"^\s*(?:anomaly (?:detection|score) for\s+|change (?:avg |min |max )?(?:last \d+ |over \d+ )?for\s+)?"
    r"(?P<metric>missing_count|missing_percent|invalid_count|invalid_percent|duplicate_count|duplicate_percent"
    r"|min|max|avg|sum|stddev|stddev_pop|stddev_samp|variance|var_pop|var_samp|percentile|avg_length"
    r"|min_length|max_length|distribution_difference)\s*\((?P<cols>[^)]*)\)"
)
_SODA_REFERENCE = lazy(r"^\s*values in\s*\((?P<cols>[^)]*)\)\s+must (?:not )?exist in\b")
_SODA_FRESHNESS = lazy(r"^\s*freshness\s*\(")
_SODA_SCHEMA = lazy(r"^\s*(?:(?:anomaly (?:detection|score) for|change(?: [\w ]+)? for)\s+)?(?:row_count|schema)\b")
_SODA_FAILED = lazy(r"^\s*failed rows\b|^\s*\w+\s*(?:[<>=!]=?|between)")  # user-defined metric / failed rows


def soda_check(text: str) -> tuple[Level | Literal["freshness"], list[str]]:
    """Level and columns of one SodaCL check line (``missing_count(email) = 0``)."""
    match = _SODA_COLUMN_METRIC.match(text)
    if match:
        metric = match.group("metric")
        cols = [c.strip().strip("\"'") for c in match.group("cols").split(",") if c.strip()]
        if metric == "percentile":
            cols = cols[:1]
        return "value", cols
    match = _SODA_REFERENCE.match(text)
    if match:
        return "value", [c.strip() for c in match.group("cols").split(",") if c.strip()]
    if _SODA_FRESHNESS.match(text):
        return "freshness", []
    if _SODA_SCHEMA.match(text):
        return "schema", []
    if _SODA_FAILED.match(text):
        return "value", []
    return "other", []


def _soda_doc(path: str, doc: YMap, found: Found) -> None:
    for key, checks in doc.items():
        if not (isinstance(key, str) and key.startswith("checks for ")):
            continue
        dataset = key[len("checks for "):].strip().split()[0] if key[len("checks for "):].strip() else "?"
        suite = Suite(tool="soda", name=dataset, path=path, span=doc.key_span(key))
        fresh = 0
        for item in as_list(checks):
            text = next(iter(item), None) if isinstance(item, dict) else item
            if not isinstance(text, str):
                continue
            level, cols = soda_check(text)
            if level == "freshness":
                fresh += 1
                suite.add("other", [])
                continue
            if text.strip().startswith("schema") and isinstance(item, dict):
                cols = _soda_schema_columns(item.get(text))
            suite.add(level, cols)
        found.suites.append(suite)
        if fresh:
            found.freshness.append(FreshnessDecl("soda", path, doc.key_span(key), 1))


def _soda_schema_columns(spec: Any) -> list[str]:
    """Columns a Soda ``schema`` check names (``when required column missing: [a, b]``)."""
    out: list[str] = []
    for outcome in ("fail", "warn"):
        block = spec.get(outcome) if isinstance(spec, dict) else None
        if not isinstance(block, dict):
            continue
        for value in block.values():
            if isinstance(value, list) or isinstance(value, dict):
                out += [c for c in value if isinstance(c, str)]
    return out


# -- dbt ---------------------------------------------------------------------------------------

_DBT_SECTIONS = ("models", "sources", "seeds", "snapshots")
_DBT_SCHEMA_TESTS = lazy(
    r"(?:^|\.)(?:expect_column_to_exist|expect_column_values_to_be_of_type|expect_column_values_to_be_in_type_list"
    r"|expect_table_\w+|equal_rowcount|fewer_rows_than|expect_row_values_to_have_recent_data)$"
)
_WARN = "warn"


def dbt_test(entry: Any) -> tuple[Optional[str], dict]:
    """(test name, arguments) of one ``tests:`` entry (a string or ``{name: args}``)."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and entry:
        if isinstance(entry.get("test_name"), str):
            return entry["test_name"], entry
        name = next(iter(entry))
        args = entry[name]
        return (name if isinstance(name, str) else None), (args if isinstance(args, dict) else {})
    return None, {}


def _dbt_level(name: str) -> Level:
    if _DBT_SCHEMA_TESTS.search(name):
        return "schema"
    if name.startswith("dbt_expectations."):
        level = expectation_level(name.split(".", 1)[1])
        return "value" if level == "other" else level
    return "value"


def _severity_warn(args: dict) -> bool:
    config = args.get("config")
    severity = config.get("severity") if isinstance(config, dict) else args.get("severity")
    return isinstance(severity, str) and severity.lower() == _WARN


def _dbt_doc(path: str, doc: YMap, found: Found) -> None:
    for section in _DBT_SECTIONS:
        entries = doc.get(section)
        if not isinstance(entries, YList):
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            if section == "sources":
                _dbt_source(path, entry, entries.item_span(index), found)
                continue
            suite = _dbt_entity(path, entry["name"], entry, entries.item_span(index))
            if suite:
                found.suites.append(suite)


def _dbt_entity(path: str, name: str, entry: dict, span: tuple[int, int]) -> Optional[Suite]:
    """A model / seed / snapshot / source table with at least one test, else None."""
    suite = Suite(tool="dbt", name=name, path=path, span=span)
    warn = total = 0
    for key in ("tests", "data_tests"):
        for test in as_list(entry.get(key)):
            test_name, args = dbt_test(test)
            if not test_name:
                continue
            cols = [c for k in ("combination_of_columns", "column_list") for c in as_list(args.get(k)) if isinstance(c, str)]
            level = _dbt_level(test_name)
            suite.add(level, cols)
            total += level == "value"
            warn += level == "value" and _severity_warn(args)
    for column in as_list(entry.get("columns")):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            continue
        col = column["name"]
        for key in ("tests", "data_tests"):
            for test in as_list(column.get(key)):
                test_name, args = dbt_test(test)
                if test_name:
                    level = _dbt_level(test_name)
                    suite.add(level, [col])
                    total += level == "value"
                    warn += level == "value" and _severity_warn(args)
        for constraint in as_list(column.get("constraints")):
            kind = constraint.get("type") if isinstance(constraint, dict) else None
            if isinstance(kind, str):
                level = "value" if kind in ("not_null", "unique", "primary_key", "check", "foreign_key") else "other"
                suite.add(level, [col])  # type: ignore[arg-type]
                total += level == "value"
    if not suite.levels:
        return None
    if total and warn == total:
        suite.reasons.append("every value-level test is `severity: warn`: none can fail the run")
    return suite


def _dbt_source(path: str, source: dict, span: tuple[int, int], found: Found) -> None:
    source_fresh = _freshness_of(source)
    fresh_tables = 0
    tables = source.get("tables")
    for index, table in enumerate(as_list(tables)):
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            continue
        table_span = tables.item_span(index) if isinstance(tables, YList) else span
        suite = _dbt_entity(path, f"{source['name']}.{table['name']}", table, table_span)
        if suite:
            found.suites.append(suite)
        own = _freshness_of(table)
        if own is True or (own is None and source_fresh):
            fresh_tables += 1
    if fresh_tables:
        found.freshness.append(FreshnessDecl("dbt", path, span, fresh_tables))


def _freshness_of(entry: dict) -> Optional[bool]:
    """True: a freshness rule; False: ``freshness: null`` turns it off; None: not said here."""
    config = entry.get("config")
    for holder in (entry, config if isinstance(config, dict) else {}):
        if "freshness" in holder:
            value = holder["freshness"]
            return isinstance(value, dict) and bool(value.get("warn_after") or value.get("error_after"))
    return None


# -- data contracts -------------------------------------------------------------------------------

_FIELD_VALUE_KEYS = frozenset({
    "required", "unique", "primaryKey", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "enum", "format", "quality",
})


def _set(value: Any) -> bool:
    """A constraint value that says something (``minimum: 0`` does; ``required: false`` does not)."""
    return not (value is None or value is False or (isinstance(value, (str, list, dict)) and not value))


def _field_constraints(spec: dict) -> bool:
    """Whether a contract field constrains its values (not only a type)."""
    if any(_set(spec.get(key)) for key in _FIELD_VALUE_KEYS):
        return True
    options = spec.get("logicalTypeOptions")
    if isinstance(options, dict) and any(_set(v) for v in options.values()):
        return True
    return spec.get("isNullable") is False


def _contract(path: str, doc: YMap) -> Optional[Suite]:
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    name = doc.get("id") or doc.get("name") or info.get("title")
    name = name if isinstance(name, str) else posixpath.basename(path)
    key = "models" if "dataContractSpecification" in doc else "schema"
    suite = Suite(tool="datacontract", name=name, path=path, span=doc.key_span(key) if key in doc else doc.span)
    if key == "models" and isinstance(doc.get("models"), dict):
        for model in doc["models"].values():
            if not isinstance(model, dict):
                continue
            for col, spec in (model.get("fields") or {}).items() if isinstance(model.get("fields"), dict) else []:
                if isinstance(spec, dict):
                    suite.add("value" if _field_constraints(spec) else "schema", [str(col)])
            _contract_quality(model.get("quality"), suite)
        _contract_quality(doc.get("quality"), suite)
    elif key == "schema":
        for table in as_list(doc.get("schema")):
            if not isinstance(table, dict):
                continue
            for prop in as_list(table.get("properties")):
                if isinstance(prop, dict) and isinstance(prop.get("name"), str):
                    suite.add("value" if _field_constraints(prop) else "schema", [prop["name"]])
            _contract_quality(table.get("quality"), suite)
    if not suite.levels:
        return None
    return suite


def _contract_quality(quality: Any, suite: Suite) -> None:
    """Table-level quality rules: SodaCL specifications read as Soda checks, others value-level."""
    for rule in as_list(quality):
        if not isinstance(rule, dict):
            continue
        spec = rule.get("specification")
        if isinstance(spec, dict) and any(isinstance(k, str) and k.startswith("checks for ") for k in spec):
            for key, checks in spec.items():
                for item in as_list(checks) if isinstance(key, str) and key.startswith("checks for ") else []:
                    text = next(iter(item), None) if isinstance(item, dict) else item
                    if isinstance(text, str):
                        level, cols = soda_check(text)
                        suite.add("other" if level == "freshness" else level, cols)
            continue
        suite.add("schema" if str(rule.get("rule") or rule.get("metric") or "").lower() in ("rowcount", "row_count") else "value", [])


# -- TFDV schema.pbtxt ---------------------------------------------------------------------------

_PB_TOKEN = lazy(r"""\s*(?:(\#[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([{}<>:\[\],;])|([^\s{}<>:\[\],;"'\#]+))""")
_TFDV_VALUE = frozenset({
    "int_domain", "float_domain", "string_domain", "bool_domain", "struct_domain", "image_domain", "mid_domain",
    "url_domain", "time_domain", "time_of_day_domain", "natural_language_domain", "domain",
    "distribution_constraints", "skew_comparator", "drift_comparator", "unique_constraints",
})


@dataclass
class PbNode:
    name: str
    line: int
    end_line: int
    value: Optional[str] = None
    children: list["PbNode"] = field(default_factory=list)

    def child(self, name: str) -> Optional["PbNode"]:
        return next((c for c in self.children if c.name == name), None)


def parse_pbtxt(text: str) -> PbNode:
    """A protobuf text-format document as a tree; raises ValueError when it is unbalanced."""
    root = PbNode("", 1, 1)
    stack = [root]
    line, pos = 1, 0
    pending: Optional[str] = None  # the field name waiting for its value
    in_list = False
    while pos < len(text):
        match = _PB_TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip():
                raise ValueError(f"unexpected text at line {line}")
            break
        start = match.start(match.lastindex or 0)
        line += text.count("\n", pos, start)
        tok_line = line
        line += text.count("\n", start, match.end())
        pos = match.end()
        comment, string, punct, word = match.groups()
        if comment or punct in (":", ",", ";"):
            continue
        if punct in ("{", "<"):
            if pending is None:
                raise ValueError(f"message without a field name at line {tok_line}")
            node = PbNode(pending, tok_line, tok_line)
            stack[-1].children.append(node)
            stack.append(node)
            pending = None
        elif punct in ("}", ">"):
            if len(stack) == 1:
                raise ValueError(f"unbalanced `{punct}` at line {tok_line}")
            stack.pop().end_line = tok_line
            pending = None
        elif punct == "[":
            in_list = True
        elif punct == "]":
            in_list, pending = False, None
        elif pending is None:
            pending = word or string
        else:
            value = string[1:-1] if string else word
            stack[-1].children.append(PbNode(pending, tok_line, tok_line, value=value))
            if not in_list:
                pending = None
    if len(stack) != 1:
        raise ValueError("unbalanced braces: a message is never closed")
    return root


def _tfdv_file(ctx: ProbeContext, path: str, found: Found) -> None:
    text = ctx.facts.text(path)
    if text is None:
        found.unknown.append((path, ctx.facts.problems.get(path, "could not be read")))
        return
    if not re.search(r"^\s*feature\s*[{<]", text, re.MULTILINE):
        return  # a Triton config.pbtxt or another proto, not a TFDV schema
    try:
        root = parse_pbtxt(text)
    except ValueError as exc:
        found.unknown.append((path, f"malformed text protobuf: {exc}"))
        return
    features = [n for n in root.children if n.name == "feature"]
    if not features:
        return
    name = posixpath.basename(posixpath.dirname(path)) or posixpath.basename(path)
    suite = Suite(tool="tfdv", name=name, path=path, span=(features[0].line, features[-1].end_line))
    for feature in features:
        fname = feature.child("name")
        col = [fname.value] if fname and fname.value else []
        value = False
        for child in feature.children:
            if child.name in _TFDV_VALUE:
                suite.add("value", col)
                value = True
            elif child.name == "presence":
                fraction = child.child("min_fraction")
                try:
                    strict = fraction is not None and float(fraction.value or 0) > 0
                except ValueError:
                    strict = False
                suite.add("value" if strict else "schema", col)
                value = value or strict
        if not value:
            suite.add("schema", col)
    found.suites.append(suite)


# -- AWS Glue Data Quality (DQDL) --------------------------------------------------------------------

_DQDL_BLOCK = lazy(r"(?<![\w.])Rules\s*=\s*\[")
_DQDL_RULE = lazy(r'^\s*(?P<rule>[A-Z][A-Za-z]+)\s*(?P<cols>(?:"[^"]*"\s*)*)')
_DQDL_SCHEMA = frozenset({"RowCount", "ColumnCount", "ColumnExists", "ColumnDataType", "SchemaMatch",
                          "RowCountMatch", "ColumnNamesMatchPattern", "DataFreshness", "DetectAnomalies"})


def _dqdl_rules(text: str, start: int) -> tuple[list[str], int]:
    """The top-level rules of a ``Rules = [ ... ]`` block opening at ``start``, and its end."""
    depth, quote, rules, current, i = 0, "", [], [], start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[(":
            depth += 1
            if depth == 1 and ch == "[":
                i += 1
                continue
        elif ch in "])":
            depth -= 1
            if depth == 0:
                rules.append("".join(current))
                return [r.strip() for r in rules if r.strip()], i
        elif ch == "," and depth == 1:
            rules.append("".join(current))
            current = []
            i += 1
            continue
        if depth >= 1:
            current.append(ch)
        i += 1
    return [], -1


def _dqdl_file(ctx: ProbeContext, path: str, found: Found) -> None:
    text = ctx.facts.text(path)
    if text is None:
        return
    for match in _DQDL_BLOCK.finditer(text):
        rules, end = _dqdl_rules(text, match.end() - 1)
        if end < 0:
            found.unknown.append((path, "DQDL `Rules = [` block is never closed"))
            continue
        start_line = text.count("\n", 0, match.start()) + 1
        suite = Suite(tool="glue_dqdl", name=posixpath.basename(path), path=path,
                      span=(start_line, text.count("\n", 0, end) + 1))
        for rule in rules:
            parsed = _DQDL_RULE.match(rule.replace('\\"', '"'))
            if not parsed:
                continue
            name = parsed.group("rule")
            cols = re.findall(r'"([^"]*)"', parsed.group("cols"))
            suite.add("schema" if name in _DQDL_SCHEMA else "value", cols)
        if suite.levels:
            found.suites.append(suite)


# -- pandera (ast) ----------------------------------------------------------------------------------

_PANDERA_FIELD_CHECKS = frozenset({
    "eq", "ne", "gt", "ge", "lt", "le", "in_range", "isin", "notin", "str_contains", "str_endswith",
    "str_length", "str_matches", "str_startswith", "unique_values_eq",
})


def _tail(node: ast.AST) -> str:
    """Last name of a call target (``pa.Column`` -> ``Column``)."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _kw(call: ast.Call, name: str) -> Optional[ast.AST]:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_const(node: Optional[ast.AST], value: Any) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _has_checks(node: Optional[ast.AST]) -> bool:
    if node is None or _is_const(node, None):
        return False
    if isinstance(node, (ast.List, ast.Tuple)):
        return bool(node.elts)
    return True


def _column_level(call: ast.Call) -> Level:
    """pandera ``Column(dtype, checks, nullable, unique, ...)``: value-level with checks, explicit
    ``nullable=False`` (with a dtype) or ``unique=True``."""
    checks = _kw(call, "checks") or (call.args[1] if len(call.args) > 1 else None)
    has_dtype = bool(call.args) or _kw(call, "dtype") is not None
    if _has_checks(checks) or _is_const(_kw(call, "unique"), True):
        return "value"
    if has_dtype and _is_const(_kw(call, "nullable"), False):
        return "value"
    return "schema"


def _field_level(call: Optional[ast.Call]) -> Level:
    """pandera ``Field(ge=0, isin=[...], nullable=False, unique=True)`` in a DataFrameModel."""
    if call is None:
        return "schema"
    for kw in call.keywords:
        if kw.arg in _PANDERA_FIELD_CHECKS and not _is_const(kw.value, None):
            return "value"
        if kw.arg == "nullable" and _is_const(kw.value, False):
            return "value"
        if kw.arg == "unique" and _is_const(kw.value, True):
            return "value"
        if kw.arg == "checks" and _has_checks(kw.value):
            return "value"
    return "schema"


def _pandera_file(ctx: ProbeContext, path: str) -> list[Suite]:
    text = ctx.facts.text(path)
    if text is None:
        return []
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the shared index already recorded the problem
    suites: list[Suite] = []
    models: set[str] = set()
    targets: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                targets[id(node.value)] = target.id
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _tail(node.func) == "DataFrameSchema":
            suites.append(_schema_suite(path, node, targets.get(id(node))))
    classes = sorted((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)), key=lambda n: n.lineno)
    for cls in classes:  # a model may inherit from a model defined above it in the same file
        bases = {_tail(b.value if isinstance(b, ast.Subscript) else b) for b in cls.bases}
        if bases & {"DataFrameModel", "SchemaModel"} or bases & models:
            models.add(cls.name)
            suites.append(_model_suite(path, cls))
    return suites


def _schema_suite(path: str, call: ast.Call, target: Optional[str]) -> Suite:
    named = _kw(call, "name")
    name = named.value if isinstance(named, ast.Constant) and isinstance(named.value, str) else target
    suite = Suite(tool="pandera", name=name or f"DataFrameSchema@{call.lineno}", path=path,
                  span=(call.lineno, call.end_lineno or call.lineno))
    columns = _kw(call, "columns") or (call.args[0] if call.args else None)
    if isinstance(columns, ast.Dict):
        for key, value in zip(columns.keys, columns.values):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            level = _column_level(value) if isinstance(value, ast.Call) and _tail(value.func) == "Column" else "schema"
            suite.add(level, [key.value])
    if _has_checks(_kw(call, "checks")):
        suite.add("value", [])
    return suite


def _model_suite(path: str, cls: ast.ClassDef) -> Suite:
    suite = Suite(tool="pandera", name=cls.name, path=path, span=(cls.lineno, cls.end_lineno or cls.lineno))
    for stmt in cls.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and not stmt.target.id.startswith("_"):
            value = stmt.value if isinstance(stmt.value, ast.Call) and _tail(stmt.value.func) == "Field" else None
            suite.add(_field_level(value), [stmt.target.id])
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in stmt.decorator_list:
                if isinstance(deco, ast.Call) and _tail(deco.func) == "check":
                    cols = [a.value for a in deco.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                    suite.add("value", cols)
                elif _tail(deco.func if isinstance(deco, ast.Call) else deco) == "dataframe_check":
                    suite.add("value", [])
    return suite


# -- PyDeequ and Deepchecks (shared index) --------------------------------------------------------

_DEEQU_TRIVIAL = frozenset({"hasSize", "hasColumnCount"})
_DEEQU_SCHEMA = frozenset({"hasDataType"})
_DEEQU_VALUE = frozenset({
    "isComplete", "hasCompleteness", "areComplete", "haveCompleteness", "areAnyComplete", "haveAnyCompleteness",
    "isUnique", "isPrimaryKey", "hasUniqueness", "hasDistinctness", "hasUniqueValueRatio",
    "hasNumberOfDistinctValues", "hasHistogramValues", "hasEntropy", "hasMutualInformation", "hasApproxQuantile",
    "hasMinLength", "hasMaxLength", "hasMin", "hasMax", "hasMean", "hasSum", "hasStandardDeviation",
    "hasApproxCountDistinct", "hasCorrelation", "satisfies", "hasPattern", "containsCreditCardNumber",
    "containsEmail", "containsURL", "containsSocialSecurityNumber", "isNonNegative", "isPositive", "isLessThan",
    "isLessThanOrEqualTo", "isGreaterThan", "isGreaterThanOrEqualTo", "isContainedIn",
})


def _deequ_file(pyfile: "PyFile") -> Optional[Suite]:
    checks = [c for c in pyfile.calls if c.attr == "Check"]
    constraints = [c for c in pyfile.calls if c.attr in _DEEQU_VALUE | _DEEQU_SCHEMA | _DEEQU_TRIVIAL]
    if not checks or not constraints:
        return None
    described = next((a for c in checks for a in c.literal_args[2:3] if isinstance(a, str)), None)
    lines = [c.line for c in checks + constraints]
    ends = [c.end_line for c in checks + constraints]
    suite = Suite(tool="deequ", name=described or posixpath.basename(pyfile.path), path=pyfile.path,
                  span=(min(lines), max(ends)), notebook=pyfile.notebook)
    for call in constraints:
        cols = [a for a in call.literal_args[:2 if call.attr.startswith("isLess") or call.attr.startswith("isGreater") else 1]
                if isinstance(a, str)]
        if call.attr == "satisfies":
            cols = []
        level: Level = "value" if call.attr in _DEEQU_VALUE else "schema"
        suite.add(level, cols)
    return suite


_DEEPCHECKS_SUITES = frozenset({"data_integrity", "train_test_validation", "model_evaluation", "full_suite"})


def _deepchecks_file(pyfile: "PyFile") -> Optional[Suite]:
    """A Deepchecks suite with conditions. Built-in suites carry default conditions; a custom
    ``Suite(...)`` counts its ``add_condition_*`` calls. No column-level constraints are known."""
    builtin = [c for c in pyfile.calls if c.attr in _DEEPCHECKS_SUITES and c.name.startswith("deepchecks.")]
    custom = [c for c in pyfile.calls if c.attr == "Suite" and c.name.startswith("deepchecks.")]
    conditions = [c for c in pyfile.calls if c.attr.startswith("add_condition_")]
    if not builtin and not custom:
        return None
    first = builtin[0] if builtin else custom[0]
    name = first.attr if builtin else next((a for a in first.literal_args[:1] if isinstance(a, str)), "Suite")
    calls = builtin + custom + conditions
    suite = Suite(tool="deepchecks", name=name, path=pyfile.path, span=(min(c.line for c in calls),
                  max(c.end_line for c in calls)), notebook=pyfile.notebook)
    for _ in builtin:
        suite.add("value", [])
    for _ in conditions:
        suite.add("value", [])
    for _ in custom:
        if not conditions:
            suite.add("other", [])
    return suite


# -- runs ----------------------------------------------------------------------------------------

RUN_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("soda", lazy(r"(?<![\w./-])soda\s+scan\b")),
    ("dbt", lazy(r"(?<![\w./-])dbt\s+(?:--?[\w-]+(?:[= ][^\s-][^\s]*)?\s+)*(?:test|build)\b")),
    ("datacontract", lazy(r"(?<![\w./-])datacontract\s+test\b")),
)
DBT_FRESHNESS = lazy(r"(?<![\w./-])dbt\s+(?:--?[\w-]+\s+)*source\s+(?:freshness|snapshot-freshness)\b")
_MANUAL_ONLY = "runs only when triggered by hand (RUBRIC §2.3)"


def _line_in(ctx: ProbeContext, path: str, start: int, end: int, needle: re.Pattern[str]) -> tuple[int, int]:
    lines = ctx.facts.lines(path) or []
    for number in range(max(start, 1), min(end, len(lines)) + 1):
        text = lines[number - 1]
        if needle.search(text) and not text.lstrip().startswith("#"):
            return number, number
    return start, end


def _validate_scripts(ctx: ProbeContext, suites: list[Suite]) -> dict[str, tuple[int, int, str]]:
    """Non-notebook files calling ``<known pandera schema>.validate(...)``: path -> (line, end, call)."""
    names = {s.name for s in suites if s.tool == "pandera"}
    found: dict[str, tuple[int, int, str]] = {}
    for path, pyfile in sorted(ctx.facts.python.files.items()):
        if pyfile.notebook:
            continue
        for call in pyfile.calls:
            receiver = call.name.rsplit(".", 2)
            if call.attr == "validate" and len(receiver) >= 2 and receiver[-2] in names:
                found[path] = (call.line, call.end_line, call.name)
                break
    return found


def _run_reasons(job: "Job", step: "Step", line: str) -> list[str]:
    reasons = ci_blocking_reasons(job, step, line)
    types = set(step_triggers(job, step))
    if types and types <= {"manual"}:
        reasons.append(_MANUAL_ONLY)
    return reasons


def _runs(ctx: ProbeContext, found: Found) -> Iterator[Evidence]:
    tools = {s.tool for s in found.suites if not trivial_reason(s)}
    scripts = _validate_scripts(ctx, found.suites)
    modules = set(ctx.facts.python.modules)
    by_suffix: dict[str, list[str]] = {}
    for module in sorted(modules):
        by_suffix.setdefault(posixpath.basename(module), []).append(module)
    for path, reason in sorted(ctx.facts.ci.unreadable.items()):
        text = ctx.facts.text(path) or ""
        if any(rx.search(text) for _, rx in RUN_COMMANDS):
            yield ctx.unknown("data.validation_run", f"CI file not readable: {reason}", path=path)
    for _pipeline, job, step in ctx.facts.ci.steps():
        for line in step.commands():
            hit = _command_tool(line)
            target = None
            if hit is None:
                for ref in script_refs(line, step.workdir):
                    target = resolve(ref, modules, by_suffix)
                    if target in scripts:
                        hit = ("pandera", re.compile(re.escape(posixpath.basename(target)[:-3])))
                        break
            if hit is None:
                continue
            tool, needle = hit
            reasons = _run_reasons(job, step, line)
            blocking = not [r for r in reasons if r != _MANUAL_ONLY]
            if tool not in tools:
                reasons.append(f"no non-trivial {tool} suite in the repository")
            path = step.where(job)
            lines = _line_in(ctx, path, step.start_line, step.end_line, needle)
            attrs = ValidationRun(tool=tool, where="ci", command=line[:200], job=job.id, blocking=blocking,  # type: ignore[arg-type]
                                  triggers=step_triggers(job, step))
            yield ctx.evidence("data.validation_run", attrs, path=path, lines=lines, subject=f"{job.id}:{line[:200]}",
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)
    for path in ctx.paths:
        if posixpath.basename(path) != "dvc.yaml":
            continue
        for stage, command in stage_commands(ctx.facts.yaml_doc(path), posixpath.dirname(path)):
            hit = _command_tool(command)
            if hit is None:
                refs = [resolve(r, modules, by_suffix) for r in script_refs(command, stage.wdir)]
                target = next((t for t in refs if t in scripts), None)
                if target is None:
                    continue
                hit = ("pandera", re.compile(re.escape(posixpath.basename(target)[:-3])))
            tool, needle = hit
            first = command.strip().splitlines()[0]
            line = ctx.facts.find_line(path, first) or 1
            reasons = [] if tool in tools else [f"no non-trivial {tool} suite in the repository"]
            attrs = ValidationRun(tool=tool, where="pipeline", command=command.strip()[:200], job=stage.name,  # type: ignore[arg-type]
                                  blocking=True, triggers=[])
            yield ctx.evidence("data.validation_run", attrs, path=path, lines=(line, line),
                               subject=f"{stage.name}:{command[:200]}",
                               strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)


def _command_tool(line: str) -> Optional[tuple[str, re.Pattern[str]]]:
    for tool, rx in RUN_COMMANDS:
        if rx.search(line):
            return tool, rx
    return None


# -- probe -------------------------------------------------------------------------------------------


def trivial_reason(suite: Suite) -> Optional[str]:
    """Why a suite is trivial (RUBRIC §2.3: row count / column existence / types only)."""
    if not suite.levels:
        return "trivial suite: no checks"
    if suite.value_level == 0:
        return "trivial suite: no value-level check (only row count, schema, types or freshness)"
    return None


def _freshness_in_ci(ctx: ProbeContext, decl: FreshnessDecl) -> bool:
    """A CI step that can fail runs this freshness check: `dbt source freshness`, or a `soda
    scan` naming this checks file."""
    pattern = DBT_FRESHNESS if decl.tool == "dbt" else RUN_COMMANDS[0][1]
    names = (posixpath.basename(decl.path),)
    for _p, job, step, line in ctx.facts.ci.steps_running(pattern):
        if decl.tool == "soda" and not any(name in line for name in names):
            continue
        if not ci_blocking_reasons(job, step, line):
            return True
    return False


def collect(ctx: ProbeContext) -> Iterator[Evidence]:
    found = find_suites(ctx)
    for path, reason in found.unknown:
        yield ctx.unknown("data.validation_suite", reason, path=path)
    for suite in found.suites:
        trivial = trivial_reason(suite)
        reasons = list(suite.reasons) + ([trivial] if trivial else []) + (["notebook only"] if suite.notebook else [])
        attrs = ValidationSuite(
            tool=suite.tool, name=suite.name, checks=len(suite.levels), value_level=suite.value_level,
            columns=sorted(suite.columns), value_columns=sorted(suite.value_columns), trivial=trivial is not None,
        )
        yield ctx.evidence("data.validation_suite", attrs, path=suite.path, lines=suite.span,
                           subject=f"{suite.tool}:{suite.name}",
                           strength=Strength.mention if reasons else Strength.configured, downgrades=reasons)
    for decl in found.freshness:
        attrs = Freshness(tool=decl.tool, tables=decl.tables, run_in_ci=_freshness_in_ci(ctx, decl))
        yield ctx.evidence("data.freshness", attrs, path=decl.path, lines=decl.span, subject=f"{decl.path}:{decl.span[0]}")
    yield from _runs(ctx, found)


PATTERNS = (
    "**/*.yml", "**/*.yaml", "**/*.pbtxt", "**/*.dqdl", "**/*.tf", "**/dvc.yaml",
)

PROBE = Probe(
    id="data_quality",
    title="Data validation suites (pandera, Soda, TFDV, Deequ, dbt, Deepchecks, contracts, DQDL) and their runs",
    patterns=PATTERNS,
    kinds=(
        Kind("data.validation_suite", ValidationSuite, "A data validation suite with its value-level / schema-level split"),
        Kind("data.validation_run", ValidationRun, "A validation suite run from CI or a pipeline stage (soda scan, dbt test, ...)"),
        Kind("data.freshness", Freshness, "Freshness checks on source tables (dbt sources, Soda freshness)"),
    ),
    collect=collect,
    python_tokens=(*imports_of("pandera", "pydeequ", "deepchecks"), r"[Ss]chema\w*\.validate\("),
)
