"""The YAML dialect of the project: read scalars as Go reads them, write strings no reader mistakes.

Helm, kubectl and the API server read YAML with Go (``sigs.k8s.io/yaml``, go-yaml v2
rules); the hub reads its ``values.yaml`` with PyYAML (YAML 1.1). PyYAML's own resolver
follows YAML 1.1 and disagrees with Go on plain scalars such as ``0921``, ``3e19``,
``0o17``, ``1_000``, ``y`` and ``n``. Guarantees:

* **reading** (``load``): a plain scalar means what it means to Go. ``0921`` and
  ``3e19`` are floats, ``0o17``, ``017``, ``0x1F``, ``0b101`` and ``1_000`` integers,
  ``y``/``n``/``yes``/``on``/``off``/``true`` booleans (any of Go's spellings), ``~``,
  ``null`` and the empty scalar null, dates and ``1:20`` strings, ``=`` a string.
  So a document the post-renderer re-emits keeps the meaning Helm gave it.
* **writing** (``dump``): a string is written plain only if Go, a YAML 1.2 core-schema
  reader and a YAML 1.1 reader (the hub's PyYAML) all read that plain text back as the
  same string; otherwise it is quoted. Strings holding line or paragraph separators,
  a byte-order mark or control characters are written double-quoted with escapes, so
  no reader folds them into line breaks. Multi-line strings use literal block style
  where YAML allows it (ConfigMap scripts stay readable).
* **aliases**: ``check_aliasing`` refuses a document whose alias expansion Go refuses
  ("document contains excessive aliasing"), with the same counting rule as go-yaml v2;
* **depth**: ``load`` refuses a document nesting deeper than ``MAX_DEPTH`` (TooDeep);
* **speed, same result**: ``load`` builds plain data straight from libyaml's nodes and
  ``dump`` writes plain data straight to text, each exactly as PyYAML's safe constructor
  and libyaml's emitter would (``tests/test_yamlio.py`` compares them on every recorded
  render and on generated data); anything else goes through PyYAML itself.

Before (PyYAML's stock dumper, a string ``"0921"``)::

    checksum/auth-token: 0921        # Go reads the number 921

After (``dump``)::

    checksum/auth-token: '0921'
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

# go-yaml v2 resolve.go: exact spellings looked up before anything else.
_GO_WORDS: dict[str, tuple[str, Any]] = {}
for _words, _tag, _value in (
    (("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), BOOL, True),
    (("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), BOOL, False),
    (("", "~", "null", "Null", "NULL"), NULL, None),
    ((".nan", ".NaN", ".NAN"), FLOAT, math.nan),
    ((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), FLOAT, math.inf),
    (("-.inf", "-.Inf", "-.INF"), FLOAT, -math.inf),
    (("<<",), MERGE, "<<"),
):
    for _word in _words:
        _GO_WORDS[_word] = (_tag, _value)
del _words, _tag, _value, _word

# go-yaml v2 only looks further at scalars that start with a digit, a sign or a dot.
_NUMERIC_START = frozenset("0123456789+-.")
# First characters of every plain scalar Go reads as something other than a string.
_MAYBE_NOT_STRING = _NUMERIC_START | frozenset("yYnNtTfFoO~<")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")  # yamlStyleFloat
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?\Z")  # what strconv.ParseFloat takes after a leading dot
_INT64_MIN, _UINT64_MAX = -(1 << 63), (1 << 64) - 1
_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 10: frozenset("0123456789"), 8: frozenset("01234567"), 2: frozenset("01")}


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, falling back to ``ParseUint``: the int or None."""
    sign = 1
    body = text
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    base = 10
    if len(body) > 1 and body[0] == "0":
        prefix = body[1].lower()
        if prefix in "xob":
            base = {"x": 16, "o": 8, "b": 2}[prefix]
            body = body[2:]
        else:
            base = 8
            body = body[1:]
    if not body or not set(body) <= _DIGITS[base]:
        return None
    value = sign * int(body, base)
    if value < _INT64_MIN or value > _UINT64_MAX or (sign < 0 and value < _INT64_MIN):
        return None
    if text[:1] in "+-" and value > (1 << 63) - 1:
        return None  # ParseUint takes no sign; ParseInt stops at the int64 range
    return value


