"""The hub's runtime config: ``Secret/hub`` key ``values.yaml``, and where its images live.

The upstream chart hands the hub its whole merged values through this Secret; the
pods KubeSpawner creates for users are built from it and never appear in the rendered
manifests. This module decodes it once, lists the places that carry images the hub
passes to KubeSpawner (``image_slots``, the runtime twin of ``podspec``), and writes
it back -- only when a transform changed it, with every other key unchanged -- and
then updates the hub Deployment's ``checksum/secret`` so the hub restarts on the new
config.

Nothing here ever puts a value of the Secret into an exception message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from .documents import Document
from .errors import InputError, shape_of
from .yamlio import MAX_DEPTH, TooDeep
from .yamlio import dump as dump_yaml
from .yamlio import load as load_yaml

VALUES_KEY = "values.yaml"
CHECKSUM_ANNOTATION = "checksum/secret"


def lookup(values: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dotted path (``singleuser.image.name``), as the chart's hub looks it up.

    A key present with a null value yields None (not ``default``), as in the hub; only a
    missing key, or a parent that is not a mapping, yields ``default``.
    """
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


class HubConfig:
    """The decoded runtime config and the Secret document it lives in."""

    __slots__ = ("changed", "document", "field", "values")

    def __init__(self, document: Document, field: str, values: dict[str, Any], changed: bool = False) -> None:
        self.document = document
        self.field = field  # "data" (base64) or "stringData" (plain)
        self.values = values
        self.changed = changed  # a transform changed values: write them back

    def get(self, path: str, default: Any = None) -> Any:
        """Value at a dotted path (``singleuser.image.name``), or ``default`` (see ``lookup``)."""
        return lookup(self.values, path, default)

    def ensure(self, path: str) -> dict[str, Any]:
        """The mapping at a dotted path, created (and any null on the way replaced) if missing."""
        node = self.values
        for key in path.split("."):
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        return node


def _looks_like_hub_secret(doc: Document) -> bool:
    if doc.kind != "Secret" or doc.removed:
        return False
    labels = (doc.obj.get("metadata") or {}).get("labels") or {}
    return labels.get("component") == "hub" or doc.name == "hub" or doc.name.endswith("-hub")


def _is_hub_secret(doc: Document) -> bool:
    if not _looks_like_hub_secret(doc):
        return False
    return any(isinstance(doc.obj.get(name), dict) and VALUES_KEY in doc.obj[name] for name in ("data", "stringData"))


def secret_document(documents: list[Document]) -> Document | None:
    """The hub's Secret (the one that carries ``values.yaml``), without decoding it."""
    return next((doc for doc in documents if _is_hub_secret(doc)), None)


def secret_without_config(documents: list[Document]) -> Document | None:
    """A Secret that looks like the hub's but has no ``values.yaml``: its config cannot be hardened."""
    if secret_document(documents) is not None:
        return None
    return next((doc for doc in documents if _looks_like_hub_secret(doc)), None)


_FIX = "render the upstream jupyterhub chart's Secret/hub unchanged (Helm writes values.yaml itself)"


def find(documents: list[Document]) -> HubConfig | None:
    """Decode the hub Secret of the stream; None if the stream has none."""
    doc = secret_document(documents)
    if doc is None:
        return None
    where = f"{doc.where}, key {VALUES_KEY}"
    field_name = "stringData" if VALUES_KEY in (doc.obj.get("stringData") or {}) else "data"
    encoded = doc.obj[field_name][VALUES_KEY]
    if not isinstance(encoded, str):
        raise InputError(f"{where}: expected a string, got {shape_of(encoded)}; {_FIX}")
    text: str | bytes = encoded
    try:
        if field_name == "data":
            # libyaml reads the UTF-8 bytes itself: decoding them to a str first would keep a
            # second copy (the parser's own UTF-8 buffer) while the config is built
            text = base64.b64decode(encoded, validate=True)
            text.decode("utf-8")  # checked here, so a bad encoding gets its own message
    except (binascii.Error, UnicodeDecodeError):
        raise InputError(
            f"{where}: not valid base64-encoded UTF-8 text; {_FIX}, or a patch that sets it must base64-encode it"
        ) from None
    try:
        values = load_yaml(text)
    except TooDeep:
        raise InputError(f"{where}: the decoded hub config nests deeper than {MAX_DEPTH} levels; {_FIX}") from None
    except Exception:  # any YAML error; its text could quote the Secret, so it is not shown
        raise InputError(f"{where}: the decoded hub config is not valid YAML; {_FIX}") from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise InputError(f"{where}: the decoded hub config is {shape_of(values)}, not a mapping; {_FIX}")
    return HubConfig(doc, field_name, values)


