"""Governance documents: model cards, data documentation, policy and risk documents.

Covers RUBRIC §3.5 GV-a (model card, scored against the nine sections of Mitchell et al., "Model
Cards for Model Reporting", 2019), GV-b (datasheets, data dictionaries, data cards) and GV-c
(policy and risk documents).

The point of the model-card kind is that a heading is not a section: RUBRIC §2.3 lists "a model
card with only template headings" as trivial content. A section counts only when its body holds
real text after removing what templates leave behind: HTML comments, "[More Information Needed]",
TODO/TBD, ``<placeholders>``, ``{{ jinja }}``, lorem ipsum, label-only lines ("Developed by:"),
and the prompt sentences of the well-known templates (the paper's own prompts, the Hugging Face
template's boilerplate).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Literal, Optional

from scanner.facts.yamldoc import YamlError, load_all
from scanner.facts.yamldoc import dig as _dig
from scanner.models import Evidence, Strength
from scanner.patterns import lazy
from scanner.probe import Attributes, Kind, Probe, ProbeContext

MITCHELL_SECTIONS = (
    "model_details", "intended_use", "factors", "metrics", "evaluation_data", "training_data",
    "quantitative_analyses", "ethical_considerations", "caveats_recommendations",
)
GEBRU_SECTIONS = ("motivation", "composition", "collection", "preprocessing", "uses", "distribution", "maintenance")

# --------------------------------------------------------------------------------------------
# attribute models
# --------------------------------------------------------------------------------------------


class ModelCard(Attributes):
    path: str
    format: Literal["markdown", "huggingface", "model_card_toolkit"]
    sections_present: list[str]
    sections_with_content: int
    completeness: float
    template_only: bool


class DataDoc(Attributes):
    path: str
    kind: Literal["datasheet", "data_dictionary", "data_card", "feature_docs"]
    entries: int


Topic = Literal["gdpr", "ccpa", "eu_ai_act", "nist_ai_rmf", "iso_42001", "risk_assessment", "dpia", "security",
                "responsible_ai"]


class PolicyDoc(Attributes):
    path: str
    topics: list[Topic]
    linked_from_card: bool


# --------------------------------------------------------------------------------------------
# case-insensitive globs
# --------------------------------------------------------------------------------------------


def _ci(word: str) -> str:
    """A glob fragment matching ``word`` in any letter case (``card`` -> ``[Cc][Aa][Rr][Dd]``)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


_CARD_MD = lazy(r"(?:^|/)(?:model[_-]?card[^/]*|modelcard[^/]*)\.md$", re.I)
_CARD_JSON = lazy(r"(?:^|/)model[_-]?card[^/]*\.json$", re.I)
_README = lazy(r"(?:^|/)README\.md$", re.I)

# --------------------------------------------------------------------------------------------
# markdown sections and "real text"
# --------------------------------------------------------------------------------------------

_SECTION_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (lazy(p), s) for p, s in (
        ((r"model details|model description|model overview|model summary|model information|about (?:the|this) model"
          r"|^overview$|^description$|model architecture|^model$"), ("model_details",)),
        ((r"intended use|intended purpose|^uses?$|direct use|downstream use|use cases?|out.of.scope|how to use"
          r"|primary uses|^usage$"), ("intended_use",)),
        (r"factors|subgroups|slices|demographic", ("factors",)),
        (r"metrics|performance measures|^evaluation$|evaluation results|^results$|^performance$",
         ("metrics",)),
        (r"evaluation data|eval data|testing data|test data|validation data|evaluation dataset|training and evaluation data",
         ("evaluation_data",)),
        (r"training data|training dataset|training and evaluation data|^data$|^datasets?$", ("training_data",)),
        ((r"quantitative analys|evaluation results|^results$|training results|unitary results|intersectional results"
          r"|^performance$|model performance"), ("quantitative_analyses",)),
        (r"ethic|bias|fairness|risks", ("ethical_considerations",)),
        (r"caveat|recommendation|limitation", ("caveats_recommendations",)),
    )
)
_GEBRU_PATTERNS = (
    (lazy(r"motivation"), "motivation"),
    (lazy(r"composition"), "composition"),
    (lazy(r"collection"), "collection"),
    (lazy(r"preprocessing|cleaning|labell?ing"), "preprocessing"),
    (lazy(r"^uses?$|intended use"), "uses"),
    (lazy(r"distribution"), "distribution"),
    (lazy(r"maintenance"), "maintenance"),
)

