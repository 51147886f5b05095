"""The user's values as helm will merge them: every ``-f`` in order, then every ``--set*`` flag.

``read_file`` reads one ``-f`` file with its line numbers and says which chart it was
written for: the wrapper chart (top-level ``ck8s``/``jupyterhub``), the upstream chart
(any other top-level keys, as in the platform guide), or both, which is refused with
one line naming the keys of each. ``merge`` folds the layers into one
``values_lint.Values`` (maps merge, anything else replaces, as helm does), keeping for
every value the file and line it came from and its end-of-line comment.
``parse_set`` reads helm's ``--set``, ``--set-string``, ``--set-file``, ``--set-json``
and ``--set-literal`` syntax; a flag it cannot read is left to helm to report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike as _PathLike
from pathlib import Path as PathType
from typing import Any

from .errors import UserError
from .release import SET_FLAGS_APPLIED
from .values_lint import Finding, Origin, Path, Values, allowed_from, is_allowed, lint, lint_gitops

PathLike = str | _PathLike[str]

WRAPPER = "wrapper"
UPSTREAM = "upstream"
EMPTY = "empty"


class ValuesShapeError(UserError):
    """A values file mixes the wrapper chart's keys and the upstream chart's."""


@dataclass(frozen=True)
class ValuesFile:
    """One ``-f`` file: its text, its values (ruamel, with line numbers) and its shape."""

    path: str
    text: str
    data: Any  # CommentedMap or None (empty file)
    shape: str


def read_file(path: str, *, wrapper_chart: bool = True) -> ValuesFile:
    """Read ``path`` (``UserError`` with one line when it cannot be read or parsed)."""
    from .inputs import read_text
    from .values_import import WRAPPER_KEYS, ValuesImportError, parse_values

    text = read_text(path)
    try:
        data = parse_values(text)
    except ValuesImportError as exc:
        raise UserError(f"{path}: {exc}") from None
    if data is None or not data:
        return ValuesFile(path, text, data, EMPTY)
    if not wrapper_chart:
        return ValuesFile(path, text, data, UPSTREAM)
    keys = [str(key) for key in data]
    ours = [key for key in keys if key in WRAPPER_KEYS]
    others = [key for key in keys if key not in WRAPPER_KEYS]
    if ours and others:
        raise ValuesShapeError(
            f"{path}: mixes values for the wrapper chart ({', '.join(ours)}) with values for the upstream chart "
            f"({', '.join(others)}) at the top level; nest the upstream ones under jupyterhub:, or keep them in a file of their own"
        )
    return ValuesFile(path, text, data, WRAPPER if ours else UPSTREAM)


# --- merging -----------------------------------------------------------------------------------


def _first_line(token: Any) -> str | None:
    value = getattr(token, "value", None)
    if not isinstance(value, str):
        return None
    line = value.strip().split("\n", 1)[0].strip()
    return line if line.startswith("#") else None


def _eol_comment(node: Any, key: Any) -> str | None:
    ca = getattr(node, "ca", None)
    entry = ca.items.get(key) if ca is not None else None
    if not entry:
        return None
    index = 2 if isinstance(node, Mapping) else 0
    return _first_line(entry[index]) if len(entry) > index else None


def _line(node: Any, key: Any) -> int | None:
    lc = getattr(node, "lc", None)
    data = getattr(lc, "data", None) if lc is not None else None
    if not isinstance(data, dict) or key not in data:
        line = getattr(lc, "line", None) if lc is not None else None
        return line + 1 if isinstance(line, int) else None
    return int(data[key][0]) + 1


def _forget(values: Values, path: Path) -> None:
    """Drop the origins and comments of ``path`` and everything below it."""
    size = len(path)
    for known in [p for p in values.origins if p[:size] == path]:
        del values.origins[known]
    for known in [p for p in values.comments if p[:size] == path]:
        del values.comments[known]


def _plain(node: Any, depth: int = 0) -> Any:
    if depth > 100:
        return None
    if isinstance(node, Mapping):
        return {str(key): _plain(value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value, depth + 1) for value in node]
    return node


@dataclass(frozen=True)
class _Layer:
    source: str
    strip: int
    lines: bool  # ruamel nodes with line numbers and comments


def _note(values: Values, layer: _Layer, parent: Any, key: Any, path: Path) -> None:
    values.origins[path] = Origin(layer.source, _line(parent, key) if layer.lines else None, layer.strip)
    comment = _eol_comment(parent, key) if layer.lines else None
    if comment:
        values.comments[path] = comment


def _record(values: Values, layer: _Layer, node: Any, path: Path, depth: int = 0) -> None:
    """Origins (and comments) of everything below ``node``, written at ``path``."""
    if depth > 100:
        return
    children = (
        [(key, str(key), value) for key, value in node.items()] if isinstance(node, Mapping)
        else list((index, index, value) for index, value in enumerate(node)) if isinstance(node, list) else []
    )
    for key, name, value in children:
        here = (*path, name)
        _note(values, layer, node, key, here)
        _record(values, layer, value, here, depth + 1)


def _merge_into(values: Values, target: dict[str, Any], node: Mapping[str, Any], path: Path, layer: _Layer, depth: int = 0) -> None:
    """Merge ``node`` into ``target`` as helm does: maps merge, anything else replaces."""
    if depth > 100:
        return
    for key, value in node.items():
        name = str(key)
        here = (*path, name)
        if isinstance(value, Mapping) and isinstance(target.get(name), dict):
            _note(values, layer, node, key, here)
            _merge_into(values, target[name], value, here, layer, depth + 1)
            continue
        _forget(values, here)
        target[name] = _plain(value)
        _note(values, layer, node, key, here)
        _record(values, layer, value, here, depth + 1)


def add_defaults(values: Values, data: Mapping[str, Any]) -> None:
    """The chart's own values: merged in, with no origin (never judged as written by the user)."""
    values.data = _deep_merge(values.data, _plain(data))


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def add_file(values: Values, file: ValuesFile, *, wrapper_chart: bool = True) -> None:
    """One ``-f`` file over what is there (for the wrapper chart, an upstream-shaped file
    goes under ``jupyterhub``, as ``import-values`` nests it)."""
    if file.data is None or file.shape == EMPTY:
        return
    if file.shape == UPSTREAM and wrapper_chart:
        target = values.data.get("jupyterhub")
        if not isinstance(target, dict):
            target = values.data["jupyterhub"] = {}
        values.origins.setdefault(("jupyterhub",), Origin(file.path, None, 1))
        _merge_into(values, target, file.data, ("jupyterhub",), _Layer(file.path, 1, True))
    else:
        _merge_into(values, values.data, file.data, (), _Layer(file.path, 0, True))


