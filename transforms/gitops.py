"""Stable renders for GitOps (``gitops: true``, ``render --gitops``, the Argo CD plugin).

``helm template`` (Argo CD's plugin, a CI job for Flux) has no ``lookup``: the upstream
chart then puts fresh random tokens into ``Secret/hub`` on every render
(``hub.config.ConfigurableHTTPProxy.auth_token``, ``hub.config.JupyterHub.cookie_secret``,
``hub.config.CryptKeeper.keys``, each ``hub.services.<name>.apiToken``), and the
checksum annotations of the hub and proxy Deployments follow them: the app is never in
sync, and every sync restarts both and logs everybody out. Here the tokens come from the
tenant's own Secret, named by ``hub.existingSecret`` (made by hand, SealedSecrets or
External Secrets; the chart mounts it and the hub reads it first). Guarantees, with
``gitops: true`` (nothing happens otherwise):

* no ``hub.existingSecret``: the run stops (exit 2) with one line naming the value to set
  and the keys that Secret must hold; nothing is rendered;
* ``Secret/hub`` keeps none of the generated tokens (the keys above are removed; the
  hub reads them from the tenant's Secret), so it carries neither a random value nor
  a secret of the tenant's;
* ``CONFIGPROXY_AUTH_TOKEN`` of every container that took it from ``Secret/hub`` (the
  hub and the proxy) takes it from the tenant's Secret, same key: both get the same token;
* the proxy's ``checksum/auth-token`` (a hash of the random token) is removed, and
  ``checksum/secret`` is recomputed from ``Secret/hub`` as written (by the pipeline), so
  both change only when their real inputs change;
* the hub mounts, of the tenant's Secret, only the keys the chart's hub reads from it (a
  projected volume: the tokens required, ``hub.db.password`` optional, as the hub reads
  it): a ``values.yaml`` key there, which the hub would merge over the hardened runtime
  config at start-up, never reaches the hub; a volume given its own ``items`` is left as
  it is, with a warning if they include ``values.yaml`` (rule ``existing-secret``).

Each change is reported, naming keys only (never a value).

Before (in ``Deployment/proxy``)::

    env: [{name: CONFIGPROXY_AUTH_TOKEN, valueFrom: {secretKeyRef: {name: hub, key: hub.config.ConfigurableHTTPProxy.auth_token}}}]

After, with ``hub.existingSecret: jhub-secrets``::

    env: [{name: CONFIGPROXY_AUTH_TOKEN, valueFrom: {secretKeyRef: {name: jhub-secrets, key: hub.config.ConfigurableHTTPProxy.auth_token}}}]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from jhub_ck8s.errors import UserError
from jhub_ck8s.hubfindings import PLATFORM_STILL
from jhub_ck8s.podspec import containers, pod_metadata, pod_spec
from jhub_ck8s.report import CHANGE, WARNING, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "gitops"

PROXY_TOKEN = "hub.config.ConfigurableHTTPProxy.auth_token"
COOKIE_SECRET = "hub.config.JupyterHub.cookie_secret"
CRYPT_KEYS = "hub.config.CryptKeeper.keys"
GENERATED = (PROXY_TOKEN, COOKIE_SECRET, CRYPT_KEYS)
DB_PASSWORD = "hub.db.password"
TOKEN_ENV = "CONFIGPROXY_AUTH_TOKEN"
AUTH_TOKEN_CHECKSUM = "checksum/auth-token"
EXISTING_VOLUME = "existing-secret"


class NoStableSource(UserError):
    """A token the chart would generate at random has no stable source (exit 2)."""


def service_keys(values: dict[str, Any]) -> list[str]:
    """``hub.services.<name>.apiToken`` for each service of the hub config, sorted."""
    hub = values.get("hub")
    services = hub.get("services") if isinstance(hub, dict) else None
    return sorted(f"hub.services.{name}.apiToken" for name in services) if isinstance(services, dict) else []


def required_keys(values: dict[str, Any]) -> list[str]:
    """The keys the tenant's Secret must hold: what the chart would otherwise generate."""
    return [*GENERATED, *service_keys(values)]


def refusal(keys: list[str], root: str = "jupyterhub.") -> str:
    """The one line that says which value to set, and what the Secret it names must hold."""
    return (
        # Named both ways: the setting comes from the flag or from the values (ck8s.gitops).
        f"gitops (--gitops or ck8s.gitops): {', '.join(keys)} have no stable source "
        "(helm template would generate them at random on every render): "
        f"set {root}hub.existingSecret to a Secret you manage with these keys "
        "(README, GitOps); nothing was rendered"
    )