def _checksum_targets(documents: list[Document], secret: Document) -> Iterator[dict[str, Any]]:
    """Pod-template annotation maps of the hub Deployment(s) that carry checksum/secret."""
    from .podspec import pod_metadata

    for doc in documents:
        if doc.kind != "Deployment" or doc.removed:
            continue
        meta = pod_metadata(doc.obj)
        annotations = (meta or {}).get("annotations")
        if isinstance(annotations, dict) and CHECKSUM_ANNOTATION in annotations:
            labels = (doc.obj.get("metadata") or {}).get("labels") or {}
            if labels.get("component") == "hub" or doc.name == secret.name:
                yield annotations


def store(hub: HubConfig) -> bool:
    """Re-encode changed values into the Secret; True if it was written.

    Keys are written sorted, as Helm's toYaml writes them, so only changed keys differ.
    After a store the config counts as unchanged again, so storing twice writes once.
    """
    if not hub.changed:
        return False
    # The old text and encoding go first, and each copy is dropped as soon as the next
    # exists: for a large config (tens of MB) these copies decide the peak memory.
    hub.document.mark_changed()
    hub.document.obj[hub.field][VALUES_KEY] = None
    text = dump_yaml(hub.values, sort_keys=True)
    if hub.field == "data":
        data = text.encode("utf-8")
        del text
        encoded = base64.b64encode(data)
        del data
        text = encoded.decode("ascii")
        del encoded
    hub.document.obj[hub.field][VALUES_KEY] = text
    hub.changed = False
    return True


_HASH_CHARS = 1 << 20  # characters encoded at a time for the hash


def _sha256(pieces: Iterable[str]) -> str:
    """The hex sha256 of the UTF-8 text the pieces make, encoded a slice at a time (a hub
    config of tens of MB is not copied whole), from Python's own implementation when it
    has one: hashlib loads OpenSSL, which costs more at start-up than the post-renderer's
    whole run of work."""
    import importlib

    hasher: Any = None
    for name in ("_sha256", "_sha2"):  # CPython <= 3.11, >= 3.12
        try:
            hasher = importlib.import_module(name).sha256()
            break
        except ImportError:
            continue
    if hasher is None:
        import hashlib

        hasher = hashlib.sha256()
    for piece in pieces:
        for start in range(0, len(piece), _HASH_CHARS):
            hasher.update(piece[start:start + _HASH_CHARS].encode("utf-8"))
    return str(hasher.hexdigest())


def refresh_checksums(secret: Document, documents: list[Document]) -> list[Document]:
    """Point the hub Deployment's ``checksum/secret`` at the Secret as written; return those updated.

    Only for a Secret that is re-emitted (a transform or a patch changed it): Helm's own
    checksum still stands for an untouched one.
    """
    if secret.raw is not None:
        return []
    digest = _sha256(secret.pieces())
    updated = []
    for doc in documents:
        annotations = next(_checksum_targets([doc], secret), None)
        if annotations is not None and annotations[CHECKSUM_ANNOTATION] != digest:
            annotations[CHECKSUM_ANNOTATION] = digest
            doc.mark_changed()
            updated.append(doc)
    return updated


# --- where the runtime images live -------------------------------------------------------


class ImageSlot(NamedTuple):
    """One image the hub will hand to KubeSpawner, and how to read and write it.

    ``holder[key]`` is either a string reference or a chart-style mapping
    ``{name, tag, digest}``.
    """

    path: str  # key path shown in reports, e.g. singleuser.profileList[0].kubespawner_override.image
    holder: dict[str, Any]
    key: str

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.holder.get(self.key), dict)

    def get(self) -> str | None:
        value = self.holder.get(self.key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("name"), str) and value.get("name"):
            text = value["name"]
            if value.get("tag") not in (None, ""):
                text += f":{value['tag']}"
            if value.get("digest"):
                text += f"@{value['digest']}"
            return text
        return None

    def set(self, reference: str) -> None:
        """Store a new reference in the same shape as the old one.

        The chart's mapping form has no digest field (the hub builds ``name:tag``), so a
        digest rides in ``tag`` as ``tag@sha256:...``, or in ``name`` when there is no tag.
        """
        value = self.holder.get(self.key)
        if not isinstance(value, dict):
            self.holder[self.key] = reference
            return
        from .imageref import parse

        ref = parse(reference)
        value.pop("digest", None)
        if ref.tag:
            value["name"] = ref.name
            value["tag"] = f"{ref.tag}@{ref.digest}" if ref.digest else ref.tag
        else:
            value["name"] = f"{ref.name}@{ref.digest}" if ref.digest else ref.name


def _container_slots(path: str, containers: Any) -> Iterator[ImageSlot]:
    if isinstance(containers, list):
        for i, container in enumerate(containers):
            if isinstance(container, dict) and "image" in container:
                yield ImageSlot(f"{path}[{i}].image", container, "image")


