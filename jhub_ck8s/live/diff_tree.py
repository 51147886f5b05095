"""Trees as leaves, and the three-way comparison of leaves that every part of ``diff`` uses.

An object (a manifest, the hub's decoded ``values.yaml``, a user pod's summary) becomes a
flat mapping from a path to a leaf value: ``spec.template.spec.containers[0].image``,
``singleuser.profileList[1].kubespawner_override.image``,
``metadata.annotations["checksum/secret"]``. Scalars, empty mappings and empty lists are
leaves. ``compare`` then sets three such mappings side by side:

* ``old``: the last release (``helm get manifest``),
* ``new``: what this upgrade would store (the server-side dry run),
* ``live``: what is in the cluster now, or None when the object is not there,

and returns one ``Change`` per path whose value the upgrade would change, in path order.
A path whose old and new values agree but whose live value differs was changed by hand
in the cluster (``edited`` is true): the upgrade touches it although the chart did not
change it. Paths found only in the live object are not the chart's (defaults filled by
the API server, fields added by hand) and are left out, as Helm leaves them alone.

Masking is decided here and nowhere else: ``secret_leaf`` names the paths of the hub's
config that hold credentials. A masked change keeps no value (``old`` and ``new`` are
None), so no output can print one or a hash of one.

    >>> [c.path for c in compare(leaves({"a": {"b": 1}}), leaves({"a": {"b": 2}}), None)]
    ['a.b']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..quantity import try_parse

#: How a masked value is shown: a credential, or a checksum (a hash of one, often).
MASKED, HASHED = "(secret)", "(hash)"
#: What each kind of change is called (JSON ``change``).
ADDED, REMOVED, CHANGED = "added", "removed", "changed"

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_/-]+\Z")
# a key whose value (and everything below it) is a credential in the hub's config
_SECRET_WORDS = ("secret", "token", "password", "passwd", "privatekey", "apikey", "credential")
_SECRET_SECTIONS = ("cryptkeeper",)  # hub.config.CryptKeeper.keys
_QUANTITY_PARENT = re.compile(r"(?:^|\.)(?:resources\.)?(?:requests|limits)\Z")


@dataclass(frozen=True)
class Change:
    """One path the upgrade changes. ``old``/``new`` are None for a masked (secret) value."""

    path: str
    change: str  # ADDED | REMOVED | CHANGED
    old: Any
    new: Any
    secret: bool = False
    edited: bool = False  # the live value differs from the last release (changed by hand)
    live: Any = None  # the live value of an edited path (None when masked)


def key_text(key: str) -> str:
    """A mapping key as a path step: ``image`` or ``["checksum/secret"]`` (keys with dots, spaces ...)."""
    if _PLAIN_KEY.match(key):
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]'


def leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Path -> leaf value, for every leaf of ``tree`` (mappings and lists walked, in order)."""
    found: dict[str, Any] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping) and node:
            for key, value in node.items():
                walk(value, path + key_text(str(key)))
        elif isinstance(node, list) and node:
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif path:  # an empty tree has no leaves
            found[path.removeprefix(".")] = node

    walk(tree, prefix)
    return found


def _steps(path: str) -> list[str]:
    """The keys of a path, lowercased with punctuation removed (``client_secret`` -> ``clientsecret``)."""
    keys = re.findall(r'\["((?:[^"\\]|\\.)*)"\]|\.?([^.\[\]]+)', path)
    return [re.sub(r"[^a-z0-9]", "", (quoted or plain).lower()) for quoted, plain in keys]


def secret_leaf(path: str) -> bool:
    """Does this path of the hub's config (or any Secret's data) hold a credential?

    A key anywhere on the path naming a secret, token, password, private or API key or
    credential (``hub.config.JupyterHub.cookie_secret``, ``proxy.secretToken``,
    ``hub.services.x.apiToken``, ``hub.config.GenericOAuthenticator.client_secret``,
    ``hub.db.password``), or a CryptKeeper section (its ``keys``). Everything under such
    a key is masked with it.
    """
    steps = _steps(path)
    return any(word in step for step in steps for word in _SECRET_WORDS) or any(
        step in _SECRET_SECTIONS for step in steps
    )


def is_checksum(path: str) -> bool:
    """A leaf whose key is a checksum (``checksum/secret``, ``checksum_hook-image-puller``)."""
    steps = _steps(path)
    return bool(steps) and steps[-1].startswith("checksum")


def mask_text(path: str) -> str:
    return HASHED if is_checksum(path) else MASKED


def same(path: str, a: Any, b: Any) -> bool:
    """Equal as Kubernetes means it: a resource quantity equals its canonical form (``0.5`` and ``500m``)."""
    if a == b and type(a) is type(b):
        return True
    if _QUANTITY_PARENT.search(path.rsplit(".", 1)[0] if "." in path else ""):
        qa, qb = try_parse(a), try_parse(b)
        return qa is not None and qb is not None and qa == qb
    return False


_ABSENT = object()
_EMPTY = object()  # the live object lacks a leaf the manifest has empty or zero: Go's omitempty drops it
_NOTHING: tuple[Any, ...] = (None, {}, [], 0, "")  # (False == 0)


def compare(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    *,
    secret: Callable[[str], bool] = lambda path: False,
) -> list[Change]:
    """The changes from ``old`` to ``new``, and the hand edits ``live`` shows (see the module doc)."""
    changes = []
    for path in _ordered(old, new):
        before, after = old.get(path, _ABSENT), new.get(path, _ABSENT)
        current = _ABSENT if live is None else live.get(path, _EMPTY if before in _NOTHING else _ABSENT)
        chart_changed = not _equal(path, before, after)
        edited = live is not None and before is not _ABSENT and current is not _EMPTY and not _equal(path, current, before)
        if not chart_changed and not (edited and not _equal(path, current, after)):
            continue
        masked = secret(path)
        kind = ADDED if before is _ABSENT else REMOVED if after is _ABSENT else CHANGED
        if edited and not chart_changed:
            kind = CHANGED if current is not _ABSENT else ADDED
            # the upgrade moves the live value (not the last release's) to the new one
        changes.append(Change(
            path=path,
            change=kind,
            old=None if masked or before is _ABSENT else before,
            new=None if masked or after is _ABSENT else after,
            secret=masked,
            edited=edited,
            live=None if masked or current is _ABSENT else current,
        ))
    return changes


def _equal(path: str, a: Any, b: Any) -> bool:
    if a is _ABSENT or b is _ABSENT:
        return a is b
    return same(path, a, b)


def _ordered(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    """Paths of ``new`` in its order, then the paths only ``old`` has, in its order."""
    seen = set()
    for path in [*new, *old]:
        if path not in seen:
            seen.add(path)
            yield path
