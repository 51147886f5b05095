"""Turn a values file written for the upstream JupyterHub chart into one for the wrapper chart.

Users today follow the platform guide: a values file for the upstream ``jupyterhub`` chart
whose image names were rewritten by the guide's mirror-and-``sed`` loop (or were left as
the guide's bare ``name: k8s-hub`` overrides, which pull from Docker Hub and fail).
``import_values`` guarantees, for any mapping it accepts:

* every value ends up under ``jupyterhub:``, unchanged except for the image overrides below;
* image-name overrides at the chart's own image fields (``hub.image``, ``proxy.chp.image``,
  ``prePuller.pause.image``, ...; see ``IMAGE_FIELDS``) are removed when they are a bare
  name (``k8s-hub``), the upstream reference itself, or a mirror of the upstream image in
  another registry (``harbor.example.com/jupyterhub/jupyterhub/k8s-hub``): the
  post-renderer moves the upstream images instead. Tags, pull policies and any other image
  (custom singleuser images, profile images, extra images) are kept;
* the registry those mirrors point into becomes ``ck8s.registry`` (the ``registry``
  argument wins), and a single non-default ``imagePullSecrets`` name becomes
  ``ck8s.pullSecret``;
* comments and anchors survive (ruamel.yaml round trip). An anchor whose definition is
  removed while an alias still uses it moves to the first remaining use;
* every change is described in ``ImportResult.changes``, in order.

Before (the guide's sample)::

    hub:
      image:
        name: harbor.example.com/jupyterhub/jupyterhub/k8s-hub
      resources: &resourceDefaults
        requests: {cpu: 10m, memory: 512Mi}

After::

    ck8s:
      registry: harbor.example.com/jupyterhub
    jupyterhub:
      hub:
        resources: &resourceDefaults
          requests: {cpu: 10m, memory: 512Mi}

Errors (not YAML, not a mapping, already a wrapper values file, a bad ``registry``)
raise ``ValuesImportError`` (a ``ValueError``) with a one-line message.
"""

from __future__ import annotations

import copy
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from .errors import UserError
from .imageref import DOCKER_HUB, ImageRefError, split_registry_path
from .imageref import parse as parse_image

WRAPPER_KEYS = ("jupyterhub", "ck8s")
DEFAULT_PULL_SECRET = "pull-secret"

# The upstream chart's own image fields (values path -> the image z2jh 4.4.0 uses there).
IMAGE_FIELDS: dict[tuple[str, ...], str] = {
    ("hub", "image"): "quay.io/jupyterhub/k8s-hub",
    ("proxy", "chp", "image"): "quay.io/jupyterhub/configurable-http-proxy",
    ("proxy", "traefik", "image"): "docker.io/library/traefik",
    ("proxy", "secretSync", "image"): "quay.io/jupyterhub/k8s-secret-sync",
    ("singleuser", "image"): "quay.io/jupyterhub/k8s-singleuser-sample",
    ("singleuser", "networkTools", "image"): "quay.io/jupyterhub/k8s-network-tools",
    ("scheduling", "userScheduler", "image"): "registry.k8s.io/kube-scheduler",
    ("scheduling", "userPlaceholder", "image"): "registry.k8s.io/pause",
    ("prePuller", "hook", "image"): "quay.io/jupyterhub/k8s-image-awaiter",
    ("prePuller", "pause", "image"): "registry.k8s.io/pause",
}


class ValuesImportError(UserError, ValueError):
    """The text cannot be imported; the message is one line saying why."""


@dataclass
class ImportResult:
    """The wrapper values file and what was changed to make it."""

    text: str
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Override:
    """One image-name override found at an upstream image field."""

    path: tuple[str, ...]
    name: str
    reason: str
    registry: str | None  # the registry it points into, if it is a mirror


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def _own_items(node: CommentedMap) -> Iterator[tuple[Any, Any]]:
    """Items written in this mapping itself (not those pulled in by a ``<<`` merge key)."""
    items = getattr(node, "non_merged_items", None)
    yield from (items() if items else node.items())


# --- reading ---------------------------------------------------------------------------


def _yaml() -> YAML:
    from .yamlio import ruamel_yaml  # plain scalars as Helm (Go) reads them; strings quoted where any reader could err

    yaml = ruamel_yaml()
    yaml.preserve_quotes = True
    return yaml


