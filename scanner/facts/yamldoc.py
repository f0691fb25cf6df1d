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


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode):
    data = YMap()
    data.span = _node_span(node)
    data.key_spans = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise YamlError("unhashable mapping key", key_node.start_mark.line + 1)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_spans[key] = (key_node.start_mark.line + 1, max(_node_span(value_node)[1], key_node.start_mark.line + 1))


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode):
    data = YList()
    data.span = _node_span(node)
    data.item_spans = []
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_spans.append(_node_span(child))


class TaggedList(YList):
    """A sequence under an application tag (GitLab ``!reference``, CloudFormation ``!GetAZs``)."""

    tag: str = ""


class TaggedMap(YMap):
    tag: str = ""


class TaggedStr(str):
    """A scalar under an application tag (CloudFormation ``!Ref Bucket``)."""

    tag: str = ""
    span: Span = (0, 0)


def _construct_local_tag(loader: "_LineLoader", suffix: str, node: yaml.Node):
    """Keep application tags as data (never as Python objects): the value, marked with its tag."""
    tag = "!" + suffix
    if isinstance(node, yaml.SequenceNode):
        seq = TaggedList(loader.construct_object(child, deep=True) for child in node.value)
        seq.item_spans = [_node_span(child) for child in node.value]
        value = seq
    elif isinstance(node, yaml.MappingNode):
        value = TaggedMap()
        value.key_spans = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            value[key] = loader.construct_object(value_node, deep=True)
            value.key_spans[key] = (key_node.start_mark.line + 1, _node_span(value_node)[1])
    else:
        value = TaggedStr(loader.construct_scalar(node))
    value.tag = tag
    value.span = _node_span(node)
    return value


_LineLoader.add_multi_constructor("!", _construct_local_tag)
_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:omap", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_all(text: str) -> list[Any]:
    """Every document of ``text``; raises :class:`YamlError` with a line on bad input."""
    loader = _LineLoader(text)
    docs: list[Any] = []
    try:
        while loader.check_data():
            doc = loader.get_data()
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