class ProfilePart(NamedTuple):
    """One profile of a profile list, or one choice of one of its ``profile_options``.

    The one walker of profile lists (chart ``singleuser.profileList``, KubeSpawner
    ``profile_list``, and KubeSpawner's own initialised list): the post-renderer's
    image and security transforms and the spawn audit all ask it.
    """

    path: str  # key path of the kubespawner_override, e.g. singleuser.profileList[0].kubespawner_override
    position: int  # the profile's place in the list (not `index`: a tuple already has that method)
    profile: Mapping[str, Any]
    holder: Mapping[str, Any]  # what carries the override: the profile, a choice or the unlisted choice
    option: str | None = None  # profile_options key, for a choice
    choice: str | None = None  # the choice's key; None for the unlisted choice
    unlisted: bool = False  # the unlisted choice: its override is a template filled from user input

    @property
    def override(self) -> dict[str, Any] | None:
        """Its ``kubespawner_override`` mapping, if it has one."""
        override = self.holder.get("kubespawner_override")
        return override if isinstance(override, dict) else None


def profile_parts(profiles: Any, path: str) -> Iterator[ProfilePart]:
    """Every profile, then each listed choice, then the unlisted choice, of a profile list.

    Only a list is walked: a profile list that is code or a reference cannot be read here.
    """
    if not isinstance(profiles, list):
        return
    for index, profile in enumerate(profiles):
        if not isinstance(profile, Mapping):
            continue
        profile_path = f"{path}[{index}]"
        yield ProfilePart(f"{profile_path}.kubespawner_override", index, profile, profile)
        options = profile.get("profile_options")
        for option_name, option in options.items() if isinstance(options, Mapping) else ():
            if not isinstance(option, Mapping):
                continue
            option_path = f"{profile_path}.profile_options.{option_name}"
            choices = option.get("choices")
            for choice_name, choice in choices.items() if isinstance(choices, Mapping) else ():
                if isinstance(choice, Mapping):
                    yield ProfilePart(
                        f"{option_path}.choices.{choice_name}.kubespawner_override", index, profile, choice,
                        option_name, str(choice_name),
                    )
            unlisted = option.get("unlisted_choice")
            if isinstance(unlisted, Mapping):
                yield ProfilePart(
                    f"{option_path}.unlisted_choice.kubespawner_override", index, profile, unlisted, option_name,
                    unlisted=True,
                )


def _profile_slots(path: str, profiles: Any) -> Iterator[ImageSlot]:
    for part in profile_parts(profiles, path):
        override = part.override
        # An unlisted choice's override is a template ("{value}") filled from user input
        # at spawn time: not an image reference to relocate.
        if override is None or part.unlisted:
            continue
        if "image" in override:
            yield ImageSlot(f"{part.path}.image", override, "image")
        for key in ("init_containers", "extra_containers"):
            yield from _container_slots(f"{part.path}.{key}", override.get(key))


NETWORK_TOOLS_KEY = "singleuser.networkTools.image"
METADATA_BLOCK_KEY = "singleuser.cloudMetadata.blockWithIptables"


def network_tools_runs(values: dict[str, Any]) -> bool:
    """Whether a user pod ever runs ``singleuser.networkTools.image``.

    Only the iptables block of the cloud metadata server runs it (as an init container).
    The chart's default is on; only an explicit false (or "false") turns it off.
    """
    value = lookup(values, METADATA_BLOCK_KEY, True)
    return not (value is False or (isinstance(value, str) and value.lower() == "false"))


def image_slots(values: dict[str, Any]) -> Iterator[ImageSlot]:
    """Every runtime image of the hub config, in a fixed order."""
    singleuser = values.get("singleuser")
    if isinstance(singleuser, dict):
        if "image" in singleuser:
            yield ImageSlot("singleuser.image", singleuser, "image")
        tools = singleuser.get("networkTools")
        if isinstance(tools, dict) and "image" in tools:
            yield ImageSlot(NETWORK_TOOLS_KEY, tools, "image")
        yield from _container_slots("singleuser.initContainers", singleuser.get("initContainers"))
        yield from _container_slots("singleuser.extraContainers", singleuser.get("extraContainers"))
        yield from _profile_slots("singleuser.profileList", singleuser.get("profileList"))
    hub = values.get("hub")
    config = hub.get("config") if isinstance(hub, dict) else None
    spawner = config.get("KubeSpawner") if isinstance(config, dict) else None
    if isinstance(spawner, dict):
        if "image" in spawner:
            yield ImageSlot("hub.config.KubeSpawner.image", spawner, "image")
        for key in ("init_containers", "extra_containers"):
            yield from _container_slots(f"hub.config.KubeSpawner.{key}", spawner.get(key))
        yield from _profile_slots("hub.config.KubeSpawner.profile_list", spawner.get("profile_list"))