def _guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, block-sequence dash offset) as written in the text (default 2, 2)."""
    mapping: int | None = None
    offset: int | None = None
    previous: tuple[int, str] | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        column = len(raw) - len(raw.lstrip(" "))
        if previous is not None and previous[1].endswith(":") and column >= previous[0]:
            if stripped.startswith("- ") or stripped == "-":
                offset = column - previous[0] if offset is None else offset
            elif mapping is None and column > previous[0]:
                mapping = column - previous[0]
        if mapping is not None and offset is not None:
            break
        previous = (column, stripped.split(" #", 1)[0].rstrip())
    if offset is None and mapping is not None:
        offset = min(mapping, 2)
    return mapping or 2, 2 if offset is None else offset


def parse_values(text: str) -> CommentedMap | None:
    """The values mapping of ``text`` (comments and line numbers kept), or None when the text
    holds no document; ``ValuesImportError`` (one line, no value quoted) when it is not one
    YAML mapping."""
    try:
        docs = list(_yaml().load_all(text))
    except DuplicateKeyError as exc:
        # ruamel's message quotes both values, which may be secrets: name the key, from the text.
        mark = exc.problem_mark
        line = text.split("\n")[mark.line] if mark is not None and mark.line < len(text.split("\n")) else ""
        key = line[mark.column:].split(":", 1)[0].strip() if mark is not None else ""
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValuesImportError(
            f"not valid YAML{where}: duplicate key {key!r} (YAML keeps only one of the two values); delete one"
        ) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ValuesImportError(f"not valid YAML{where}: {problem}") from None
    docs = [doc for doc in docs if doc is not None]
    if not docs:
        return None
    if len(docs) > 1:
        raise ValuesImportError(f"expected one YAML document, found {len(docs)}")
    data = docs[0]
    if not isinstance(data, CommentedMap):
        raise ValuesImportError(f"expected a mapping of values at the top level, got {_kind(data)}")
    return data


def _load(text: str) -> CommentedMap:
    data = parse_values(text)
    if data is None:
        raise ValuesImportError("the values file is empty")
    for key in WRAPPER_KEYS:
        if key in data:
            raise ValuesImportError(
                f"already a values file for the wrapper chart (it has a top-level {key}: key)"
            )
    return data


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


# --- anchors and comments ----------------------------------------------------------------


def _walk(node: Any) -> Iterator[Any]:
    """Every node once (aliases are the same Python object and are visited once)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, CommentedMap):
            stack.extend(value for _, value in _own_items(current))
            stack.extend(key for key, _ in _own_items(current) if isinstance(key, CommentedBase))
        elif isinstance(current, CommentedSeq):
            stack.extend(current)


def _keep_anchors(root: Any) -> None:
    """Dump every anchor, even one whose aliases are gone, so none disappears silently."""
    for node in _walk(root):
        anchor = getattr(node, "anchor", None)
        name = getattr(anchor, "value", None)
        if name and hasattr(node, "yaml_set_anchor"):
            node.yaml_set_anchor(name, always_dump=True)


def _comment_tokens(holder: Any) -> Iterator[CommentToken]:
    if isinstance(holder, CommentToken):
        yield holder
    elif isinstance(holder, list | tuple):
        for item in holder:
            yield from _comment_tokens(item)
    elif isinstance(holder, dict):
        for item in holder.values():
            yield from _comment_tokens(item)


def _shift_comments(root: Any, by: int) -> None:
    """Indent every comment inside ``root`` by ``by`` columns, like the content it annotates."""
    done: set[int] = set()
    for node in _walk(root):
        comments = getattr(node, "ca", None) if isinstance(node, CommentedBase) else None
        if comments is None:
            continue
        # The comment on the line that opens a block (``key:  # note``) is placed by the
        # emitter after the key, which has moved already: its column stays.
        eol = comments.comment[0] if comments.comment else None
        for token in _comment_tokens([comments.comment, comments.items, comments.end]):
            if id(token) in done:
                continue
            done.add(id(token))
            lines = token.value.split("\n")
            token.value = "\n".join(
                [lines[0]]
                + [" " * by + line if line.lstrip().startswith("#") else line for line in lines[1:]]
            )
            mark = getattr(token, "start_mark", None)
            if token is not eol and mark is not None and getattr(mark, "column", None) is not None:
                moved = copy.copy(mark)
                moved.column = mark.column + by
                token.start_mark = moved


_ANCHORED_LINE = re.compile(r"[&*][^\s&*]+\Z")


def _rejoin_eol_comments(text: str) -> str:
    """Put back end-of-line comments that ruamel.yaml 0.18 moves to the next line.

    A plain round trip of ``key: &anchor  # note`` (or ``key: *alias  # note``) writes the
    comment alone on the following line, past the end of the anchored line; such a line
    cannot be a comment of its own (it would be indented beyond any content), so it is
    joined back.
    """
    lines = text.split("\n")
    result: list[str] = []
    for line in lines:
        stripped = line.lstrip(" ")
        if (
            result
            and stripped.startswith("#")
            and _ANCHORED_LINE.search(result[-1].rstrip())
            and len(line) - len(stripped) > len(result[-1].rstrip())
        ):
            result[-1] = f"{result[-1].rstrip()} {stripped}"
            continue
        result.append(line)
    return "\n".join(result)