def _go_parse_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` on text already matched by a float pattern."""
    value = float(text)
    return None if math.isinf(value) else value  # out of range: ErrRange, and Go keeps the string


def go_resolve(text: str) -> tuple[str, Any]:
    """(tag, value) of a plain scalar as go-yaml v2 resolves it when decoding into interface{}.

    Timestamps are strings there (v2 keeps them as text for ``interface{}`` targets).
    """
    word = _GO_WORDS.get(text)
    if word is not None:
        return word
    first = text[0]
    if first not in _NUMERIC_START:
        return STR, text
    if first == ".":
        if _DOT_FLOAT.match(text):
            value = _go_parse_float(text)
            if value is not None:
                return FLOAT, value
        return STR, text
    plain = text.replace("_", "")
    if plain:
        number = _go_parse_int(plain)
        if number is not None:
            return INT, number
        if _GO_FLOAT.match(plain):
            value = _go_parse_float(plain)
            if value is not None:
                return FLOAT, value
    return STR, text


# --- what other readers make of a plain scalar --------------------------------------------

_CORE_12 = re.compile(  # the YAML 1.2 core schema's non-string plain scalars
    r"(~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN)?\Z"
)
_YAML_11 = yaml.resolver.Resolver()  # PyYAML's own YAML 1.1 rules: what the hub's safe_load does


def plain_is_safe(text: str) -> bool:
    """True if Go, a YAML 1.2 core reader and a YAML 1.1 reader all read plain ``text`` as itself."""
    if not text or go_resolve(text)[0] != STR or _CORE_12.match(text):
        return False
    return _YAML_11.resolve(ScalarNode, text, (True, False)) == STR


# Characters that YAML readers treat as line breaks or that must never be written raw.
_NEEDS_ESCAPES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


# --- loader ------------------------------------------------------------------------------

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Loader(_BaseLoader):
    """PyYAML's safe loader (libyaml when present) with go-yaml v2's scalar resolution.

    ``resolve`` is called by the C composer for every scalar. Most scalars start with a
    letter and are not one of Go's words: they are strings at the cost of two lookups.
    """

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return STR
            if value and value[0] not in _MAYBE_NOT_STRING:
                return STR
            return go_resolve(value)[0]
        return SEQ if kind is SequenceNode else MAP

    def construct_go_scalar(self, node: ScalarNode) -> Any:
        tag, value = go_resolve(node.value)
        if tag == node.tag:
            return value
        # An explicit tag (``!!int "12"``): Go converts the text by that tag's rules.
        if node.tag == INT:
            number = _go_parse_int(node.value.replace("_", ""))
            if number is None:
                raise yaml.constructor.ConstructorError(None, None, "not an integer", node.start_mark)
            return number
        if node.tag == FLOAT:
            try:
                return float(node.value.replace("_", ""))
            except ValueError:
                raise yaml.constructor.ConstructorError(None, None, "not a float", node.start_mark) from None
        raise yaml.constructor.ConstructorError(None, None, "not a boolean", node.start_mark)


for _tag in (INT, FLOAT, BOOL):
    Loader.add_constructor(_tag, Loader.construct_go_scalar)
# "<<" as a key merges a mapping (PyYAML and Go alike); as a value Go reads the text.
Loader.add_constructor(MERGE, lambda _loader, node: node.value)


_FAST_SCALARS = frozenset({STR, INT, FLOAT, BOOL, NULL})


MAX_DEPTH = 100  # Kubernetes objects nest about 20 levels; deeper input is hostile


class TooDeep(ValueError):
    """A document nests mappings and lists deeper than its reader allows."""


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True if ``value`` nests mappings and lists more than ``limit`` levels (also for cycles)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _build(root: Node, max_depth: int) -> Any:
    """Python objects from composed nodes, for the plain data Kubernetes manifests hold.

    Equivalent to PyYAML's safe constructor for mappings, sequences and the scalar tags
    in ``_FAST_SCALARS``, without its generic machinery (a third of the load time).
    Anything else (an explicit tag such as ``!!binary``, a ``<<`` merge key, a mapping or
    sequence used as a key) raises _NotPlain, and ``load`` lets the safe constructor do it.
    An alias yields the same object as its anchor, as in PyYAML.
    """
    built: dict[int, Any] = {}
    holder: list[Any] = [None]
    stack: list[tuple[Node, Any, Any, int]] = [(root, holder, 0, 1)]
    while stack:
        node, parent, key, depth = stack.pop()
        known = built.get(id(node))
        if known is not None:
            parent[key] = known
            continue
        kind = type(node)
        if kind is ScalarNode:
            tag = node.tag
            if tag == STR:
                value: Any = node.value
            elif tag in _FAST_SCALARS:
                resolved_tag, value = go_resolve(node.value)
                if resolved_tag != tag:
                    raise _NotPlain
            else:
                raise _NotPlain
        elif depth > max_depth:
            raise TooDeep(f"nests deeper than {max_depth} levels")
        elif kind is MappingNode:
            if node.tag != MAP:
                raise _NotPlain
            value = {}
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag not in _FAST_SCALARS:
                    raise _NotPlain
                name = key_node.value if key_node.tag == STR else go_resolve(key_node.value)[1]
                value[name] = None  # keeps the order; filled below
                stack.append((value_node, value, name, depth + 1))
        else:
            if node.tag != SEQ:
                raise _NotPlain
            value = [None] * len(node.value)
            for index, item in enumerate(node.value):
                stack.append((item, value, index, depth + 1))
        if kind is not ScalarNode:
            built[id(node)] = value
        parent[key] = value
    return holder[0]


class _NotPlain(Exception):
    """A document the fast builder leaves to PyYAML's safe constructor."""


def compose(text: str | bytes) -> Node | None:
    """The document's node graph, composed by libyaml with Go's scalar resolution."""
    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _build_from_events(text: str | bytes, max_depth: int) -> Any:
    """What ``_build(compose(text))`` returns, straight from libyaml's events.

    No node graph is kept: a large document (the hub's ``values.yaml``) costs its objects
    only, not five times that in nodes and marks. Mapping keys are shared strings. Only
    plain data without anchors is built here; anything else (an anchor or alias, a tag
    ``_build`` leaves to PyYAML, too deep, malformed, more than one document) raises, and
    ``load`` takes the node path, which gives that input its answer or its error. As in
    ``_build``, the first of two equal keys keeps its value.
    """
    loader = Loader(text)
    try:
        get = loader.get_event
        resolve = loader.resolve
        get()  # StreamStartEvent
        event = get()
        if type(event) is StreamEndEvent:
            return None
        keys: dict[str, str] = {}
        holder: list[Any] = []
        # open collections: (container, is_mapping); for a mapping, the key awaiting its value
        stack: list[tuple[Any, bool]] = [(holder, False)]
        pending: list[Any] = [_NO_KEY]
        container: Any = holder
        is_mapping = False
        while True:
            event = get()
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor is not None:
                    raise _NotPlain
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(ScalarNode, event.value, event.implicit)
                if is_mapping and pending[-1] is _NO_KEY:
                    if tag not in _FAST_SCALARS:
                        raise _NotPlain
                    name = event.value if tag == STR else go_resolve(event.value)[1]
                    if type(name) is str:
                        name = keys.setdefault(name, name)
                    pending[-1] = name
                    continue
                value: Any = event.value
                if tag != STR:
                    if tag not in _FAST_SCALARS:
                        raise _NotPlain
                    resolved_tag, value = go_resolve(value)
                    if resolved_tag != tag:
                        raise _NotPlain
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or (is_mapping and pending[-1] is _NO_KEY):
                    raise _NotPlain  # an anchor, or a collection used as a key
                tag = event.tag
                mapping = kind is MappingStartEvent
                if tag is not None and tag != "!" and tag != (MAP if mapping else SEQ):
                    raise _NotPlain
                if len(stack) > max_depth:
                    raise TooDeep(f"nests deeper than {max_depth} levels")
                value = {} if mapping else []
                _place(container, is_mapping, pending, value)
                stack.append((value, mapping))
                pending.append(_NO_KEY)
                container, is_mapping = value, mapping
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
                pending.pop()
                container, is_mapping = stack[-1]
                continue
            elif kind is DocumentEndEvent:
                if type(get()) is not StreamEndEvent:
                    raise _NotPlain  # more than one document: the node path says so
                return holder[0] if holder else None
            else:  # an alias
                raise _NotPlain
            _place(container, is_mapping, pending, value)
    finally:
        loader.dispose()


_NO_KEY = object()


def _place(container: Any, is_mapping: bool, pending: list[Any], value: Any) -> None:
    """Put a built value into the open collection (for a mapping, under its pending key)."""
    if is_mapping:
        name = pending[-1]
        if name not in container:
            container[name] = value
        pending[-1] = _NO_KEY
    else:
        container.append(value)  # a sequence, or the document's holder


def load(text: str | bytes, *, check_aliases: bool = False, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one YAML document (text, or UTF-8 bytes) with Go's meaning of plain scalars.

    A document nesting deeper than ``max_depth`` raises TooDeep (serialisers and copies
    recurse: such input would crash them). With ``check_aliases``, a document Go would
    refuse for its aliases raises ExcessiveAliasing (see ``check_aliasing``).
    """
    try:
        return _build_from_events(text, max_depth)
    except Exception:
        pass
    root = compose(text)
    if root is None:
        return None
    if check_aliases and isinstance(text, bytes):
        text = text.decode("utf-8")
    if check_aliases and "&" in text and "*" in text:
        _check_node_aliasing(root)
    try:
        return _build(root, max_depth)
    except _NotPlain:
        pass
    obj = yaml.load(text, Loader=Loader)  # Loader is a SafeLoader: no arbitrary objects
    if too_deep(obj, max_depth):
        raise TooDeep(f"nests deeper than {max_depth} levels")
    return obj


# --- dumper ------------------------------------------------------------------------------


class Dumper(_BaseDumper):
    """PyYAML's safe dumper (libyaml when present) that quotes whatever any reader could mistake."""

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return STR
            tag = go_resolve(value)[0] if value else NULL
            if tag == STR and not plain_is_safe(value):
                return "tag:jhub-ck8s,2026:ambiguous"  # not str: the emitter must quote it
            return tag
        return SEQ if kind is SequenceNode else MAP

    def represent_go_str(self, data: str) -> ScalarNode:
        style = None
        if _NEEDS_ESCAPES.search(data):  # control characters and NEL, LS, PS: escaped
            style = '"'
        elif "\n" in data:
            style = "|"
        return self.represent_scalar(STR, data, style=style)


Dumper.add_representer(str, Dumper.represent_go_str)


def dump(obj: Any, *, sort_keys: bool = False) -> str:
    """Serialise one object in block style, keys in their order, no line folding.

    The text is exactly what PyYAML (libyaml's emitter) writes with ``Dumper``: plain
    Kubernetes data takes ``_BlockWriter``, a direct writer of that same text (a
    fifth of the time); anything it does not handle goes to PyYAML.
    """
    return "".join(dump_pieces(obj, sort_keys=sort_keys))


def dump_pieces(obj: Any, *, sort_keys: bool = False) -> list[str]:
    """``dump``'s text in pieces, to be joined once by whoever writes them.

    A scalar of tens of MB (a Secret's base64 hub config) is a piece of its own, the
    very string of the object: the stream's one join is then its only copy.
    """
    if isinstance(obj, dict):
        try:
            return _BlockWriter(sort_keys).document(obj)
        except _NotPlain:
            pass
    return [yaml.dump(
        obj,
        Dumper=Dumper,
        sort_keys=sort_keys,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )]


# Text a one-line scalar may hold for the direct writer: printable ASCII, which libyaml
# writes as it is. (Other text goes to PyYAML; a character class spanning Unicode would
# cost more to compile at start-up than all the strings of a release take to check.)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*\Z")
_LEADING_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
# libyaml writes a simple key of at most this many characters; longer ones as "? key"
_SIMPLE_KEY_LIMIT = 128


class _BlockWriter:
    """Writes plain data (dicts, lists, one-line strings, ints, floats, bools, None) as
    libyaml's emitter does for ``dump``; raises _NotPlain for anything else.

    The rules are libyaml's (``yaml_emitter_analyze_scalar`` and
    ``yaml_emitter_select_scalar_style``) for block style, indent 2, unlimited width:
    a mapping's sequence is not indented; a string is plain when ``Dumper.resolve``
    allows it and no indicator forbids it, else single-quoted. Shared containers
    (which PyYAML writes as anchors) and long keys are left to PyYAML.
    """

    # Lines are joined into a chunk every _CHUNK_LINES, and the cache of string texts is
    # emptied past _CACHE_SIZE: a hub config of tens of MB is a million lines, which as
    # separate strings (and cache entries) took more memory than the text they make.
    # A scalar text of _BIG_SCALAR characters or more is a chunk of its own, not copied.
    _CHUNK_LINES = 4096
    _CACHE_SIZE = 4096
    _BIG_SCALAR = 1 << 16

    def __init__(self, sort_keys: bool) -> None:
        self.sort_keys = sort_keys
        self.lines: list[str] = []
        self.chunks: list[str] = []
        self.seen: set[int] = set()
        self.texts: dict[str, str] = {}

    def document(self, obj: dict[str, Any]) -> list[str]:
        if not obj:
            return ["{}\n"]
        self.mapping(obj, 0)
        self._flush()
        return self.chunks

    def _flush(self) -> None:
        """The lines so far into one chunk, each ending in a newline."""
        if self.lines:
            self.lines.append("")
            self.chunks.append("\n".join(self.lines))
            self.lines.clear()

    def _container(self, value: Any) -> None:
        if id(value) in self.seen:
            raise _NotPlain  # an alias: PyYAML writes an anchor
        self.seen.add(id(value))

    def _items(self, mapping: dict[Any, Any]) -> list[tuple[Any, Any]]:
        items = list(mapping.items())
        if self.sort_keys:
            # keys that do not compare keep their order, as in PyYAML: sorted(), since a
            # failed list.sort() leaves the list partly reordered
            with contextlib.suppress(TypeError):
                items = sorted(items)
        return items

    def mapping(self, mapping: dict[Any, Any], indent: int, first_prefix: str | None = None) -> None:
        self._container(mapping)
        pad = " " * indent
        for index, (key, value) in enumerate(self._items(mapping)):
            key_text = self.scalar(key, key=True)
            head = (first_prefix if index == 0 and first_prefix is not None else pad) + key_text + ":"
            self.value(head, value, indent, in_mapping=True)

    def sequence(self, items: list[Any], indent: int, first_prefix: str | None = None) -> None:
        self._container(items)
        pad = " " * indent
        for index, item in enumerate(items):
            head = (first_prefix if index == 0 and first_prefix is not None else pad) + "-"
            self.value(head, item, indent, in_mapping=False)

    def value(self, head: str, value: Any, indent: int, *, in_mapping: bool) -> None:
        kind = type(value)
        if kind is dict:
            if not value:
                self.lines.append(head + " {}")
            elif in_mapping:
                self.lines.append(head)
                self.mapping(value, indent + 2)
            else:  # "- key: value", the rest of the mapping under the first key
                self.mapping(value, indent + 2, first_prefix=head + " ")
        elif kind is list:
            if not value:
                self.lines.append(head + " []")
            elif in_mapping:  # a mapping's sequence is not indented
                self.lines.append(head)
                self.sequence(value, indent)
            else:
                self.sequence(value, indent + 2, first_prefix=head + " ")
        else:
            text = self.scalar(value, key=False)
            if len(text) >= self._BIG_SCALAR:
                self._flush()
                self.chunks += (head + " ", text, "\n")
                return
            self.lines.append(head + " " + text)
            if len(self.lines) >= self._CHUNK_LINES:
                self._flush()

    def scalar(self, value: Any, *, key: bool) -> str:
        kind = type(value)
        if kind is str:
            text = self.texts.get(value)
            if text is None:
                if len(self.texts) >= self._CACHE_SIZE:
                    self.texts.clear()
                text = self.texts[value] = _string_text(value)
            if key and len(value) > _SIMPLE_KEY_LIMIT:
                raise _NotPlain
            return text
        if kind is bool:
            return "true" if value else "false"
        if value is None:
            return "null"
        if kind is int:
            text = str(value)
        elif kind is float:
            text = _float_text(value)
        else:
            raise _NotPlain
        if go_resolve(text)[0] != (INT if kind is int else FLOAT):
            raise _NotPlain  # PyYAML would write an explicit tag
        return text


def _string_text(value: str) -> str:
    """One string as libyaml writes it in block context: plain if allowed, else single-quoted."""
    if not value.isascii() or not _PRINTABLE_ASCII.match(value):
        raise _NotPlain
    if value and plain_is_safe(value) and _block_plain_allowed(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def _block_plain_allowed(value: str) -> bool:
    """libyaml's analysis for a one-line, printable, non-empty string in block context."""
    if value[0] == " " or value[-1] == " " or value.startswith(("---", "...")):
        return False
    first = value[0]
    followed_by_space = len(value) == 1 or value[1] == " "
    if first in _LEADING_INDICATORS or (first in "?:-" and followed_by_space):
        return False
    return not (": " in value[1:] or (value.endswith(":") and len(value) > 1) or " #" in value)


def _float_text(value: float) -> str:
    """SafeRepresenter.represent_float's text."""
    if value != value:
        return ".nan"
    if value == math.inf:
        return ".inf"
    if value == -math.inf:
        return "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


# --- alias expansion, counted as go-yaml v2 counts it ------------------------------------

_ALIAS_RATIO_LOW, _ALIAS_RATIO_HIGH = 400_000, 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


class ExcessiveAliasing(ValueError):
    """The document's alias expansion is more than go-yaml v2 accepts."""


def check_aliasing(text: str) -> None:
    """Raise ExcessiveAliasing where Go refuses a document for its aliases.

    go-yaml v2 counts every node it decodes (the document node, keys, values and each
    ``*alias`` node) and, separately, those decoded inside an alias expansion; it stops
    with "document contains excessive aliasing" once more than 100 of more than 1000
    came from aliases at a ratio above ``_allowed_alias_ratio``, and it refuses an
    anchor that contains itself. PyYAML composes an alias as the anchored node object
    again, so an edge to a node already met is an alias. A document without both ``&``
    and ``*`` has no alias and costs two substring searches.
    """
    if "&" not in text or "*" not in text:
        return
    root = compose(text)
    if root is not None:
        _check_node_aliasing(root)


def _check_node_aliasing(root: Node) -> None:
    decoded, aliased = 1, 0  # the document node
    met: set[int] = set()
    open_nodes: set[int] = set()  # anchored values still being read: an alias to one is recursion
    alias_edges: set[tuple[int, int]] = set()
    # (node, alias depth, edge from the parent) to enter, or (node, -1, None) to leave at depth 0
    stack: list[tuple[Node, int, tuple[int, int] | None]] = [(root, 0, None)]
    while stack:
        node, depth, edge = stack.pop()
        if depth < 0:
            open_nodes.discard(id(node))
            continue
        if depth == 0 and id(node) in met and edge is not None:
            if id(node) in open_nodes:
                raise ExcessiveAliasing("an anchor's value contains an alias to itself")
            alias_edges.add(edge)
        if edge in alias_edges:
            decoded += 1  # the alias node itself
            aliased += 1 if depth else 0
            depth += 1
        decoded += 1
        aliased += 1 if depth else 0
        if aliased > 100 and decoded > 1000 and aliased / decoded > _allowed_alias_ratio(decoded):
            raise ExcessiveAliasing("document contains excessive aliasing")
        if depth == 0:
            met.add(id(node))
            open_nodes.add(id(node))
            stack.append((node, -1, None))
        if isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        else:
            continue
        for index in range(len(children) - 1, -1, -1):
            stack.append((children[index], depth, (id(node), index)))


# --- ruamel.yaml round trips (init, import-values): the same promise, comments kept -------

AMBIGUOUS = "tag:jhub-ck8s,2026:ambiguous"


def ruamel_yaml() -> Any:
    """A round-trip ``ruamel.yaml.YAML`` whose plain scalars mean what they mean to Go.

    Reading: a plain scalar Go reads as a boolean, number or null (``yes``, ``y``,
    ``0o17``, ``1_000``) is one here too, so a values file keeps Helm's meaning when it
    is written back. Writing: a string is plain only if ``plain_is_safe``; otherwise it
    is quoted, as ``dump`` does. Scalars read as text keep their text and quotes.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.nodes import ScalarNode as RuamelScalar
    from ruamel.yaml.representer import RoundTripRepresenter
    from ruamel.yaml.resolver import VersionedResolver
    from ruamel.yaml.tag import Tag

    class GoResolver(VersionedResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is RuamelScalar and implicit[0] and isinstance(value, str):
                tag = go_resolve(value)[0] if value else NULL
                if tag != STR:
                    return Tag(suffix=tag)
                own = super().resolve(kind, value, implicit)
                if own.value != STR:
                    return own  # a timestamp to ruamel: kept as written, and quoted if it is a string
                return own if plain_is_safe(value) else Tag(suffix=AMBIGUOUS)
            return super().resolve(kind, value, implicit)

    class GoConstructor(RoundTripConstructor):
        pass

    class GoRepresenter(RoundTripRepresenter):
        def represent_str(self, data: Any) -> Any:
            # as ``dump`` does: ruamel would write NEL (and other line breaks of YAML 1.1)
            # unescaped inside quotes, where readers fold it into a space
            if _NEEDS_ESCAPES.search(data):
                return self.represent_scalar(STR, data, style='"')
            return super().represent_str(data)

    GoRepresenter.add_representer(str, GoRepresenter.represent_str)

    # Go reads these as strings; only their plain spelling is ambiguous to other readers.
    GoConstructor.add_constructor(AMBIGUOUS, RoundTripConstructor.construct_yaml_str)

    yaml = YAML(typ="rt")
    yaml.Resolver = GoResolver
    yaml.Constructor = GoConstructor
    yaml.Representer = GoRepresenter
    yaml.width = 4096  # never re-wrap long lines
    return yaml
