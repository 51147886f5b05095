"""The sandbox's volume provisioner: one hostPath PersistentVolume per claim of its StorageClass.

What an external provisioner does on a real cluster, in a small loop: a Pending claim of
the class gets a volume made for it (``pvc-<claim uid>``, the claim's size and access
modes, pre-bound to the claim; kube-controller-manager's binder then binds the two), a
folder under ``--workdir`` behind it; a Released volume it made is deleted with its folder
(reclaim policy Delete). Run by tools/sandbox/controlplane.py as a process of its own:

    python tools/sandbox/provisioner.py --kubeconfig ADMIN --workdir DIR \\
        --storage-class NAME --provisioner NAME

It polls (every ``--interval`` seconds) rather than watches: a sandbox has a handful of
claims. SIGTERM ends it.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from kubeapi import KubeAPI  # run as a script: this folder is on sys.path


def volume_for(claim: dict[str, Any], folder: Path, storage_class: str, provisioner: str) -> dict[str, Any]:
    meta, spec = claim["metadata"], claim["spec"]
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{meta['uid']}", "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}},
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": storage_class,
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                         "name": meta["name"], "uid": meta["uid"]},
            "hostPath": {"path": str(folder), "type": "DirectoryOrCreate"},
        },
    }


def sync(api: KubeAPI, workdir: Path, storage_class: str, provisioner: str) -> None:
    volumes = {v["metadata"]["name"]: v for v in api.list("v1", "PersistentVolume")}
    claims = api.request("GET", "/api/v1/persistentvolumeclaims")  # every namespace
    if not claims.ok:
        raise RuntimeError(f"list claims: {claims.describe()}")
    for claim in claims.body.get("items", []):
        spec, status = claim["spec"], claim.get("status", {})
        name = f"pvc-{claim['metadata']['uid']}"
        if (spec.get("storageClassName") != storage_class or status.get("phase") != "Pending"
                or spec.get("volumeName") or name in volumes):
            continue
        folder = workdir / name
        folder.mkdir(exist_ok=True)
        answer = api.create(volume_for(claim, folder, storage_class, provisioner), None)
        if not answer.ok and answer.status != 409:
            print(f"provisioner: cannot make {name}: {answer.describe()}", file=sys.stderr, flush=True)
        else:
            print(f"provisioner: {name} for {claim['metadata']['namespace']}/{claim['metadata']['name']}", flush=True)
    for name, volume in volumes.items():
        mine = volume["metadata"].get("annotations", {}).get("pv.kubernetes.io/provisioned-by") == provisioner
        if mine and volume.get("status", {}).get("phase") in ("Released", "Failed"):
            answer = api.delete("v1", "PersistentVolume", name)
            if answer.ok or answer.status == 404:
                shutil.rmtree(workdir / name, ignore_errors=True)
                print(f"provisioner: deleted {name}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--storage-class", required=True)
    parser.add_argument("--provisioner", required=True)
    parser.add_argument("--interval", type=float, default=0.25)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    api = KubeAPI.from_kubeconfig(args.kubeconfig)
    while not stop.is_set():
        try:
            sync(api, args.workdir, args.storage_class, args.provisioner)
        except (OSError, RuntimeError, ValueError) as exc:  # the API server restarting or going away
            print(f"provisioner: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        stop.wait(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