# --- image overrides ---------------------------------------------------------------------


def _classify(path: tuple[str, ...], name: str) -> _Override | None:
    """Is this image name one of the overrides the guide's workflow left behind?"""
    upstream = parse_image(IMAGE_FIELDS[path])
    try:
        ref = parse_image(name.strip())
    except ImageRefError:
        return None
    base = upstream.repository.rsplit("/", 1)[-1]  # k8s-hub, pause, traefik
    if ref.name == upstream.name:
        return _Override(path, name, f"it is the chart's own image {upstream.name}", None)
    if ref.registry == DOCKER_HUB and ref.repository == f"library/{base}":
        return _Override(
            path, name,
            f"a bare name from the platform guide (it would pull {ref.name}); "
            f"the post-renderer moves {upstream.name} to ck8s.registry",
            None,
        )
    if ref.registry in (DOCKER_HUB, upstream.registry) or ref.repository.rsplit("/", 1)[-1] != base:
        return None  # another image, or one in the upstream registry: a deliberate choice
    # The prefix in front of the upstream path (or of the bare image name) is the mirror.
    for suffix in (upstream.repository, base):
        if ref.repository == suffix:
            registry = ref.registry
            break
        if ref.repository.endswith("/" + suffix):
            registry = f"{ref.registry}/{ref.repository[: -len(suffix) - 1]}"
            break
    expected = f"{registry}/{upstream.repository}"
    note = "" if ref.name == expected else f" (note: the post-renderer will pull {expected}; mirror it there)"
    return _Override(
        path, name,
        f"a mirror of {upstream.name} in {registry}; the post-renderer rewrites the upstream image "
        f"to ck8s.registry{note}",
        registry,
    )


def _chain(root: CommentedMap, path: tuple[str, ...]) -> list[tuple[CommentedMap, str]] | None:
    """[(mapping, key), ...] from the root down to ``path``, when every step is written in the file."""
    chain: list[tuple[CommentedMap, str]] = []
    node: Any = root
    for key in path:
        if not isinstance(node, CommentedMap) or key not in dict(_own_items(node)):
            return None
        chain.append((node, key))
        node = node[key]
    return chain


def _references(root: Any) -> dict[int, int]:
    """How many places hold each container node (an anchor with aliases is held several times)."""
    counts: Counter[int] = Counter()
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children = (
            [value for _, value in _own_items(node)] if isinstance(node, CommentedMap)
            else list(node) if isinstance(node, CommentedSeq) else []
        )
        for child in children:
            if isinstance(child, CommentedMap | CommentedSeq):
                counts[id(child)] += 1
                stack.append(child)
    return counts


def _trailing_comment_lines(mapping: CommentedMap, key: Any) -> list[CommentToken]:
    """Full-line comments (and blank lines) written after ``key``'s value, as tokens.

    ruamel keeps them with the key before them; when that key goes, they must not.
    The end-of-line comment of the key itself is about the removed value and is dropped.
    """
    entry = mapping.ca.items.get(key)
    if not entry or len(entry) < 3 or entry[2] is None:
        return []
    lines = entry[2].value.split("\n")[1:]
    if lines and lines[-1] == "":
        lines.pop()
    tokens = []
    for line in lines:
        column = len(line) - len(line.lstrip())
        tokens.append(CommentToken(line.lstrip() + "\n", CommentMark(column if line.strip() else 0)))
    return tokens


def _remove(chain: list[tuple[CommentedMap, Any]]) -> None:
    """Delete the key at the end of ``chain``; comments written after its value move to
    just before the next key (at this level, or the first level up that has one)."""
    mapping, key = chain[-1]
    tokens = _trailing_comment_lines(mapping, key)
    mapping.ca.items.pop(key, None)
    following: list[tuple[CommentedMap, Any]] = []
    for level, level_key in reversed(chain):
        keys = [k for k, _ in _own_items(level)]
        index = keys.index(level_key)
        if index + 1 < len(keys):
            following.append((level, keys[index + 1]))
    del mapping[key]
    if not tokens:
        return
    if following:
        level, next_key = following[0]
        entry = level.ca.items.setdefault(next_key, [None, None, None, None])
        entry[1] = tokens + (entry[1] or [])
    else:
        root = chain[0][0]
        root.ca.end = (root.ca.end or []) + tokens


