"""YAML for untrusted manifests: safe, bounded, and strict.

PyYAML's ``safe_load`` builds no objects, but it still expands aliases without bound (a
1.6 KB "billion laughs" becomes tens of megabytes), nests without bound (a RecursionError
instead of an error message), and keeps the last of two equal keys silently. This loader
refuses each of them with a :class:`ManifestError` naming the line:

* at most :data:`MAX_BYTES` of text and :data:`MAX_DEPTH` levels of nesting;
* at most :data:`MAX_ALIASES` alias uses (anchors for small repeated blocks still work);
* a key that appears twice in one mapping is an error.
"""

from __future__ import annotations

from typing import Any

import yaml

from harness.errors import ManifestError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 50
MAX_ALIASES = 100
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


class _Refused(Exception):
    def __init__(self, message: str, node: Any) -> None:
        super().__init__(message)
        self.message = message
        self.line = node.start_mark.line + 1 if getattr(node, "start_mark", None) else None


#: libyaml's parser and composer where PyYAML has them (about 50 times faster), else PyYAML's
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BASE):  # type: ignore[valid-type, misc]
    """The safe loader that refuses a key given twice in one mapping. Depth and aliases are
    bounded by :func:`check_bounds`, on the composed nodes, before anything is built."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A key that appears twice in one mapping is refused (PyYAML keeps the last)."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the schema will reject it
                continue
            if duplicate:
                raise _Refused(f"key '{key}' appears twice in one mapping", key_node)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def check_bounds(root: Any) -> None:
    """Depth and alias uses of a composed document, before construction expands them.

    An alias is the same node object met again: each meeting is one alias use, and its
    subtree is not walked twice (so a bomb is counted, never expanded)."""
    seen: set[int] = set()
    aliases = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases (an alias bomb?)", node)
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", node)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.extend(((value, depth + 1), (key, depth + 1)))


def _load(text: str) -> Any:
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_bounds(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml(text: str, file: str) -> Any:
    """The data of one YAML document, or a ManifestError naming ``file`` and the line."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ManifestError(f"larger than {MAX_BYTES} bytes", file=file, field="(root)")
    try:
        return _load(text)
    except _Refused as exc:
        where = f"line {exc.line}" if exc.line else "(root)"
        raise ManifestError(exc.message, file=file, field=where) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(root)"
        problem = getattr(exc, "problem", None) or str(exc)
        if "maximum nesting depth" in problem:  # libyaml's own bound (1000), met first
            raise ManifestError(_TOO_DEEP, file=file, field=where) from None
        raise ManifestError(f"invalid YAML: {problem}", file=file, field=where) from exc
    except RecursionError:  # PyYAML's own composer (no libyaml) recursing past Python's limit
        raise ManifestError(_TOO_DEEP, file=file, field="(root)") from None
