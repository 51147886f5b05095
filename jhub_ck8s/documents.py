"""Documents: the YAML text Helm hands to a post-renderer, read into objects and written back.

Read once (``read``; the pipeline reads through ``stream.parse``, which also checks
every document), serialise once. Three input shapes are accepted: Helm 3 post-renderer
input (install order, ``# Source:`` comments), Helm 4 input (sorted, each document
annotated ``postrenderer.helm.sh/postrender-filename``) and plain ``helm template``
output. Guarantees:

* documents keep their order and their leading comments (``# Source: ...``);
* empty documents are dropped; a ``kind: List`` becomes one document per item;
* a document no transform changed is written back byte for byte as it came, so a
  second run over our own output changes nothing (idempotence) and costs no re-emit;
* malformed YAML, a top-level list or scalar, or a document without ``kind`` raise
  InputError naming the document number and its Source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from . import yamlio
from .errors import InputError, shape_of

HELM4_FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
_SEPARATOR = re.compile(r"---(?:[ \t]+(.*))?\Z")
_SOURCE = re.compile(r"#\s*Source:\s*(.+?)\s*\Z")


def load_yaml(text: str) -> Any:
    """Parse one YAML document the way the stream parser does (Go's meaning of plain scalars)."""
    return yamlio.load(text)


def dump_yaml(obj: Any, *, sort_keys: bool = False) -> str:
    """Serialise one object so that Go, YAML 1.2 and YAML 1.1 readers all read it back as it is."""
    return yamlio.dump(obj, sort_keys=sort_keys)


class Document:
    """One Kubernetes object of the stream, with where it came from.

    A plain class (no dataclass): the post-renderer starts on every helm call, and
    importing ``dataclasses`` costs more than parsing a release.
    """

    __slots__ = ("comments", "item", "number", "obj", "raw", "removed")

    def __init__(
        self, number: int, obj: dict[str, Any], comments: list[str] | None = None, raw: str | None = None,
        item: int | None = None, removed: bool = False,
    ) -> None:
        self.number = number  # 1-based position in the input stream (the number users see)
        self.obj = obj
        self.comments = comments if comments is not None else []
        self.raw = raw  # the original text; None once the object must be re-emitted
        self.item = item  # position inside a `kind: List` document
        self.removed = removed

    def __repr__(self) -> str:
        return f"Document({self.position}, {self.label})"

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        metadata = self.obj.get("metadata")
        return str(metadata.get("name", "")) if isinstance(metadata, dict) else ""

    @property
    def label(self) -> str:
        """``Kind/name``, how kubectl names an object."""
        return f"{self.kind}/{self.name}"

    @property
    def source(self) -> str | None:
        """The chart template the object came from, from Helm 3 or Helm 4 input."""
        metadata = self.obj.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        if isinstance(annotations, dict) and annotations.get(HELM4_FILENAME_ANNOTATION):
            return str(annotations[HELM4_FILENAME_ANNOTATION])
        for line in reversed(self.comments):
            match = _SOURCE.match(line)
            if match:
                return match.group(1)
        return None

    @property
    def position(self) -> str:
        """``document 12`` or ``document 12 item 3``."""
        text = f"document {self.number}" if self.number else "new document"
        return text if self.item is None else f"{text} item {self.item + 1}"

    @property
    def where(self) -> str:
        """``document 12 (chart/templates/x.yaml) Deployment/hub``: where a message points."""
        return f"{self.position} ({self.source or 'no Source'}) {self.label}"

    def mark_changed(self) -> None:
        self.raw = None

    def text(self) -> str:
        """The document as it goes to stdout, without the leading ``---``."""
        return "".join(self.pieces())

    def pieces(self) -> Iterator[str]:
        """``text()`` in pieces: its comment lines, then its body, never copied into one string.

        A hub config of tens of MB is one body: joining the stream once from pieces keeps
        a single copy of it, where concatenating per document made three (peak memory).
        """
        for line in self.comments:
            yield line + "\n"
        if self.raw is not None:
            yield self.raw
        else:
            yield from yamlio.dump_pieces(self.obj)


def _where(number: int, comments: list[str]) -> str:
    source = next((m.group(1) for m in map(_SOURCE.match, reversed(comments)) if m), None)
    return f"document {number}" + (f" ({source})" if source else "")


def _split(text: str) -> list[tuple[int, list[str], list[str], str]]:
    """Split into (first line number, leading comments, directives, body) per document.

    Lines end at ``\n`` only (``\r\n`` keeps its ``\r``): other Unicode separators such
    as U+2029 are content, and a quoted string holding one is written back as it came.
    ``%`` directive lines before a document's ``---`` belong to that document.
    """
    chunks: list[tuple[int, list[str], list[str], list[str]]] = [(1, [], [], [])]
    directives: list[str] = []
    ended = True  # at the start, or after "...": a "%" line is a directive
    for lineno, line in enumerate(text.split("\n"), start=1):
        bare = line.rstrip("\r")
        match = _SEPARATOR.match(bare)
        if match:
            chunks.append((lineno + 1, [], directives, [match.group(1)] if match.group(1) else []))
            directives, ended = [], False
            continue
        if bare.rstrip() == "...":
            ended = True
            continue
        _start, comments, _directives, body = chunks[-1]
        if bare.startswith("%") and (ended or not body):
            directives.append(bare)
            continue
        if not body and (not bare.strip() or bare.lstrip().startswith("#")):
            if bare.strip():
                comments.append(bare.rstrip())
            continue
        body.append(line)
    if directives:
        raise InputError(
            f"the stream ends with the YAML directive {directives[0]!r} and no document after it; "
            "fix the template that renders it"
        )
    return [(start, comments, found, "\n".join(body).rstrip() + "\n") for start, comments, found, body in chunks]


def _load_document(body: str, directives: list[str], start: int, where: str) -> Any:
    """One document's object; InputError naming where, if YAML or Go would refuse it."""
    text = "\n".join([*directives, "---", body]) if directives else body
    offset = len(directives) + 1 if directives else 0
    try:
        return yamlio.load(text, check_aliases=True)
    except yamlio.TooDeep as exc:
        raise InputError(f"{where}: {exc}; fix the chart template or values that produce it") from None
    except yamlio.ExcessiveAliasing as exc:
        raise InputError(
            f"{where}: {exc}, which Helm and Kubernetes refuse; write the values out instead of using "
            "YAML anchors and aliases"
        ) from None
    except yaml.reader.ReaderError as exc:
        raise InputError(
            f"{where}: malformed YAML: the character U+{ord(exc.character) if isinstance(exc.character, str) else exc.character:04X} "
            "is not allowed raw in YAML; fix the chart values or template that produced it (quote it with an escape)"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {start + mark.line - offset}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(
            f"{where}: malformed YAML{line}: {problem}; fix the chart values or template that produced it"
        ) from None


def read(text: str) -> list[Document]:
    """Read a whole stream into documents (see the module docstring for guarantees).

    Unchecked: the pipeline, the audit and the tests read through ``stream.parse``,
    which adds ``wellformed.check``.
    """
    documents: list[Document] = []
    number = 0
    # A byte-order mark starts the stream, not the first document: written after our
    # "---" it would become part of the first key ("\ufeff# Source").
    text = text.removeprefix("\ufeff")
    for start, comments, directives, body in _split(text):
        if not body.strip():
            continue
        number += 1
        obj = _load_document(body, directives, start, _where(number, comments))
        if obj is None:
            number -= 1
            continue
        if not isinstance(obj, dict):
            shape = "a list" if isinstance(obj, list) else f"a {type(obj).__name__}"
            raise InputError(
                f"{_where(number, comments)}: expected a Kubernetes object (a mapping), got {shape}"
            )
        if not obj.get("kind"):
            raise InputError(
                f"{_where(number, comments)}: object has no 'kind'; every document must be a "
                "Kubernetes object with apiVersion and kind"
            )
        if obj.get("kind") == "List":
            items = obj.get("items")
            if not isinstance(items, list):
                raise InputError(
                    f"{_where(number, comments)}: kind List needs 'items' to be a list of objects, got "
                    f"{shape_of(items)}; fix the template that renders it"
                )
            for index, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("kind"):
                    raise InputError(
                        f"{_where(number, comments)} item {index + 1}: List item is not a "
                        "Kubernetes object with a 'kind'"
                    )
                documents.append(Document(number, item, list(comments), None, item=index))
            continue
        documents.append(Document(number, obj, comments, body))
    return documents


def serialize(documents: list[Document]) -> str:
    """Write the stream: every live document, each preceded by ``---``."""
    return "".join(piece for doc in documents if not doc.removed for piece in ("---\n", *doc.pieces()))
