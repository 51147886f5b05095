"""The diff, printed: a unified diff of paths (colour on a terminal), or JSON for CI.

Both come from the same ``DiffResult``; neither ever holds a masked value (the result has
none to give). Text, one block per object, one hunk per impact::

    --- Secret/hub values.yaml
    +++ Secret/hub values.yaml
    @@ next-spawn: next spawn only: running user servers keep their pod until they restart @@
    -singleuser.image.tag: "4.4.0"
    +singleuser.image.tag: "4.4.1"
    @@ hub-restart: hub restart: strategy Recreate, logins fail until the new hub is up; ... @@
    -hub.config.GenericOAuthenticator.client_secret: (secret)
    +hub.config.GenericOAuthenticator.client_secret: (secret, changed)

A line ``  # ...`` after a change says more (changed by hand in the cluster, refused by
the API server). An object that is added or removed as a whole is one ``+``/``-`` line.

JSON: ``{"release": ..., "namespace": ..., "changes": [{"object", "path", "change", "old",
"new", "impact", "secret", "edited", "note"}]}``; ``old``/``new`` are null when masked
(``secret`` true) and for a whole object.
"""

from __future__ import annotations

import json
from typing import Any

from .diff_release import IMPACTS, DiffResult, Item
from .diff_tree import ADDED, REMOVED, mask_text

_RED, _GREEN, _CYAN, _YELLOW, _BOLD, _RESET = "\033[31m", "\033[32m", "\033[36m", "\033[33m", "\033[1m", "\033[0m"


def value_text(value: Any) -> str:
    """A leaf as one line: JSON (strings quoted, so ``"0921"`` is not taken for a number)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _lines(item: Item) -> list[tuple[str, str]]:
    """(marker, text) lines for one change: marker is '-', '+' or '#'."""
    change = item.change
    if change.path == "":
        what = {ADDED: "+", REMOVED: "-"}.get(change.change, "#")
        label = {ADDED: "(new object)", REMOVED: "(object removed)"}.get(change.change, "")
        lines = [(what, label)] if label else []
    elif change.secret:
        lines, shown = [], mask_text(change.path)
        if change.change != ADDED:
            lines.append(("-", f"{change.path}: {shown}"))
        if change.change != REMOVED:
            lines.append(("+", f"{change.path}: {shown[:-1]}, {change.change})"))
    else:
        lines = []
        before = change.live if change.edited else change.old
        if change.change != ADDED or (change.edited and change.live is not None):
            lines.append(("-", f"{change.path}: {value_text(before)}"))
        if change.change != REMOVED:
            lines.append(("+", f"{change.path}: {value_text(change.new)}"))
    if item.note:
        lines.append(("#", item.note))
    return lines


def text(result: DiffResult, *, colour: bool = False) -> str:
    """The unified diff of every object, in the order of the result."""
    def paint(code: str, line: str) -> str:
        return f"{code}{line}{_RESET}" if colour else line

    out: list[str] = []
    by_object: dict[str, list[Item]] = {}
    for item in result.items:
        by_object.setdefault(item.object, []).append(item)
    for name, items in by_object.items():
        out.append(paint(_BOLD, f"--- {name}"))
        out.append(paint(_BOLD, f"+++ {name}"))
        by_impact: dict[str, list[Item]] = {}
        for item in items:
            by_impact.setdefault(item.impact, []).append(item)
        for impact, group in by_impact.items():
            out.append(paint(_CYAN, f"@@ {impact}: {IMPACTS[impact]} @@"))
            for item in group:
                for marker, line in _lines(item):
                    if marker == "#":
                        out.append(paint(_YELLOW, f"  # {line}"))
                    else:
                        out.append(paint(_RED if marker == "-" else _GREEN, f"{marker}{line}"))
    return "".join(line + "\n" for line in out)


def as_json(result: DiffResult, release: str, namespace: str) -> str:
    changes = [{
        "object": item.object,
        "path": item.change.path,
        "change": item.change.change,
        "old": None if item.change.secret else (item.change.live if item.change.edited else item.change.old),
        "new": None if item.change.secret else item.change.new,
        "impact": item.impact,
        "secret": item.change.secret,
        "edited": item.change.edited,
        "note": item.note,
    } for item in result.items]
    document = {"release": release, "namespace": namespace, "installed": result.release_exists, "changes": changes}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
