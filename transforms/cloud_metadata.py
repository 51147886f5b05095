"""Switch off the chart's iptables block of the cloud metadata server; check what replaces it.

``singleuser.cloudMetadata.blockWithIptables: true`` (the chart's default) makes the hub
add an init container to every user pod that is privileged, runs as root and adds
NET_ADMIN: Pod Security "restricted" rejects it, so no user pod could start. This is a
change the platform forces. Guarantees:

* ``singleuser.cloudMetadata.blockWithIptables: true`` in the hub's runtime config
  (``Secret/hub`` key ``values.yaml``) becomes ``false``, reported by key path;
* the chart's singleuser NetworkPolicy blocks 169.254.169.254 instead: when that
  policy is off (``singleuser.networkPolicy.enabled: false``) or allows the address
  (``egressAllowRules.cloudMetadataServer: true``), a warning (rule
  ``cloud-metadata-open``) says that user pods can reach it;
* a block already off, or absent, is left alone and nothing is reported.

Before (``values.yaml`` of ``Secret/hub``)::

    singleuser: {cloudMetadata: {blockWithIptables: true, ip: 169.254.169.254}}

After::

    singleuser: {cloudMetadata: {blockWithIptables: false, ip: 169.254.169.254}}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.hubfindings import HubFindings

if TYPE_CHECKING:
    from jhub_ck8s.report import Finding
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "cloud-metadata"
BLOCK = "singleuser.cloudMetadata.blockWithIptables"


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    hub = stream.hub()
    if hub is None or hub.get(BLOCK) is not True:
        return
    run = HubFindings(ID, hub)
    hub.ensure("singleuser.cloudMetadata")["blockWithIptables"] = False
    yield run.change(
        BLOCK,
        "switched off the iptables block of the cloud metadata server: it adds a privileged, root, "
        "NET_ADMIN init container to every user pod, which Pod Security restricted rejects; the "
        "chart's singleuser NetworkPolicy blocks 169.254.169.254 instead",
    )
    policy_on = hub.get("singleuser.networkPolicy.enabled") is not False
    metadata_allowed = hub.get("singleuser.networkPolicy.egressAllowRules.cloudMetadataServer") is True
    if not policy_on or metadata_allowed:
        yield run.warning(
            "singleuser.networkPolicy",
            "user pods can reach the cloud metadata server 169.254.169.254: the singleuser "
            "NetworkPolicy is off or allows it, and the iptables block is off",
            "set singleuser.networkPolicy.enabled to true and "
            "singleuser.networkPolicy.egressAllowRules.cloudMetadataServer to false",
            "cloud-metadata-open",
        )