_PLACEHOLDERS = (
    lazy(r"<!--.*?-->", re.S),
    lazy(r"\[\s*more information needed\s*\]|more information needed|more info needed", re.I),
    lazy(r"\{\{.*?\}\}|\{%.*?%\}", re.S),
    lazy(r"\bN/A\b", re.I),
    lazy(r"\[[^\]\n]{0,160}\](?!\()"),  # [describe the model here] (but not [link](url))
    lazy(r"<[^<>\n]{0,160}>"),  # <model name>, and inline HTML
)
_TODO = lazy(r"\b(?:TODO|TBD|TBA|FIXME)\b")
_LINK = lazy(r"\[([^\]\n]*)\]\(([^)\n]*)\)")
_LOREM = lazy(r"lorem ipsum", re.I)
# Prompt sentences of the common templates: the paper's prompts and the Hugging Face template's
# boilerplate. A line that starts with one of them (normalised) is template text, not content.
_TEMPLATE_PROMPTS = tuple(
    " ".join(p.split()) for p in (
        "person or organization developing model", "model date", "model version", "model type",
        "information about training algorithms", "paper or other resource for more information",
        "citation details", "license", "where to send questions or comments about the model",
        "primary intended uses", "primary intended users", "out of scope use cases", "out-of-scope use cases",
        "relevant factors", "evaluation factors", "model performance measures", "decision thresholds",
        "variation approaches", "approaches to uncertainty and variability", "datasets", "motivation",
        "preprocessing", "unitary results", "intersectional results", "basic information about the model",
        "review section", "use cases that were envisioned during development", "factors could include",
        "metrics should be chosen", "the appropriate metrics to feature in a model card",
        "details on the dataset", "all referenced datasets would ideally", "may not be possible to provide in practice",
        "quantitative analyses should be disaggregated", "this section is intended to demonstrate the ethical",
        "this section should list additional concerns", "sections and prompts from the model cards paper",
        "jump to section", "add model name here", "this is the model card of a",
        "this model card has been automatically generated", "users (both direct and downstream) should be made aware",
        "use the code below to get started with the model", "provide a quick summary", "provide a longer summary",
        "describe the model", "describe the data", "describe the intended use", "describe the limitations",
        "please include the metrics used", "for additional information see the model card paper",
        "fill in", "to be completed", "to be added", "coming soon",
    )
)
_WORD = lazy(r"[A-Za-z]{2,}|\d+(?:\.\d+)?")
_MIN_WORDS = 4


def _norm_title(title: str) -> str:
    title = re.sub(r"[*_`~]|\[optional\]|\(optional\)", " ", title.lower())
    title = re.sub(r"^[\s\d.)(-]+", "", title)  # "4.2 Intended use", "1) Overview"
    title = re.sub(r"[^a-z0-9&,/ -]+", " ", title)
    return " ".join(title.split())


@dataclass
class _Heading:
    line: int  # 1-based
    level: int
    title: str