def _take_over(original: CommentedMap) -> CommentedMap:
    """A copy of ``original`` (same keys and values, no anchor) that takes its comments."""
    result = CommentedMap()
    for key, value in _own_items(original):
        result[key] = value
    result.ca.items.update(original.ca.items)
    original.ca.items.clear()
    result.ca.comment, original.ca.comment = original.ca.comment, None
    return result


def _drop_image_names(root: CommentedMap) -> list[_Override]:
    found: list[tuple[_Override, list[tuple[CommentedMap, str]]]] = []
    for path in IMAGE_FIELDS:
        chain = _chain(root, path)
        if chain is None:
            continue
        parent, key = chain[-1]
        image = parent[key]
        if not isinstance(image, CommentedMap) or "name" not in dict(_own_items(image)):
            continue
        name = image["name"]
        override = _classify(path, name) if isinstance(name, str) else None
        if override is not None:
            found.append((override, chain))

    refs = _references(root)
    ours = Counter(id(chain[-1][0][chain[-1][1]]) for _, chain in found)
    for _, chain in found:
        parent, key = chain[-1]
        image = parent[key]
        if refs[id(image)] > ours[id(image)]:
            # An alias elsewhere still needs the whole mapping: this field gets a copy
            # (with the comments written here); the original keeps its anchor, which
            # now appears at its first remaining use.
            image = parent[key] = _take_over(image)
        if "name" in image:
            _remove([*chain, (image, "name")])
        if not image:
            _remove(chain)
    return [override for override, _ in found]


# --- the import ----------------------------------------------------------------------------


def _pull_secret_name(values: CommentedMap) -> str | None:
    secrets = values.get("imagePullSecrets")
    if not isinstance(secrets, list) or len(secrets) != 1:
        return None
    entry = secrets[0]
    name = entry.get("name") if isinstance(entry, dict) else entry
    return name if isinstance(name, str) and name else None


def import_values(text: str, registry: str | None = None) -> ImportResult:
    """Return the wrapper-chart values for an upstream-chart values file, and the changes made."""
    if registry is not None:
        try:
            split_registry_path(registry)
        except ImageRefError as exc:
            raise ValuesImportError(f"registry: {exc}") from None
        registry = registry.rstrip("/")
    indent, offset = _guess_indent(text)
    values = _load(text)
    _keep_anchors(values)
    changes: list[str] = []

    overrides = _drop_image_names(values)
    for override in overrides:
        changes.append(f"removed {_dotted(override.path)}.name {override.name!r}: {override.reason}")

    detected = Counter(o.registry for o in overrides if o.registry)
    ck8s = CommentedMap()
    if registry:
        ck8s["registry"] = registry
        changes.append(f"ck8s.registry: set to {registry} (given)")
        for other in sorted(set(detected) - {registry}):
            changes.append(f"ck8s.registry: the values pointed into {other}, which was not used")
    elif detected:
        chosen = detected.most_common(1)[0][0]
        ck8s["registry"] = chosen
        sources = ", ".join(_dotted(o.path) for o in overrides if o.registry == chosen)
        changes.append(f"ck8s.registry: set to {chosen} (detected from {sources})")
        for other in sorted(set(detected) - {chosen}):
            changes.append(
                f"ck8s.registry: {other} was also found; pass the registry explicitly to choose it"
            )
    secret = _pull_secret_name(values)
    if secret and secret != DEFAULT_PULL_SECRET:
        ck8s["pullSecret"] = secret
        changes.append(f"ck8s.pullSecret: set to {secret} (from imagePullSecrets)")

    # Nest: the file's leading comment stays at the top of the file.
    head = values.ca.comment
    values.ca.comment = None
    _shift_comments(values, indent)
    result = CommentedMap()
    if head is not None:
        result.ca.comment = head
    if ck8s:
        result["ck8s"] = ck8s
        result.yaml_set_comment_before_after_key(
            "ck8s", before="Settings for the jhub-ck8s post-renderer (see the wrapper chart's values.yaml)."
        )
    result["jupyterhub"] = values
    result.yaml_set_comment_before_after_key(
        "jupyterhub", before="Values for the upstream JupyterHub chart (imported)."
    )
    changes.insert(0, "nested all values under jupyterhub:")

    yaml = _yaml()
    yaml.indent(mapping=indent, sequence=offset + 2, offset=offset)
    out = io.StringIO()
    yaml.dump(result, out)
    return ImportResult(_rejoin_eol_comments(out.getvalue()), changes)


__all__ = ["IMAGE_FIELDS", "WRAPPER_KEYS", "ImportResult", "ValuesImportError", "import_values", "parse_values"]
