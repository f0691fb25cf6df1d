"""Parse-once facts: YAML line spans, alias limits, Python index, redaction, config errors."""

from __future__ import annotations

import pytest

from scanner.config import ConfigError, parse_config
from scanner.facts.python import _index_module, _index_notebook
from scanner.facts.yamldoc import YamlError, get_key, load_all
from scanner.redact import redact

WORKFLOW = """name: ci
on:
  push:
    branches: [main]
jobs:
  test:
    steps:
      - uses: actions/checkout@v4
      - run: |
          pytest -q
        continue-on-error: true
"""


def test_yaml_spans_and_on_key():
    doc = load_all(WORKFLOW)[0]
    key, on = get_key(doc, "on", True)
    assert key is True and "push" in on
    steps = doc["jobs"]["test"]["steps"]
    assert steps.item_span(0) == (8, 8)
    assert steps.item_span(1) == (9, 11)
    assert steps[1].key_span("continue-on-error") == (11, 11)
    assert doc.key_span("jobs") == (5, 11)


def test_yaml_multi_document_and_errors():
    docs = load_all("a: 1\n---\nb: [1, 2]\n")
    assert [list(d) for d in docs] == [["a"], ["b"]]
    assert docs[1].span == (3, 3)
    with pytest.raises(YamlError) as err:
        load_all("a: [1,\nb: 2\n")
    assert err.value.line == 3


def test_yaml_alias_bomb_refused_but_normal_anchors_fine():
    assert load_all("base: &b {x: 1}\nother: *b\n")[0]["other"] == {"x": 1}
    rows = ["a: &a [x,x,x,x,x,x,x,x,x,x]"] + [
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 10) + "]" for p, n in zip("abcde", "bcdef")
    ]
    with pytest.raises(YamlError, match="aliases expand"):
        load_all("\n".join(rows) + "\n")


def test_yaml_never_constructs_python_objects():
    with pytest.raises(YamlError):
        load_all("!!python/object/apply:os.system ['echo hi']\n")


def test_python_index_resolves_aliases_and_literals():
    src = "import mlflow as mf\nfrom mlflow import log_metric\nmf.log_param('lr', 0.1)\nlog_metric('acc', 1)\nURI = 'models:/churn@champion'\nif __name__ == '__main__':\n    pass\n"
    pyfile = _index_module("train.py", src)
    names = [c.name for c in pyfile.calls]
    assert names == ["mlflow.log_param", "mlflow.log_metric"]
    assert pyfile.calls[0].literal_args == ("lr", 0.1)
    assert pyfile.strings == [("models:/churn@champion", 5)]
    assert pyfile.has_main_guard


def test_python_index_syntax_error_is_recorded():
    assert "syntax error" in _index_module("bad.py", "def (:\n").error


def test_notebook_lines_point_into_the_ipynb():
    nb = '{\n "cells": [\n  {\n   "cell_type": "code",\n   "source": [\n    "%matplotlib inline\\n",\n    "import mlflow\\n",\n    "mlflow.log_metric(\\"a\\", 1)"\n   ]\n  }\n ]\n}\n'
    pyfile = _index_notebook("nb.ipynb", nb)
    assert pyfile.notebook and [c.name for c in pyfile.calls] == ["mlflow.log_metric"]
    assert pyfile.calls[0].line == 8 and pyfile.imports[0].line == 7


def test_redaction():
    assert redact("url: https://bob:hunter2@host/x") == "url: https://***@host/x"
    assert redact("API_KEY=abcd1234") == "API_KEY=***"
    assert redact("token: ${{ secrets.GH }}") == "token: ${{ secrets.GH }}"
    assert redact("author: Ann") == "author: Ann"
    assert "ghp_" not in redact("x ghp_" + "a" * 36)


def test_config_errors_name_the_line():
    with pytest.raises(ConfigError, match=r"cfg:3: context\.serving"):
        parse_config("version: 1\ncontext:\n  serving: sometimes\n", "cfg")
    with pytest.raises(ConfigError, match=r"cfg:2: malformed YAML"):
        parse_config("a: [\n", "cfg")
    with pytest.raises(ConfigError, match=r"cfg:1: bogus"):
        parse_config("bogus: 1\n", "cfg")


