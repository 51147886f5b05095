"""Give the notebook container of every user pod the cpu and memory of ``userResources``.

The hub sets the notebook container's requests and limits from
``singleuser.cpu``/``singleuser.memory`` in its runtime config (``Secret/hub`` key
``values.yaml``); the chart leaves most of them null, and a container without them is
refused by the platform's safeguards. Guarantees:

* ``singleuser.cpu.{guarantee,limit}`` and ``singleuser.memory.{guarantee,limit}`` are
  set from the ``userResources`` setting where they are null or absent, each reported
  by key path;
* a value the user set is never changed, nor one a KubeSpawner trait sets
  (``hub.config.KubeSpawner.cpu_guarantee``, ``cpu_limit``, ``mem_guarantee``,
  ``mem_limit``), nor a ``singleuser.cpu``/``memory`` that is not a mapping;
* a ``userResources`` field set to null fills nothing.

Before (``values.yaml`` of ``Secret/hub``; ``userResources`` defaults)::

    singleuser: {cpu: {guarantee: null, limit: null}, memory: {guarantee: 1G, limit: null}}

After::

    singleuser: {cpu: {guarantee: 0.1, limit: 1.0}, memory: {guarantee: 1G, limit: 2G}}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from jhub_ck8s.hubfindings import SPAWNER, HubFindings

if TYPE_CHECKING:
    from jhub_ck8s.report import Finding
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "user-resources"


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    hub = stream.hub()
    if hub is None:
        return
    run = HubFindings(ID, hub)
    wanted = settings.user_resources
    spawner = hub.get(SPAWNER)
    spawner = spawner if isinstance(spawner, Mapping) else {}
    for section, part, trait, default in (
        ("cpu", "guarantee", "cpu_guarantee", wanted.cpu_guarantee),
        ("cpu", "limit", "cpu_limit", wanted.cpu_limit),
        ("memory", "guarantee", "mem_guarantee", wanted.memory_guarantee),
        ("memory", "limit", "mem_limit", wanted.memory_limit),
    ):
        path = f"singleuser.{section}.{part}"
        if default is None or hub.get(path) is not None or spawner.get(trait) is not None:
            continue
        current = hub.get(f"singleuser.{section}")
        if current is not None and not isinstance(current, dict):
            continue  # not a mapping: the chart's schema rejects it already; never replace it
        hub.ensure(f"singleuser.{section}")[part] = default
        yield run.change(path, f"set to {default} (from the userResources setting)")
