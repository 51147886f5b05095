"""Add the configured image pull secret to every pod spec and to the user pods.

Guarantees: when ``pullSecret`` is set, every pod spec (hooks included) lists it in
``imagePullSecrets`` exactly once, and the hub's runtime config lists it in
``singleuser.image.pullSecrets`` so the user pods KubeSpawner creates can pull from
Harbor too -- unless the chart's global ``imagePullSecrets`` already names it (the hub
hands both lists to KubeSpawner, so a user pod would list it twice and the API server
warn ``duplicate name``). Existing entries are kept; nothing is duplicated. Without
``pullSecret`` this transform does nothing.

Before::

    spec: {containers: [...]}

After (``pullSecret: pull-secret``)::

    spec: {containers: [...], imagePullSecrets: [{name: pull-secret}]}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE, Finding

if TYPE_CHECKING:
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "pull-secret"


def _names(entries: object) -> set[str]:
    if not isinstance(entries, list):
        return set()
    return {e["name"] if isinstance(e, dict) else e for e in entries if isinstance(e, dict | str)}


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    secret = settings.pull_secret
    if not secret:
        return
    for doc in stream.live():
        spec = pod_spec(doc.obj)
        if spec is None or secret in _names(spec.get("imagePullSecrets")):
            continue
        if not isinstance(spec.get("imagePullSecrets"), list):
            spec["imagePullSecrets"] = []
        spec["imagePullSecrets"].append({"name": secret})
        yield Finding(ID, CHANGE, f"added image pull secret {secret}", doc, where="pod spec")
    hub = stream.hub()
    if hub is None:
        return
    image = hub.get("singleuser.image")
    if not isinstance(image, dict) or secret in _names(image.get("pullSecrets")):
        return
    if secret in _names(hub.get("imagePullSecrets")):
        return
    if not isinstance(image.get("pullSecrets"), list):
        image["pullSecrets"] = []
    image["pullSecrets"].append(secret)
    yield Finding(
        ID,
        CHANGE,
        "added the image pull secret for user pods",
        hub.document,
        where="values.yaml: singleuser.image.pullSecrets",
        hub_key="singleuser.image.pullSecrets",
    )
