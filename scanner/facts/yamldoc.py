"""YAML parsed once, safely, with the line span of every mapping, entry and list item.

Mappings load as :class:`YMap` and sequences as :class:`YList`: plain ``dict``/``list`` subclasses
that also carry ``span`` (their own lines) and per-key / per-item spans, so a probe can cite
exactly the lines a fact came from. Loading uses PyYAML's ``CSafeLoader`` when libyaml is present.
Alias expansion is bounded: a document whose aliases expand past ``MAX_EXPANDED_NODES`` is
refused, which defeats "billion laughs" files without refusing ordinary anchors.

Note: YAML 1.1 reads the bare key ``on`` as the boolean ``True`` (GitHub workflows!). Use
:func:`get_key` with several spellings when a key may be affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_EXPANDED_NODES = 200_000

Span = tuple[int, int]


class YamlError(ValueError):
    def __init__(self, message: str, line: Optional[int] = None):
        super().__init__(message)
        self.line = line


class YMap(dict):
    """A mapping that remembers where it and each of its entries stand (1-based, inclusive)."""

    span: Span = (0, 0)
    key_spans: dict

    def key_span(self, key: Any) -> Span:
        """Lines of the entry ``key: value`` (from the key to the end of the value)."""
        return self.key_spans.get(key, self.span)

    def span_of(self, key: Any) -> Span:
        return self.key_span(key)


class YList(list):
    span: Span = (0, 0)
    item_spans: list

    def item_span(self, index: int) -> Span:
        try:
            return self.item_spans[index]
        except (IndexError, AttributeError):
            return self.span


class TaggedList(YList):
    """A sequence under an application tag (GitLab ``!reference``, CloudFormation ``!GetAZs``)."""

    tag: str = ""


class TaggedMap(YMap):
    tag: str = ""


class TaggedStr(str):
    """A scalar under an application tag (CloudFormation ``!Ref Bucket``)."""

    tag: str = ""
    span: Span = (0, 0)


_MAP_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:omap"})
_SEQ_TAGS = frozenset({"tag:yaml.org,2002:seq"})
_STR_TAG = "tag:yaml.org,2002:str"


_MERGE_TAG = "tag:yaml.org,2002:merge"
_Scalar = yaml.ScalarNode
_BUILDING = -1  # size of a collection whose children are still being built


class _Builder:
    """Nodes (composed by libyaml) to YMap/YList/scalars in one recursive pass.

    PyYAML's constructor machinery (generators, per-node dispatch, deep construction) cost four
    times the C parsing; this walks the node graph directly, and computes each node's last line
    and its expanded size on the way back up, so nothing is walked twice. Scalars still go through
    the safe constructors, so only plain data ever comes out. An alias is the same node object:
    the memo shares one value between its uses and adds its expanded size at every use, which
    bounds what aliases can expand to (``MAX_EXPANDED_NODES``).
    """

    def __init__(self, loader: Any):
        self.loader = loader
        self.memo: dict[int, tuple[Any, int, int]] = {}  # id(node) -> (value, last line, expanded size)
        self.scalars = loader.yaml_constructors
        self.expanded = 0

    def build(self, node: yaml.Node) -> tuple[Any, int]:
        """(value, last line) of ``node``."""
        known = self.memo.get(id(node))
        if known is not None:
            value, last, size = known
            if size == _BUILDING:
                raise YamlError("recursive alias", node.start_mark.line + 1)
            self._count(size)
            return value, last
        tag = node.tag
        local = tag[0] == "!"
        first = node.start_mark.line + 1
        if type(node) is yaml.ScalarNode:
            self._count(1)
            mark = node.end_mark
            # a block scalar (| or >) ends at column 0 of the line after it
            last = mark.line if (mark.column == 0 and mark.line > first - 1) else mark.line + 1
            if last < first:
                last = first
            if tag == _STR_TAG:
                return node.value, last
            if local:
                text = TaggedStr(node.value)
                text.tag, text.span = tag, (first, last)
                return text, last
            constructor = self.scalars.get(tag)
            if constructor is None:
                raise YamlError(f"unsupported tag {tag}", first)
            return constructor(self.loader, node), last
        before = self.expanded
        self._count(1)
        if type(node) is yaml.SequenceNode:
            if not (local or tag in _SEQ_TAGS):
                raise YamlError(f"unsupported tag {tag}", first)
            seq = TaggedList() if local else YList()
            if local:
                seq.tag = tag
            self.memo[id(node)] = (seq, first, _BUILDING)
            spans = []
            last = first
            for child in node.value:
                child_first = child.start_mark.line + 1
                if (type(child) is _Scalar and child.tag == _STR_TAG and child.style is None
                        and child.end_mark.line == child_first - 1):
                    # a plain one-line string, the commonest node: no call, no constructor
                    self.expanded += 1
                    value, last = child.value, child_first
                else:
                    value, last = self.build(child)
                seq.append(value)
                spans.append((child_first, last))
            seq.item_spans = spans
            collection: Any = seq
        else:
            if not (local or tag in _MAP_TAGS):
                raise YamlError(f"unsupported tag {tag}", first)
            mapping = TaggedMap() if local else YMap()
            if local:
                mapping.tag = tag
            self.memo[id(node)] = (mapping, first, _BUILDING)
            if any(key.tag == _MERGE_TAG for key, _ in node.value):
                self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            key_spans = {}
            last = first
            for key_node, value_node in node.value:
                key_first = key_node.start_mark.line + 1
                if type(key_node) is _Scalar and key_node.tag == _STR_TAG:
                    self.expanded += 1
                    key = key_node.value
                else:
                    key, _ = self.build(key_node)
                    try:
                        hash(key)
                    except TypeError:
                        raise YamlError("unhashable mapping key", key_first) from None
                if (type(value_node) is _Scalar and value_node.tag == _STR_TAG and value_node.style is None
                        and value_node.end_mark.line == value_node.start_mark.line):
                    self.expanded += 1
                    value, last = value_node.value, value_node.start_mark.line + 1
                else:
                    value, last = self.build(value_node)
                mapping[key] = value
                key_spans[key] = (key_first, last if last > key_first else key_first)
            mapping.key_spans = key_spans
            collection = mapping
        self._count(0)  # the fast paths above counted without checking the bound
        if node.flow_style or not node.value:
            mark = node.end_mark
            last = mark.line if (mark.column == 0 and mark.line >= first) else mark.line + 1
        last = max(first, last)
        collection.span = (first, last)
        self.memo[id(node)] = (collection, last, self.expanded - before)
        return collection, last

    def _count(self, nodes: int) -> None:
        self.expanded += nodes
        if self.expanded > MAX_EXPANDED_NODES:
            raise YamlError(f"aliases expand past {MAX_EXPANDED_NODES} nodes; refused")


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, with plain-scalar tag resolution memoised: a manifest repeats the same
    keys and values (``apiVersion``, ``name``, ``true``) thousands of times, and the resolver's
    regexes ran for every one."""

    _resolved: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0] and len(value) < 64:
            tag = self._resolved.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._resolved) < 100_000:
                    self._resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


