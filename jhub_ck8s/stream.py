"""The stream being post-rendered: its documents and, decoded once, the hub's runtime config.

This is what every transform receives. ``parse`` reads the stream as the pipeline
does: ``documents.read`` (YAML text to documents, nothing else), then
``wellformed.check`` on every document, so what a transform gets is what it may
trust. ``hubconfig`` knows the hub's Secret; ``Stream`` holds one run's documents
and decodes ``Secret/hub`` on first use, so every transform shares one decoded config
and the pipeline knows whether there is anything to write back.
"""

from __future__ import annotations

from typing import Any

from . import hubconfig
from .documents import Document, read
from .hubconfig import HubConfig
from .wellformed import check


def parse(text: str) -> list[Document]:
    """The documents of a stream, each checked (``wellformed.check``): what every transform may trust."""
    documents = read(text)
    for doc in documents:
        check(doc)
    return documents


class Stream:
    """The documents of one run, plus the hub's runtime config decoded on first use."""

    __slots__ = ("_hub", "_hub_loaded", "documents")

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self._hub: HubConfig | None = None
        self._hub_loaded = False

    def live(self) -> list[Document]:
        """Documents not removed by a transform, in output order."""
        return [doc for doc in self.documents if not doc.removed]

    def hub(self) -> HubConfig | None:
        """The decoded ``Secret/hub`` values (decoded once, shared by every transform)."""
        if not self._hub_loaded:
            self._hub = hubconfig.find(self.documents)
            self._hub_loaded = True
        return self._hub

    @property
    def decoded_hub(self) -> HubConfig | None:
        """The hub config if a transform has decoded it already (nothing to write back otherwise)."""
        return self._hub if self._hub_loaded else None

    def add(self, obj: dict[str, Any], *, after: Document | None = None, source: str = "") -> Document:
        """Insert a new object (after ``after``, or at the end) and return its document."""
        comments = [f"# Source: {source}"] if source else []
        doc = Document(0, obj, comments, None)
        index = self.documents.index(after) + 1 if after is not None else len(self.documents)
        self.documents.insert(index, doc)
        return doc
