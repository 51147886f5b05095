"""The registry of transforms: one module per job, run in the order listed here.

Every module has the same small interface (see ``transforms/images.py`` for one):

* a docstring saying what it guarantees, with a before/after example;
* ``ID`` -- its name in reports, settings (``disable: [ID]``) and allow-lists;
* ``apply(stream, settings) -> Iterable[Finding]`` -- changes the stream's documents in
  place and returns one Finding per change or problem. It never reads stdin, prints or
  exits; the pipeline marks changed documents, applies the mode and the allow-list.

Adding a transform is one new module and one line in ``_MODULES``.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    cluster_scoped,
    images,
    load_balancer,
    min_replicas,
    network_policy,
    patches,
    pdb,
    privileged_init,
    pull_secret,
    resources,
    security_context,
    user_pod_config,
)

# Order matters: images are relocated before anything reads them; privileged init
# containers go before security contexts are filled; user patches run last.
# Planned order: images, pull-secret, privileged-init, security-context, resources,
# user-pods, load-balancer, pdb, min-replicas, cluster-scoped, network-policy, patches.
_MODULES: tuple[ModuleType, ...] = (
    images,
    pull_secret,
    privileged_init,
    security_context,
    resources,
    user_pod_config,
    load_balancer,
    pdb,
    min_replicas,
    cluster_scoped,
    network_policy,
    patches,
)

REGISTRY: dict[str, ModuleType] = {module.ID: module for module in _MODULES}


def get(transform_id: str) -> ModuleType:
    """The transform module with this ID; KeyError with the known IDs if there is none."""
    try:
        return REGISTRY[transform_id]
    except KeyError:
        raise KeyError(f"unknown transform {transform_id!r} (known: {', '.join(REGISTRY)})") from None