def load_all(text: str) -> list[Any]:
    """Every document of ``text``; raises :class:`YamlError` with a line on bad input."""
    loader = _Loader(text)
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            docs.append(_Builder(loader).build(node)[0] if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlError(f"{exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None
    except RecursionError:
        raise YamlError("nesting too deep") from None
    finally:
        loader.dispose()
    return docs


def get_key(mapping: Any, *keys: Any) -> tuple[Any, Any]:
    """(key found, value) for the first of ``keys`` present; (None, None) otherwise."""
    if isinstance(mapping, dict):
        for key in keys:
            if key in mapping:
                return key, mapping[key]
    return None, None


def dig(obj: Any, *keys: Any) -> Any:
    """Walk nested mappings; None as soon as a step is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def span(obj: Any, default: Span = (1, 1)) -> Span:
    return getattr(obj, "span", default) or default


def entry_span(mapping: Any, key: Any, default: Span = (1, 1)) -> Span:
    if isinstance(mapping, YMap):
        return mapping.key_span(key)
    return default


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def iter_maps(docs: Iterable[Any]) -> Iterable[YMap]:
    for doc in docs:
        if isinstance(doc, YMap):
            yield doc


@dataclass
class Manifest:
    """One Kubernetes-style document (``apiVersion`` + ``kind``) and the file it came from."""

    path: str
    doc: YMap

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind") or "")

    @property
    def api(self) -> str:
        return str(self.doc.get("apiVersion") or "")

    @property
    def name(self) -> str:
        return str(dig(self.doc, "metadata", "name") or "")

    @property
    def namespace(self) -> Optional[str]:
        value = dig(self.doc, "metadata", "namespace")
        return str(value) if value else None

    @property
    def spec(self) -> YMap:
        spec = self.doc.get("spec")
        return spec if isinstance(spec, YMap) else YMap()