def test_config_waivers_expire_visibly():
    from datetime import date

    cfg = parse_config(
        "waivers:\n"
        "  - {criterion: MD-4.1, reason: not-applicable, justification: batch only, owner: ann, expires: 2026-01-01}\n"
        "  - {criterion: MD-4.2, reason: accepted-risk, owner: bo}\n"
        "  - {criterion: MD-4.3, reason: accepted-risk, justification: drill in Q1, owner: bo, expires: 2027-01-01}\n",
        "cfg",
    )
    waivers = cfg.resolved_waivers(date(2026, 6, 1))
    assert [(w.active, w.note) for w in waivers] == [
        (False, "expired on 2026-01-01"), (False, "no justification given"), (True, "")]


def test_application_tags_load_as_tagged_data():
    doc = load_all("a: !reference [.setup, script]\nb: !Ref Bucket\nc: !Sub {x: 1}\n")[0]
    assert list(doc["a"]) == [".setup", "script"] and doc["a"].tag == "!reference"
    assert doc["b"] == "Bucket" and doc["b"].tag == "!Ref"
    assert doc["c"]["x"] == 1 and doc["c"].tag == "!Sub"


def test_relative_imports_resolve_against_the_package_path():
    pyfile = _index_module("src/churn/train.py", "from . import features\nfrom .model import build\nfrom ..common import io\n")
    assert [i.module for i in pyfile.imports] == ["src.churn.features", "src.churn.model.build", "src.common.io"]


def test_prefilter_words_imports_and_regexes():
    from scanner.facts.python import Prefilter, imports_of

    pre = Prefilter(["mlflow", *imports_of("sklearn"), *imports_of("torch"), r"\.read_csv\b"])
    assert pre.words == [b"mlflow"] and len(pre.regexes) == 3  # imports merged per keyword
    assert pre.search(b"from sklearn.linear_model import Ridge")
    assert pre.search(b"import torch.nn as nn")
    assert pre.search(b"df = pd.read_csv(path)")
    assert not pre.search(b"# we do not use sklearnx\nimport numpy\n")


@pytest.mark.parametrize("path,expected", [
    ("docs/a.md", True), ("docs/x/y.md", True), ("xdocs/a.md", False), ("a/adr/0001.md", True),
    ("README.md", True), ("src/a.py", False), ("a/conf/x.yaml", True), ("conf/x.yaml", True),
    ("confx/a.yaml", False), (".github/workflows/ci.yml", True), (".github/workflows/sub/ci.yml", False),
    ("x/dvc.yaml", True), ("p/.dvc/config", True), ("p/q/notes.txt", False),
])
def test_path_matcher_glob_semantics(path, expected):
    from scanner.globs import PathMatcher

    matcher = PathMatcher(["docs/**", "**/adr/**", "**/conf/**/*.yaml", ".github/workflows/*.yml", "*",
                           "**/dvc.yaml", "**/.dvc/config"])
    cut = path.rfind("/") + 1
    assert matcher.match(path, path[:cut], path[cut:]) is expected


def test_lazy_patterns_compile_on_first_use_and_behave_like_compiled_ones():
    import re

    from scanner.patterns import LazyPattern, lazy

    rx = lazy(r"(?P<tool>helm|kubectl)\s+(rollback|undo)", re.IGNORECASE)
    assert isinstance(rx, LazyPattern) and "_compiled" not in vars(rx)
    assert rx.pattern.startswith("(?P<tool>") and rx.flags == re.IGNORECASE  # no compile for these
    assert rx.search("run HELM rollback now").group("tool") == "HELM"
    assert "_compiled" in vars(rx) and rx.groupindex == {"tool": 1}
    assert rx.sub("x", "helm rollback") == "x" and rx.findall("kubectl undo") == [("kubectl", "undo")]
    assert [m.span() for m in rx.finditer("helm rollback; kubectl undo")] == [(0, 13), (15, 27)]
    assert not lazy(r"^a$").fullmatch("ab") and lazy(rb"\x00").search(b"a\x00")