def _mounted_keys(values: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What the chart's hub reads from the tenant's Secret (z2jh.get_secret_value callers):
    (the keys it must find, the keys it reads when they are there)."""
    hub = values.get("hub")
    db = hub.get("db") if isinstance(hub, dict) else None
    # get_secret_value("hub.db.password", None): a database whose password is in its URL has none
    optional = [DB_PASSWORD] if isinstance(db, dict) and db.get("type") in ("mysql", "postgres") else []
    return [COOKIE_SECRET, CRYPT_KEYS, *service_keys(values)], optional


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    if not settings.gitops:
        return
    hub = stream.hub()
    if hub is None:
        raise NoStableSource(
            "gitops (--gitops or ck8s.gitops): the release has no Secret/hub with values.yaml, "
            "so its tokens cannot be checked"
        )
    existing = hub.get("hub.existingSecret")
    if not isinstance(existing, str) or not existing:
        raise NoStableSource(refusal(required_keys(hub.values)))
    secret = hub.document
    yield from _drop_generated(secret, hub.values, existing)
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is None:
            continue
        repointed = list(_repoint_token(doc, spec, secret.name, existing))
        yield from repointed
        if repointed:
            yield from _drop_token_checksum(doc)
        yield from _mount_only_read_keys(doc, spec, existing, *_mounted_keys(hub.values))


def _drop_generated(secret: Document, values: dict[str, Any], existing: str) -> Iterator[Finding]:
    for field in ("data", "stringData"):
        data = secret.obj.get(field)
        if not isinstance(data, dict):
            continue
        for key in [*GENERATED, *service_keys(values)]:
            if key in data:
                del data[key]
                yield Finding(
                    ID, CHANGE,
                    f"removed the generated key {key} (random on every helm template): the hub reads it from "
                    f"Secret/{existing} (hub.existingSecret)",
                    secret, f"{field}.{key}",
                )


def _repoint_token(doc: Document, spec: dict[str, Any], hub_secret: str, existing: str) -> Iterator[Finding]:
    for ref in containers(spec):
        for entry in ref.container.get("env") or ():
            if not isinstance(entry, dict) or entry.get("name") != TOKEN_ENV:
                continue
            key_ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if isinstance(key_ref, dict) and key_ref.get("name") == hub_secret and key_ref.get("key") == PROXY_TOKEN:
                key_ref["name"] = existing
                yield Finding(
                    ID, CHANGE,
                    f"{TOKEN_ENV} now comes from Secret/{existing} (hub.existingSecret), key {PROXY_TOKEN}, not "
                    f"from the random one in Secret/{hub_secret}: the hub and the proxy share the tenant's token",
                    doc, ref.where, container=ref.name,
                )


def _drop_token_checksum(doc: Document) -> Iterator[Finding]:
    meta = pod_metadata(doc.obj)
    annotations = (meta or {}).get("annotations")
    if isinstance(annotations, dict) and AUTH_TOKEN_CHECKSUM in annotations:
        del annotations[AUTH_TOKEN_CHECKSUM]
        yield Finding(
            ID, CHANGE,
            f"removed {AUTH_TOKEN_CHECKSUM} (a hash of the random token, new on every render); after rotating the "
            "token in the tenant's Secret, restart the hub and the proxy",
            doc, "pod template annotations",
        )


def _mount_only_read_keys(
    doc: Document, spec: dict[str, Any], existing: str, required: list[str], optional: list[str]
) -> Iterator[Finding]:
    """The tenant's Secret volume, as a projected volume of the keys the hub reads: a secret
    volume's ``items`` can only be all required or all optional, and a missing token must
    still stop the hub's pod where the chart's whole-Secret volume stopped it."""
    for volume in spec.get("volumes") or ():
        if not isinstance(volume, dict) or volume.get("name") != EXISTING_VOLUME:
            continue
        source = volume.get("secret")
        if not isinstance(source, dict) or source.get("secretName") != existing:
            continue
        if "items" in source:  # chosen by hand: left as it is, but a values.yaml among them is said
            if any(isinstance(item, dict) and item.get("key") == "values.yaml" for item in source["items"] or ()):
                yield Finding(
                    ID, WARNING,
                    f"the hub mounts values.yaml of Secret/{existing}, which it merges over the hardened runtime "
                    f"config at start-up: the user pods it spawns are not hardened here; {PLATFORM_STILL}",
                    doc, f"volume {EXISTING_VOLUME}",
                    fix=f"leave values.yaml out of the items of volume {EXISTING_VOLUME}",
                    rule="existing-secret",
                )
            continue
        first: dict[str, Any] = {"name": existing, "items": _items(required)}
        if "optional" in source:
            first["optional"] = source["optional"]
        sources: list[dict[str, Any]] = [{"secret": first}]
        if optional:
            sources.append({"secret": {"name": existing, "items": _items(optional), "optional": True}})
        projected: dict[str, Any] = {"sources": sources}
        if "defaultMode" in source:
            projected["defaultMode"] = source["defaultMode"]
        del volume["secret"]
        volume["projected"] = projected
        also = f", and {', '.join(optional)} when there" if optional else ""
        yield Finding(
            ID, CHANGE,
            f"the hub mounts only the keys it reads of Secret/{existing} ({', '.join(required)}{also}): a "
            "values.yaml there would be merged over the hardened runtime config at start-up",
            doc, f"volume {EXISTING_VOLUME}",
        )


def _items(keys: list[str]) -> list[dict[str, str]]:
    return [{"key": key, "path": key} for key in keys]
