"""The registry of transforms: one module per job, run in the order listed here.

Every module has the same small interface (see ``transforms/images.py`` for one):

* a docstring saying what it guarantees, with a before/after example;
* ``ID`` -- its name in reports, settings (``disable: [ID]``) and allow-lists;
* ``apply(stream, settings) -> Iterable[Finding]`` -- changes the stream's documents in
  place and returns one Finding per change or problem. It never reads stdin, prints or
  exits; the pipeline marks changed documents, applies the mode and the allow-list;
* optionally ``AFTER_HUB_WRITE_BACK = True`` -- the transform must see ``Secret/hub`` as
  it will be written: the pipeline writes the hub's runtime config (changed by the
  transforms before it) back into the Secret before calling ``apply``. Absent means
  False: the config is written back once, after the last transform. ``patches`` sets it,
  so that a user's patch of ``values.yaml`` has the final word.

Adding a transform is one new module and one line in ``_MODULES``.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    cloud_metadata,
    cluster_scoped,
    gitops,
    hub_blind_spots,
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
    user_pod_security,
    user_resources,
)

# Order matters: images are relocated before anything reads them; privileged init
# containers go before security contexts are filled; user patches run last.
# hub-blind-spots .. user-resources: in this order the keys they add to the hub config keep
# the order they had when one transform (user-pods) did all four jobs.
_MODULES: tuple[ModuleType, ...] = (
    images,
    pull_secret,
    privileged_init,
    security_context,
    resources,
    hub_blind_spots,
    cloud_metadata,
    user_pod_security,
    user_resources,
    load_balancer,
    pdb,
    min_replicas,
    cluster_scoped,
    network_policy,
    gitops,
    patches,
)

REGISTRY: dict[str, ModuleType] = {module.ID: module for module in _MODULES}