def _headings(lines: list[str], first: int = 0) -> list[_Heading]:
    """ATX, setext and whole-line bold pseudo-headings outside fenced code blocks."""
    found: list[_Heading] = []
    fence: Optional[str] = None
    for index in range(first, len(lines)):
        line = lines[index]
        stripped = line.strip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0]
            elif stripped.startswith(fence * 3):
                fence = None
            continue
        if fence is not None:
            continue
        atx = re.match(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if atx:
            found.append(_Heading(index + 1, len(atx.group(1)), atx.group(2)))
            continue
        bold = re.match(r"^\s*(?:\*\*|__)([^*_]{3,80})(?:\*\*|__)\s*:?\s*$", line)
        if bold:
            found.append(_Heading(index + 1, 7, bold.group(1)))
            continue
        if index + 1 < len(lines) and stripped and not stripped.startswith(("-", "*", "|", ">", "<")) \
                and re.match(r"^ {0,3}(=+|-+)\s*$", lines[index + 1]) \
                and (index == first or not lines[index - 1].strip()):
            found.append(_Heading(index + 1, 1 if "=" in lines[index + 1] else 2, stripped))
    return found


def _body(lines: list[str], headings: list[_Heading], at: int) -> list[str]:
    """Lines under heading ``at`` up to the next heading of the same or a higher level (headings dropped)."""
    head = headings[at]
    end = len(lines)
    for later in headings[at + 1:]:
        if later.level <= head.level:
            end = later.line - 1
            break
    heading_lines = {h.line for h in headings}
    body = []
    for number in range(head.line + 1, end + 1):
        if number in heading_lines:
            continue
        if re.match(r"^ {0,3}(=+|-+)\s*$", lines[number - 1]) and number - 1 in heading_lines:
            continue  # a setext underline
        body.append(lines[number - 1])
    return body


def real_text(text: str) -> bool:
    """Whether ``text`` says something beyond template scaffolding (see the module docstring)."""
    if _LOREM.search(text):
        return False
    for pattern in _PLACEHOLDERS[:3]:
        text = pattern.sub(" ", text)
    words = 0
    for raw in text.splitlines():
        if _TODO.search(raw):
            continue  # "TODO: describe the data" is a note to self, not content
        line = _LINK.sub(lambda m: "" if m.group(2).startswith("#") else m.group(1), raw)
        for pattern in _PLACEHOLDERS[3:]:
            line = pattern.sub(" ", line)
        line = re.sub(r"^[\s>*+\-|]*(?:\d+[.)]\s*)?", "", line)
        line = re.sub(r"[*_`|]", " ", line).strip()
        if not line or re.fullmatch(r"[-:=\s]*", line):
            continue
        if re.fullmatch(r"[^:]{1,60}:\s*", line):
            continue  # a label with nothing after it: "Developed by:"
        normal = " ".join(re.sub(r"[^a-z0-9()\- ]+", " ", line.lower()).split())
        if ":" not in line and any(normal.startswith(p) for p in _TEMPLATE_PROMPTS):
            continue
        words += len(_WORD.findall(line))
    return words >= _MIN_WORDS


def _sections(lines: list[str], first: int, patterns: Iterable[tuple[re.Pattern[str], Any]]) -> tuple[set[str], set[str]]:
    """(sections whose heading is present, sections with real text) in a markdown document."""
    patterns = list(patterns)
    headings = _headings(lines, first)
    present: set[str] = set()
    content: set[str] = set()
    for at, heading in enumerate(headings):
        title = _norm_title(heading.title)
        names: set[str] = set()
        for pattern, mapped in patterns:
            if pattern.search(title):
                names.update(mapped if isinstance(mapped, tuple) else (mapped,))
        if not names:
            continue
        present |= names
        if real_text("\n".join(_body(lines, headings, at))):
            content |= names
    return present, content


def _front_matter(lines: list[str]) -> tuple[Optional[dict], int]:
    """A leading ``---`` YAML block parsed with the facts layer's safe loader, and where the body starts."""
    if not lines or lines[0].strip() != "---":
        return None, 0
    for index in range(1, min(len(lines), 2000)):
        if lines[index].strip() in ("---", "..."):
            try:
                docs = load_all("\n".join(lines[1:index]))
            except YamlError:
                return None, index + 1
            doc = docs[0] if docs else None
            return (doc if isinstance(doc, dict) else None), index + 1
    return None, 0


def _is_hf_model(meta: Optional[dict]) -> bool:
    if not meta:
        return False
    if any(k in meta for k in ("dataset_info", "task_categories", "configs", "size_categories")):
        return False  # a dataset card
    return "model-index" in meta or ("license" in meta and "datasets" in meta) or "base_model" in meta \
        or ("pipeline_tag" in meta and "license" in meta)


def _is_hf_dataset(meta: Optional[dict]) -> bool:
    return bool(meta) and any(k in meta for k in ("dataset_info", "task_categories", "size_categories"))  # type: ignore[operator]


def _model_index_results(meta: dict) -> bool:
    """Metric values in the front matter's ``model-index`` (quantitative results)."""
    for model in meta.get("model-index") or []:
        for result in (model.get("results") if isinstance(model, dict) else None) or []:
            for metric in (result.get("metrics") if isinstance(result, dict) else None) or []:
                if isinstance(metric, dict) and isinstance(metric.get("value"), (int, float, str)) and str(metric["value"]).strip():
                    return True
    return False


# --------------------------------------------------------------------------------------------
# governance.model_card
# --------------------------------------------------------------------------------------------


@dataclass
class _Card:
    path: str
    text: str


def _card_evidence(ctx: ProbeContext, path: str, fmt: str, present: set[str], content: set[str]) -> Evidence:
    count = len(content)
    completeness = round(count / len(MITCHELL_SECTIONS), 2)
    template_only = count == 0 and bool(present)
    attrs = ModelCard(path=path, format=fmt, sections_present=sorted(present), sections_with_content=count,  # type: ignore[arg-type]
                      completeness=completeness, template_only=template_only)
    downgrades = []
    if not present:
        downgrades.append("has none of the nine model card sections")
    elif template_only or (completeness < 0.5 and len(present) > count):
        downgrades.append(f"model card is mostly template text ({count} of 9 sections have real text)")
    elif completeness < 0.5:
        downgrades.append(f"model card covers only {count} of 9 sections with real text")
    lines = ctx.facts.lines(path) or [""]
    return ctx.evidence("governance.model_card", attrs, path=path, lines=(1, max(1, len(lines))),
                        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


def _markdown_cards(ctx: ProbeContext) -> Iterator[tuple[Evidence, _Card]]:
    for path in ctx.paths:
        is_card, is_readme = bool(_CARD_MD.search(path)), bool(_README.search(path))
        if not (is_card or is_readme):
            continue
        lines = ctx.facts.lines(path)
        if lines is None:
            if is_card:
                yield ctx.unknown("governance.model_card", ctx.facts.problems.get(path, "unreadable"), path=path), \
                    _Card(path, "")
            continue
        meta, first = _front_matter(lines)
        hf = _is_hf_model(meta)
        if is_readme and not hf:
            continue
        present, content = _sections(lines, first, _SECTION_PATTERNS)
        if hf and meta and _model_index_results(meta):
            present |= {"metrics", "quantitative_analyses"}
            content |= {"metrics", "quantitative_analyses"}
        evidence = _card_evidence(ctx, path, "huggingface" if hf else "markdown", present, content)
        yield evidence, _Card(path, ctx.facts.text(path) or "")


def _strings(value: Any, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, depth + 1)]
    return []


def _mct_sections(doc: dict) -> tuple[set[str], set[str]]:
    """Model Card Toolkit JSON fields mapped onto the paper's sections."""
    get = lambda *keys: _dig(doc, *keys)  # noqa: E731
    data = get("model_parameters", "data")
    # MCT 2.x: a list of datasets; MCT 1.x: {"train": {...}, "eval": {...}}
    items = list(data.items()) if isinstance(data, dict) else list(enumerate(data)) if isinstance(data, list) else []
    named = [(d, f"{k} {_dig(d, 'name') or ''}".lower()) for k, d in items if isinstance(d, dict)]
    metrics = [m for m in (get("quantitative_analysis", "performance_metrics") or []) if isinstance(m, dict)]
    fields: dict[str, Any] = {
        "model_details": [get("model_details", "overview"), get("model_details", "documentation")],
        "intended_use": [get("considerations", "use_cases"), get("considerations", "users")],
        "factors": [m.get("slice") for m in metrics],
        "metrics": [" ".join(str(m.get(k, "")) for k in ("type", "value", "slice")) for m in metrics],
        "evaluation_data": [d for d, n in named if re.search(r"eval|test|valid", n)],
        "training_data": [d for d, n in named if re.search(r"train", n)],
        "quantitative_analyses": [" ".join(str(m.get(k, "")) for k in ("type", "value", "slice")) for m in metrics
                                  if m.get("value") not in (None, "")],
        "ethical_considerations": [get("considerations", "ethical_considerations")],
        "caveats_recommendations": [get("considerations", "limitations"), get("considerations", "tradeoffs")],
    }
    present, content = set(), set()
    for section, values in fields.items():
        values = [v for v in values if v not in (None, "", [], {})]
        if values:
            present.add(section)
            text = "\n".join(_strings(values))
            if real_text(text) or (section in ("metrics", "quantitative_analyses", "factors") and _WORD.search(text)):
                content.add(section)
    return present, content


def _json_cards(ctx: ProbeContext) -> Iterator[tuple[Evidence, _Card]]:
    for path in ctx.paths:
        if not _CARD_JSON.search(path):
            continue
        doc = ctx.facts.json(path)
        if doc is None:
            yield ctx.unknown("governance.model_card", ctx.facts.problems.get(path, "unreadable"), path=path), \
                _Card(path, "")
            continue
        if not isinstance(doc, dict) or not any(k in doc for k in ("model_details", "considerations", "quantitative_analysis")):
            continue
        present, content = _mct_sections(doc)
        yield _card_evidence(ctx, path, "model_card_toolkit", present, content), _Card(path, ctx.facts.text(path) or "")


# --------------------------------------------------------------------------------------------
# governance.data_doc
# --------------------------------------------------------------------------------------------

_DATASHEET = lazy(r"(?:^|/)data[_-]?sheet[^/]*\.md$", re.I)
_DATA_CARD = lazy(r"(?:^|/)data[_-]?card[^/]*\.md$", re.I)
_DICTIONARY = lazy(r"(?:^|/)data[_-]?dictionary[^/]*\.(?:csv|md|ya?ml)$", re.I)
_FEATURE_DOC = lazy(r"(?:^|/)(?:features?[_-]?(?:dictionary|docs?|catalog|definitions)?|feature[_-]store)\.md$", re.I)
_DOCS_DATA = lazy(r"(?:^|/)docs?/(?:[^/]+/)*data[^/]*\.md$", re.I)
_DICT_HEADER = lazy(r"column|field|feature|variable|attribute|name", re.I)
_DICT_KEYS = ("columns", "fields", "features", "variables", "schema", "attributes")


def _table_rows(lines: list[str]) -> int:
    """Data rows of markdown tables whose header names columns/fields/features."""
    rows, in_table = 0, False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if re.fullmatch(r"\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?", stripped) and index:
            in_table = bool(_DICT_HEADER.search(lines[index - 1]))
            continue
        if in_table and stripped.startswith("|") and real_text(stripped.replace("|", " ") + " x x x")\
                and len(_WORD.findall(stripped)) >= 2:
            rows += 1
        elif not stripped.startswith("|"):
            in_table = False
    return rows


def _heading_sections_with_text(lines: list[str], first: int = 0) -> int:
    """Headings whose own text (up to the next heading of any level) is real text."""
    headings = _headings(lines, first)
    count = 0
    for at, heading in enumerate(headings):
        end = headings[at + 1].line - 1 if at + 1 < len(headings) else len(lines)
        if real_text("\n".join(lines[heading.line:end])):
            count += 1
    return count


def _dictionary_entries(ctx: ProbeContext, path: str, lines: list[str]) -> int:
    if path.lower().endswith(".csv"):
        reader = csv.reader(io.StringIO("\n".join(lines[:100_000])))
        rows = [r for r in reader if any(cell.strip() for cell in r)]
        return max(0, len(rows) - 1) if rows and _DICT_HEADER.search(",".join(rows[0])) else len(rows)
    if path.lower().endswith((".yaml", ".yml")):
        doc = ctx.facts.yaml_doc(path)
        for key in _DICT_KEYS:
            value = _dig(doc, key)
            if isinstance(value, (list, dict)):
                return len(value)
        return len(doc) if isinstance(doc, (list, dict)) else 0
    return _table_rows(lines) or sum(1 for line in lines if re.match(r"^\s*[-*]\s+`?\w+`?\s*(?::|-|—)\s*\S", line))


def _data_docs(ctx: ProbeContext) -> Iterator[Evidence]:
    for path in ctx.paths:
        kind: Optional[str] = None
        if _DICTIONARY.search(path):
            kind = "data_dictionary"
        elif _DATASHEET.search(path):
            kind = "datasheet"
        elif _DATA_CARD.search(path):
            kind = "data_card"
        elif _FEATURE_DOC.search(path):
            kind = "feature_docs"
        elif not (_DOCS_DATA.search(path) or _README.search(path)):
            continue
        lines = ctx.facts.lines(path)
        if lines is None:
            if kind:
                yield ctx.unknown("governance.data_doc", ctx.facts.problems.get(path, "unreadable"), path=path)
            continue
        if kind == "data_dictionary" and path.lower().endswith((".yaml", ".yml")) and ctx.facts.yaml(path) is None:
            yield ctx.unknown("governance.data_doc", ctx.facts.problems.get(path, "malformed YAML"), path=path)
            continue
        if kind is None and _README.search(path):
            meta, first = _front_matter(lines)
            if not _is_hf_dataset(meta):
                continue
            kind, entries = "data_card", _heading_sections_with_text(lines, first)
        elif kind is None:
            _, gebru = _sections(lines, 0, _GEBRU_PATTERNS)
            present, _ = _sections(lines, 0, _GEBRU_PATTERNS)
            if len(present) >= 2:
                kind, entries = "datasheet", len(gebru)
            elif _table_rows(lines):
                kind, entries = "data_dictionary", _table_rows(lines)
            else:
                continue
        elif kind == "datasheet":
            entries = len(_sections(lines, 0, _GEBRU_PATTERNS)[1])
            if not entries and _table_rows(lines):
                kind, entries = "data_dictionary", _table_rows(lines)  # a "data sheet" that is a column table
        elif kind == "data_dictionary":
            entries = _dictionary_entries(ctx, path, lines)
        elif kind == "data_card":
            entries = _heading_sections_with_text(lines)
        else:
            entries = _table_rows(lines) or _heading_sections_with_text(lines)
        downgrades = [] if entries else ["data documentation has no real content"]
        attrs = DataDoc(path=path, kind=kind, entries=entries)  # type: ignore[arg-type]
        yield ctx.evidence("governance.data_doc", attrs, path=path, lines=(1, max(1, len(lines))),
                           strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# governance.policy_doc
# --------------------------------------------------------------------------------------------

_POLICY_PATH = lazy(
    r"(?:^|/)SECURITY\.md$|(?:^|/)[^/]*(?:polic(?:y|ies)|risk|dpia|privacy|responsible[_-]?ai|ai[_-]?act|compliance)"
    r"[^/]*\.md$|(?:^|/)(?:governance|compliance)/(?:[^/]+/)*[^/]+\.md$",
    re.I,
)
# review records (RUBRIC GV-j) and blank templates are not policies
_NOT_POLICY = lazy(r"(?:^|/)reviews?/|template[^/]*$", re.I)
_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("gdpr", lazy(r"\bGDPR\b|General Data Protection Regulation", re.I)),
    ("ccpa", lazy(r"\bCCPA\b|\bCPRA\b|California Consumer Privacy", re.I)),
    ("eu_ai_act", lazy(r"\bEU AI Act\b|\bAI Act\b|Artificial Intelligence Act|Regulation \(EU\) 2024/1689", re.I)),
    ("nist_ai_rmf", lazy(r"\bAI RMF\b|AI Risk Management Framework|NIST AI 100-1", re.I)),
    ("iso_42001", lazy(r"\bISO(?:/IEC)?\s*42001\b", re.I)),
    ("risk_assessment", lazy(r"risk assessment|risk tier|risk rating|risk register|model risk", re.I)),
    ("dpia", lazy(r"\bDPIA\b|data protection impact assessment", re.I)),
    ("security", lazy(r"vulnerabilit|security polic|security issue|security@", re.I)),
    ("responsible_ai", lazy(r"responsible AI|AI principles", re.I)),
)
_NAME_TOPICS = (("risk", "risk_assessment"), ("dpia", "dpia"), ("security", "security"))
_FRAMEWORKS = frozenset({"gdpr", "ccpa", "eu_ai_act", "nist_ai_rmf", "iso_42001", "dpia", "risk_assessment"})


def _policy_docs(ctx: ProbeContext, cards: list[_Card]) -> Iterator[Evidence]:
    card_paths = {c.path for c in cards}
    card_texts = [c.text.lower() for c in cards if c.text]
    for path in ctx.paths:
        if not _POLICY_PATH.search(path) or path in card_paths or _CARD_MD.search(path) or _NOT_POLICY.search(path):
            continue
        text = ctx.facts.text(path)
        if text is None:
            yield ctx.unknown("governance.policy_doc", ctx.facts.problems.get(path, "unreadable"), path=path)
            continue
        name = posixpath.basename(path).lower()
        topics = {topic for topic, pattern in _TOPICS if pattern.search(text)}
        topics |= {topic for word, topic in _NAME_TOPICS if word in name}
        if not topics:
            continue
        linked = any(name in card or path.lower() in card for card in card_texts)
        downgrades = []
        if not topics & _FRAMEWORKS:
            downgrades.append("mentions no regulation, risk framework or risk assessment")
        if not linked:
            downgrades.append("not linked from the model card")
        attrs = PolicyDoc(path=path, topics=sorted(topics), linked_from_card=linked)  # type: ignore[arg-type]
        lines = ctx.facts.lines(path) or [""]
        yield ctx.evidence("governance.policy_doc", attrs, path=path, lines=(1, max(1, len(lines))),
                           strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades)


# --------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------


def collect(ctx: ProbeContext) -> Iterable[Evidence]:
    cards: list[_Card] = []
    for evidence, card in [*_markdown_cards(ctx), *_json_cards(ctx)]:
        cards.append(card)
        yield evidence
    yield from _data_docs(ctx)
    yield from _policy_docs(ctx, cards)


PROBE = Probe(
    id="model_card",
    title="Governance documents: model cards, data documentation, policy and risk documents",
    patterns=(
        f"**/*{_ci('model')}[_-]{_ci('card')}*.md", f"**/*{_ci('modelcard')}*.md",
        f"**/*{_ci('model')}[_-]{_ci('card')}*.json", f"**/*{_ci('modelcard')}*.json",
        "**/README.md", "**/readme.md", "**/Readme.md",
        f"**/*{_ci('data')}[_-]{_ci('sheet')}*.md", f"**/*{_ci('datasheet')}*.md",
        f"**/*{_ci('data')}[_-]{_ci('card')}*.md", f"**/*{_ci('datacard')}*.md",
        f"**/*{_ci('data')}[_-]{_ci('dictionary')}*", f"**/*{_ci('datadictionary')}*",
        f"**/*{_ci('feature')}*.md", "**/docs/**/*.md", "**/doc/**/*.md",
        "**/SECURITY.md", f"**/*{_ci('polic')}*.md", f"**/*{_ci('risk')}*.md", f"**/*{_ci('dpia')}*.md",
        f"**/*{_ci('privacy')}*.md", f"**/*{_ci('responsible')}*.md", f"**/*{_ci('compliance')}*.md",
        f"**/*{_ci('ai')}[_-]{_ci('act')}*.md", "**/governance/**/*.md", "**/compliance/**/*.md",
    ),
    kinds=(
        Kind("governance.model_card", ModelCard, "A model card scored against the nine sections of Mitchell et al."),
        Kind("governance.data_doc", DataDoc, "Data documentation: datasheet, data dictionary, data card or feature docs"),
        Kind("governance.policy_doc", PolicyDoc, "A policy, risk, privacy or security document and the frameworks it names"),
    ),
    collect=collect,
)
