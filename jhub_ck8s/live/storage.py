"""Storage: with dynamic user storage, is there a StorageClass for the users' volumes?

When ``singleuser.storage.type`` is ``dynamic`` (KubeSpawner then creates a PVC per
user), the class ``singleuser.storage.dynamic.storageClass`` must exist, or, with none
named, the cluster must have a default StorageClass (``storage-class``). The release's
own PVCs (the hub's database) are checked the same way. StorageClasses are
cluster-scoped: a read the tenant may not make is a skip saying what to ask.
"""

from __future__ import annotations

from collections.abc import Iterator

from .capacity import dynamic_storage
from .client import Forbidden, LiveError, NotFound
from .model import FAIL, PASS, SKIP, Context, Result, ask_admin, label

GROUP = "Storage"
DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def _check(ctx: Context, name: str | None, subject: str, fix_key: str) -> Result:
    client = ctx.client
    try:
        if name:
            client.get("storage.k8s.io/v1", "StorageClass", name)
            return Result("storage-class", GROUP, PASS, f"StorageClass {name} exists", subject=subject)
        defaults = [c["metadata"]["name"] for c in client.list("storage.k8s.io/v1", "StorageClass")
                    if any(((c.get("metadata") or {}).get("annotations") or {}).get(a) == "true" for a in DEFAULT_CLASS)]
        if defaults:
            return Result("storage-class", GROUP, PASS, f"no class named; the default StorageClass is {defaults[0]}",
                          subject=subject)
        return Result("storage-class", GROUP, FAIL, "no StorageClass named and the cluster has no default one: "
                      "the volumes would stay Pending", f"set {fix_key} to a class the cluster has", subject)
    except NotFound:
        return Result("storage-class", GROUP, FAIL, f"StorageClass {name} does not exist: the volumes would stay Pending",
                      f"set {fix_key} to a class the cluster has (kubectl get storageclass)", subject)
    except Forbidden:
        what = f"StorageClass {name}" if name else "a default StorageClass"
        return Result("storage-class", GROUP, SKIP, f"may not read StorageClasses (cluster-scoped): {what} not checked",
                      ask_admin(f"confirm that {what} exists"), subject)
    except LiveError as exc:
        return Result("storage-class", GROUP, FAIL, str(exc), "", subject)


def run(ctx: Context) -> Iterator[Result]:
    from ..hubconfig import lookup

    checked = False
    if dynamic_storage(ctx):
        name = lookup(ctx.release.hub_values or {}, "singleuser.storage.dynamic.storageClass")
        yield _check(ctx, str(name) if name else None, "user storage (singleuser.storage)",
                     "jupyterhub.singleuser.storage.dynamic.storageClass")
        checked = True
    for pvc in ctx.release.of_kind("PersistentVolumeClaim"):
        name = (pvc.get("spec") or {}).get("storageClassName")
        yield _check(ctx, str(name) if name else None, label(pvc), "the storageClassName of this PVC in the values")
        checked = True
    if not checked:
        yield Result("storage-class", GROUP, SKIP, "user storage is not dynamic and the release has no PVC", "")
