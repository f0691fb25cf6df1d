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


def _node_span(node: yaml.Node) -> Span:
    start = node.start_mark.line + 1
    return start, max(start, _node_end(node))


def _node_end(node: yaml.Node) -> int:
    """Last line of a node. A block collection's end mark points at the next token, so its
    end is the end of its last child instead."""
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _node_end(last[1] if isinstance(last, tuple) else last)
    mark = node.end_mark
    # a block scalar (| or >) ends at column 0 of the line after it
    if mark.column == 0 and mark.line > node.start_mark.line:
        return mark.line
    return mark.line + 1


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


class _Builder:
    """Nodes (composed by libyaml) to YMap/YList/scalars in one recursive pass.

    PyYAML's constructor machinery (generators, per-node dispatch, deep construction) cost four
    times the C parsing; this walks the node graph directly. Scalars still go through the safe
    constructors, so only plain data ever comes out. An alias is the same node object, so the memo
    shares one value between its uses, and ``_check_expansion`` bounds what that can expand to.
    """

    def __init__(self, loader: Any):
        self.loader = loader
        self.memo: dict[int, Any] = {}
        self.scalars = loader.yaml_constructors

    def build(self, node: yaml.Node) -> Any:
        known = self.memo.get(id(node))
        if known is not None:
            return known
        tag = node.tag
        local = tag.startswith("!")
        if isinstance(node, yaml.ScalarNode):
            if tag == _STR_TAG:
                return node.value
            if local:
                text = TaggedStr(node.value)
                text.tag, text.span = tag, _node_span(node)
                return text
            constructor = self.scalars.get(tag)
            if constructor is None:
                raise YamlError(f"unsupported tag {tag}", node.start_mark.line + 1)
            return constructor(self.loader, node)
        if isinstance(node, yaml.SequenceNode):
            if not (local or tag in _SEQ_TAGS):
                raise YamlError(f"unsupported tag {tag}", node.start_mark.line + 1)
            seq = TaggedList() if local else YList()
            if local:
                seq.tag = tag
            seq.span = _node_span(node)
            seq.item_spans = [_node_span(child) for child in node.value]
            self.memo[id(node)] = seq
            seq.extend(self.build(child) for child in node.value)
            return seq
        if not (local or tag in _MAP_TAGS):
            raise YamlError(f"unsupported tag {tag}", node.start_mark.line + 1)
        mapping = TaggedMap() if local else YMap()
        if local:
            mapping.tag = tag
        mapping.span = _node_span(node)
        mapping.key_spans = {}
        self.memo[id(node)] = mapping
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        for key_node, value_node in node.value:
            key = self.build(key_node)
            try:
                hash(key)
            except TypeError:
                raise YamlError("unhashable mapping key", key_node.start_mark.line + 1) from None
            mapping[key] = self.build(value_node)
            first = key_node.start_mark.line + 1
            mapping.key_spans[key] = (first, max(_node_span(value_node)[1], first))
        return mapping


def load_all(text: str) -> list[Any]:
    """Every document of ``text``; raises :class:`YamlError` with a line on bad input."""
    loader = _BaseLoader(text)
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            doc = _Builder(loader).build(node) if node is not None else None
            _check_expansion(doc)
            docs.append(doc)
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


def _check_expansion(doc: Any) -> None:
    """Count nodes as if every alias were expanded (memoised, so linear in real nodes)."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(obj: Any) -> int:
        if not isinstance(obj, (dict, list)):
            return 1
        key = id(obj)
        if key in memo:
            return memo[key]
        if key in active:
            raise YamlError("recursive alias")
        active.add(key)
        children = obj.values() if isinstance(obj, dict) else obj
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                raise YamlError(f"aliases expand past {MAX_EXPANDED_NODES} nodes; refused")
        active.discard(key)
        memo[key] = total
        return total

    size(doc)


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