def add_set(values: Values, flag: str, text: str) -> None:
    """One ``--set*`` flag over what is there (a flag that does not parse is left to helm)."""
    try:
        pairs = parse_set(flag, text)
    except ValueError:
        return
    for path, value in pairs:
        layer: dict[str, Any] = {}
        _place(layer, path, value)
        _merge_into(values, values.data, layer, (), _Layer(flag, 0, False))


def _place(layer: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = layer
    for index, part in enumerate(path):
        last = index == len(path) - 1
        following: Any = value if last else ([] if isinstance(path[index + 1], int) else {})
        if isinstance(part, int):
            while len(node) <= part:
                node.append(None)
            if last or node[part] is None:
                node[part] = following
            node = node[part]
        else:
            if last or part not in node:
                node[part] = following
            node = node[part]


# --- helm's --set syntax --------------------------------------------------------------------------

_INDEX = re.compile(r"\[(\d+)\]")


def _split(text: str, separator: str, *, braces: bool) -> list[str]:
    parts, current, depth, escaped = [], "", 0, False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif braces and char == "{":
            depth += 1
            current += char
        elif braces and char == "}":
            depth -= 1
            current += char
        elif char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if escaped:
        current += "\\"
    parts.append(current)
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def key_path(key: str) -> Path:
    """``a.b[0].c`` -> ("a", "b", 0, "c"); ``\\.`` escapes a dot."""
    path: list[str | int] = []
    for part in _split(key, ".", braces=False):
        name, _, rest = part.partition("[")
        rest = "[" + rest if rest else ""
        if not name and not rest:
            raise ValueError(f"empty key in {key!r}")
        if name:
            path.append(_unescape(name))
        consumed = "".join(f"[{m.group(1)}]" for m in _INDEX.finditer(rest))
        if consumed != rest:
            raise ValueError(f"bad index in {key!r}")
        path.extend(int(m.group(1)) for m in _INDEX.finditer(rest))
    return tuple(path)


def _typed(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"[-+]?[1-9][0-9]*|0", text):
        return int(text)
    return text


def parse_set(flag: str, text: str) -> list[tuple[Path, Any]]:
    """The (key path, value) pairs of one ``--set*`` flag; ValueError when it does not parse."""
    if flag == "--set-literal":
        key, equals, literal = text.partition("=")
        if not equals:
            raise ValueError("no =")
        return [(key_path(key), literal)]
    if flag == "--set-json":
        pairs: list[tuple[Path, Any]] = []
        rest = text
        decoder = json.JSONDecoder()
        while rest:
            key, equals, rest = rest.partition("=")
            if not equals:
                raise ValueError("no =")
            decoded, end = decoder.raw_decode(rest)
            pairs.append((key_path(key), decoded))
            rest = rest[end:]
            if rest.startswith(","):
                rest = rest[1:]
            elif rest:
                raise ValueError("junk after JSON")
        return pairs
    pairs = []
    for item in _split(text, ",", braces=True):
        key, equals, raw = item.partition("=")
        if not equals:
            raise ValueError("no =")
        path = key_path(key)
        value: Any
        if flag == "--set-file":
            from .inputs import read_text

            try:
                value = read_text(_unescape(raw))
            except UserError:
                raise ValueError("unreadable") from None
        elif raw.startswith("{") and raw.endswith("}"):
            items = [_unescape(x) for x in _split(raw[1:-1], ",", braces=False)] if raw[1:-1] else []
            value = items if flag == "--set-string" else [_typed(x) for x in items]
        else:
            value = _unescape(raw) if flag == "--set-string" else _typed(_unescape(raw))
        pairs.append((path, value))
    return pairs


# --- everything a rendering command does with the user's values before helm runs --------------


@dataclass
class Prepared:
    """The ``-f`` files to hand helm (upstream-shaped ones imported into a temporary copy),
    the notes to show, and the linter's findings: refused ones and those accepted on purpose."""

    files: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    accepted: list[Finding] = field(default_factory=list)


def _is_local(path: str) -> bool:
    """A file we can read (stdin, URLs and missing files are left to helm, which says why)."""
    return path != "-" and "://" not in path and PathType(path).is_file()


def chart_defaults(chart_dir: PathLike) -> dict[str, Any]:
    """The chart's own values.yaml (``{}`` when absent or unreadable: helm will say why)."""
    from .values_import import ValuesImportError, parse_values

    try:
        text = (PathType(chart_dir) / "values.yaml").read_text(encoding="utf-8")
        data = parse_values(text)
    except (OSError, UnicodeDecodeError, ValuesImportError):
        return {}
    return _plain(data) if isinstance(data, Mapping) else {}


def prepare(
    files: Sequence[str],
    set_flags: Sequence[tuple[str, str]],
    allow: Sequence[str],
    workdir: PathLike,
    *,
    wrapper_chart: bool,
    defaults: Mapping[str, Any] | None = None,
    gitops: bool = False,
) -> Prepared:
    """Read, import and lint the user's values as helm will merge them (nothing is printed).

    For the wrapper chart, a file written for the upstream chart is converted in memory by
    ``values_import.import_values`` into ``workdir`` (the user's file is never rewritten)
    and its changes become notes. ``UserError`` for a file that cannot be read, is not a
    mapping, or mixes both shapes.
    """
    from .values_import import ValuesImportError, import_values

    values = Values()
    if defaults:
        add_defaults(values, defaults)
    handed: list[str] = []
    notes: list[str] = []
    for index, path in enumerate(files):
        if not _is_local(path):
            handed.append(path)
            continue
        file = read_file(path, wrapper_chart=wrapper_chart)
        add_file(values, file, wrapper_chart=wrapper_chart)
        if file.shape == UPSTREAM and wrapper_chart:
            try:
                result = import_values(file.text)
            except ValuesImportError as exc:
                raise UserError(f"{path}: {exc}") from None
            copy = PathType(workdir) / f"values-{index}-imported.yaml"
            copy.write_text(result.text, encoding="utf-8")
            handed.append(str(copy))
            notes.append(f"{path}: values for the upstream chart, imported in memory (as import-values does; the file is unchanged):")
            notes += [f"  {change}" for change in result.changes]
        else:
            handed.append(path)
    for flag in SET_FLAGS_APPLIED:
        for given, text in set_flags:
            if given == flag:
                add_set(values, flag, text)
    allowed = allowed_from(values, allow, wrapper=wrapper_chart)
    root: tuple[str, ...] = ("jupyterhub",) if wrapper_chart else ()
    findings = lint(values, upstream_root=root)
    # GitOps findings are never accepted on purpose: a secret in git, or a render that changes at random
    refused = lint_gitops(values, upstream_root=root) if gitops else []
    return Prepared(
        tuple(handed), notes,
        [f for f in findings if not is_allowed(f, allowed)] + refused,
        [f for f in findings if is_allowed(f, allowed)],
    )


def lint_text(text: str, source: str, *, wrapper_chart: bool = True, allow: Sequence[str] = ()) -> tuple[list[Finding], list[Finding]]:
    """(refused, accepted) findings of one values file's text (what ``import-values`` and
    ``init`` write), with the wrapper chart's defaults when ``wrapper_chart``."""
    from .values_import import ValuesImportError, parse_values

    try:
        data = parse_values(text)
    except ValuesImportError as exc:
        raise UserError(f"{source}: {exc}") from None
    values = Values()
    if wrapper_chart:
        from .chart import WRAPPER_DIR
        from .release import plugin_root

        add_defaults(values, chart_defaults(plugin_root() / WRAPPER_DIR))
    if data:
        keys = [str(key) for key in data]
        shape = WRAPPER if any(k in ("ck8s", "jupyterhub") for k in keys) or not wrapper_chart else UPSTREAM
        add_file(values, ValuesFile(source, text, data, shape), wrapper_chart=wrapper_chart)
    allowed = allowed_from(values, allow, wrapper=wrapper_chart)
    findings = lint(values, upstream_root=("jupyterhub",) if wrapper_chart else ())
    return [f for f in findings if not is_allowed(f, allowed)], [f for f in findings if is_allowed(f, allowed)]


__all__ = [
    "EMPTY",
    "UPSTREAM",
    "WRAPPER",
    "Prepared",
    "ValuesFile",
    "ValuesShapeError",
    "add_defaults",
    "add_file",
    "add_set",
    "chart_defaults",
    "key_path",
    "lint_text",
    "parse_set",
    "prepare",
    "read_file",
]
