"""Unit tests for the DVC and Great Expectations probes' helpers that fixtures exercise only
indirectly: JSON line spans, expectation classification, remote schemes, stage chaining, and
the regexes that pick commands out of CI steps."""

from __future__ import annotations

import pytest

from probes.dvc import (
    DVC_COMMAND,
    _section_spans,
    is_chained,
    lock_base_name,
    lock_stages,
    parse_config,
    parse_stage,
    remote_scheme,
)
from probes.great_expectations import (
    SCHEMA_LEVEL_EXPECTATIONS,
    TABLE_LEVEL_EXPECTATIONS,
    VALUE_LEVEL_EXPECTATIONS,
    _GX_CLI,
    expectation_level,
    gx_place,
    json_value_span,
    resolve,
    script_refs,
    snake_case,
    trivial_reason,
)

SUITE = """{
  "expectation_suite_name": "expectations",
  "expectations": [
    {"a": "]"},
    {"b": [1, {"c": "\\"]"}]}
  ],
  "meta": {}
}
"""


@pytest.mark.parametrize(
    "text, key, span",
    [
        (SUITE, "expectations", (3, 6)),  # a string value equal to the key is not the key
        (SUITE, "meta", (7, 7)),
        (SUITE, "expectation_suite_name", (2, 2)),
        (SUITE, "missing", None),
        ('{"name": "x",\n "expectations": []}', "expectations", (2, 2)),
        ('{\n "x": 1,\n "name": "s"\n}\n', "name", (3, 3)),  # last scalar entry
        ('{\n  "a": {"expectations": [1]},\n  "expectations"\n   :\n  [\n  1\n  ]\n}', "expectations", (3, 7)),
    ],
)
def test_json_value_span(text: str, key: str, span: tuple[int, int] | None) -> None:
    assert json_value_span(text, key) == span


def test_classification_sets_are_disjoint_and_table_level_is_schema() -> None:
    assert not VALUE_LEVEL_EXPECTATIONS & SCHEMA_LEVEL_EXPECTATIONS
    assert TABLE_LEVEL_EXPECTATIONS <= SCHEMA_LEVEL_EXPECTATIONS


@pytest.mark.parametrize(
    "name, level",
    [
        ("expect_column_values_to_not_be_null", "value"),
        ("expect_column_kl_divergence_to_be_less_than", "value"),
        ("expect_column_values_to_be_of_type", "schema"),  # a type is schema, despite "values"
        ("expect_column_to_exist", "schema"),
        ("expect_table_row_count_to_be_between", "schema"),
        ("expect_table_custom_freshness", "schema"),
        ("expect_column_values_to_be_valid_iban", "value"),  # contrib naming
        ("unexpected_rows_expectation", "value"),
        ("something_else", "other"),
    ],
)
def test_expectation_level(name: str, level: str) -> None:
    assert expectation_level(name) == level


def test_snake_case_handles_acronyms() -> None:
    assert snake_case("ExpectColumnKLDivergenceToBeLessThan") == "expect_column_kl_divergence_to_be_less_than"
    assert snake_case("ExpectColumnValuesToNotBeNull") == "expect_column_values_to_not_be_null"


def test_trivial_reason() -> None:
    assert trivial_reason([]) == "trivial suite: no expectations"
    assert "expect_column_to_exist" in (trivial_reason(["expect_column_to_exist"]) or "")
    assert trivial_reason(["expect_column_to_exist", "expect_column_values_to_be_of_type"]) is None
    assert trivial_reason(["expect_column_values_to_be_unique"]) is None


def test_gx_place() -> None:
    assert gx_place("gx/expectations/a.json", set()) == ("gx", "expectations", "a.json")
    assert gx_place("svc/great_expectations/checkpoints/c.yml", set()) == (
        "svc/great_expectations", "checkpoints", "c.yml"
    )
    assert gx_place("quality/expectations/a.json", {"quality"}) == ("quality", "expectations", "a.json")
    assert gx_place("models/checkpoints/epoch3.ckpt", set()) is None
    assert gx_place("docs/examples/expectations/a.json", set()) is None


def test_script_refs_and_resolve() -> None:
    modules = {"pipelines/quality/run_gx.py", "scripts/validate.py", "a/validate.py"}
    by_suffix: dict[str, list[str]] = {}
    for module in sorted(modules):
        by_suffix.setdefault(module.rsplit("/", 1)[-1], []).append(module)
    refs = script_refs("cd pipelines && python3 -u -m quality.run_gx --fast")
    assert "quality/run_gx.py" in refs
    assert resolve("quality/run_gx.py", modules, by_suffix) == "pipelines/quality/run_gx.py"
    assert script_refs("python scripts/validate.py --date x") == ["scripts/validate.py"]
    assert resolve("validate.py", modules, by_suffix) is None  # ambiguous: two candidates
    assert script_refs("python", "") == []
    assert script_refs("python ../tools/x.py", "sub/dir") == ["sub/tools/x.py"]


def test_gx_cli_regex() -> None:
    assert _GX_CLI.search("great_expectations --v3-api checkpoint run trips")
    assert _GX_CLI.search("gx checkpoint run nightly && echo ok")
    assert not _GX_CLI.search("great_expectations checkpoint script trips")
    assert not _GX_CLI.search("pip install great_expectations")


@pytest.mark.parametrize(
    "line, found",
    [
        ("dvc pull && dvc repro -f && dvc push -r s3", ["pull", "repro", "push"]),
        ("python -m dvc exp  run --queue", ["exp  run"]),
        ("dvc metrics diff --md main >> report.md", ["metrics diff"]),
        ("pip install dvc[s3] repro-tools", []),
        ("./bin/mydvc push", []),
        ("dvc exp show", []),
    ],
)
def test_dvc_command_regex(line: str, found: list[str]) -> None:
    assert [m.group("cmd") for m in DVC_COMMAND.finditer(line)] == found


def test_remote_scheme() -> None:
    urls = {"team": "azure://c/p", "loop": "remote://loop/x"}
    assert remote_scheme("s3://b/p", urls) == "s3"
    assert remote_scheme("webdavs://host/p", urls) == "webdav"
    assert remote_scheme("/mnt/storage", urls) == "local"
    assert remote_scheme(r"C:\dvc\store", urls) == "local"
    assert remote_scheme("../dvcstore", urls) == "local"
    assert remote_scheme("remote://team/images", urls) == "azure"
    assert remote_scheme("remote://loop/x", urls) == "remote"  # a cycle is not followed forever
    assert remote_scheme("cos://bucket/x", urls) == "cos"


def test_config_sections_quoted_and_unquoted() -> None:
    text = "[core]\n    remote = a\n['remote \"a\"']\n    url = s3://x\n\n# note\n[remote \"b\"]\n    url = gs://y\n"
    parser = parse_config(text)
    assert parser.get("core", "remote") == "a"
    assert parser.get("'remote \"a\"'", "url") == "s3://x"
    spans = _section_spans(text.splitlines())
    assert spans["'remote \"a\"'"] == (3, 4)
    assert spans['remote "b"'] == (7, 8)


def test_chaining_through_directories_and_wdir() -> None:
    prepare = parse_stage("prepare", {"cmd": "x", "outs": ["data/prepared"]}, "")
    train = parse_stage("train", {"cmd": "y", "wdir": "data", "deps": ["prepared/train.tsv"]}, "")
    lone = parse_stage("lone", {"cmd": "z", "deps": ["data/raw"]}, "")
    assert is_chained([prepare, train])
    assert not is_chained([prepare, lone])


def test_stage_forms() -> None:
    stage = parse_stage(
        "build",
        {"foreach": ["a", "b"], "do": {"cmd": ["one", "two"], "outs": [{"m-${item}.pkl": {"cache": False}}],
                                       "params": ["lr", {"cfg/p.yaml": ["x"]}]}},
        "sub",
    )
    assert stage.templated and stage.commands == ["one", "two"]
    assert stage.outs == ["sub/m-${item}.pkl"]
    assert stage.params_files == {"sub/params.yaml", "sub/cfg/p.yaml"}


def test_lock_formats() -> None:
    assert lock_stages({"schema": "2.0", "stages": {"a": {}}}) == {"a": {}}
    assert lock_stages({"a": {"cmd": "x"}}) == {"a": {"cmd": "x"}}  # DVC 1.x: stages at top level
    assert lock_stages({"schema": "2.0"}) is None
    assert lock_base_name("train@cnn-a") == "train"
