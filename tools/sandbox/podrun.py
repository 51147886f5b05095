"""Inside a pod's private mount namespace: lay out its files, then become its program.

The stand-in kubelet (``kubelet.py``) starts this as root under
``unshare --mount --propagation private`` and writes a JSON description of the container
to its stdin (a pipe: Secret contents never touch the disk). This script then, inside the
new mount namespace only:

1. mounts a tmpfs over its staging folder and writes the pod's ConfigMap, Secret,
   projected (ServiceAccount token) and downward API volumes there;
2. mounts a tmpfs over the nearest existing parent of every path it must create
   (``/usr/local/etc``, ``/run``, ``/srv``, ``/home``...), and always over ``/tmp``, so
   that no folder is ever created on the machine's own filesystem;
3. bind-mounts each volume where the container's ``volumeMounts`` say (``subPath``
   included; API-data volumes read-only, as the kubelet mounts them) and the
   namespace's hosts file over ``/etc/hosts``;
4. creates the working directory and home for the container's user, then replaces
   itself with ``setpriv`` (the container's ``runAsUser``/``runAsGroup``, fsGroup and
   supplemental groups, no new privileges) running the program with exactly the
   container's environment.

When the program ends, the namespace and its tmpfs mounts go with it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Never hidden under a tmpfs: the system itself.
PROTECTED = {"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/usr/bin",
             "/usr/lib", "/usr/local", "/var", "/work"}


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def _depth(path: str) -> int:
    return len(Path(path).parts)


def _existing_ancestor(path: str) -> str:
    """The real path of the nearest folder of ``path`` that exists (symlinks resolved)."""
    probe = Path(path)
    while not probe.exists():
        probe = probe.parent
    return os.path.realpath(probe)


def _real(path: str) -> str:
    """``path`` with the symlinks of its existing part resolved (``/var/run/x`` -> ``/run/x``)."""
    probe, rest = Path(path), []
    while not probe.exists():
        rest.append(probe.name)
        probe = probe.parent
    return str(Path(os.path.realpath(probe)).joinpath(*reversed(rest)))


def _write_volume(root: Path, volume: dict[str, Any], fs_group: int | None) -> None:
    kind = volume["kind"]
    root.mkdir(parents=True, exist_ok=True)
    if kind == "files":
        root.chmod(0o755)
        for item in volume["files"]:
            target = root / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(item["data"]))
            target.chmod(item["mode"])
            if fs_group is not None:
                os.chown(target, 0, fs_group)
    elif kind == "empty":
        root.chmod(0o777)


def _needs_tmpfs(targets: list[str], keep_visible: list[str]) -> list[str]:
    """The folders to cover with a tmpfs so that every target can be created there."""
    covers: set[str] = set()
    for target in targets:
        if Path(target).exists():
            continue
        ancestor = _existing_ancestor(target)
        if ancestor in PROTECTED or any(k == ancestor or k.startswith(ancestor + "/") for k in keep_visible):
            raise SystemExit(f"podrun: cannot create {target}: it would hide {ancestor}")
        covers.add(ancestor)
    # a cover inside another one is not needed (the outer tmpfs is empty)
    return sorted((c for c in covers if not any(c.startswith(o + "/") for o in covers)), key=_depth)


def main() -> None:
    spec = json.load(sys.stdin)
    staging = Path(spec["staging"])
    uid, gid = int(spec["uid"]), int(spec["gid"])
    fs_group = spec.get("fsGroup")

    _mount("-t", "tmpfs", "-o", "mode=0755,size=64m", "tmpfs", str(staging))
    for name, volume in spec["volumes"].items():
        if volume["kind"] in ("files", "empty"):
            _write_volume(staging / "vol" / name, volume, fs_group)
            if volume["kind"] == "empty" and fs_group is not None:
                os.chown(staging / "vol" / name, 0, fs_group)

    mounts = [dict(m, path=_real(m["path"])) for m in spec["mounts"]]
    workdir, home = _real(spec["workdir"]), _real(spec["home"])
    targets = [m["path"] for m in mounts] + [workdir, home]
    for cover in _needs_tmpfs(targets, spec["keepVisible"]):
        _mount("-t", "tmpfs", "-o", "mode=0755", "tmpfs", cover)

    for mount in sorted(mounts, key=lambda m: _depth(m["path"])):
        volume = spec["volumes"][mount["volume"]]
        source = Path(volume["source"]) if volume["kind"] == "dir" else staging / "vol" / mount["volume"]
        if mount.get("subPath"):
            source = source / mount["subPath"]
            if not source.exists():  # the kubelet creates a missing subPath as a folder
                source.mkdir(parents=True)
        target = Path(mount["path"])
        if not target.exists():
            if source.is_dir():
                target.mkdir(parents=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
        _mount("--bind", str(source), str(target))
        if mount["readOnly"]:
            _mount("-o", "remount,bind,ro", str(target))
    _mount("--bind", "-o", "ro", spec["hosts"], "/etc/hosts")
    _mount("-o", "remount,bind,ro", "/etc/hosts")
    # last: the staging folder and the hosts file may live under /tmp, and a bind mount
    # stays where it is when its source is hidden; the programs must stay visible
    if not any(k == "/tmp" or k.startswith("/tmp/") for k in spec["keepVisible"]):
        _mount("-t", "tmpfs", "-o", "mode=1777", "tmpfs", "/tmp")

    for folder in (home, workdir):
        path = Path(folder)
        if not path.exists():
            path.mkdir(parents=True)
            os.chown(path, uid, gid)
    os.chdir(workdir)

    env = spec["env"]
    argv = list(spec["argv"])
    program = shutil.which(argv[0], path=env.get("PATH")) if "/" not in argv[0] else argv[0]
    if program is None:
        raise SystemExit(f"podrun: {argv[0]}: not found on the image's PATH {env.get('PATH')}")
    groups = sorted({int(g) for g in spec["groups"]})
    group_option = ["--groups", ",".join(map(str, groups))] if groups else ["--clear-groups"]
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", *group_option, "--no-new-privs",
               "--inh-caps=-all", "--", program, *argv[1:]]
    os.execve(shutil.which("setpriv") or "/usr/bin/setpriv", setpriv, env)


if __name__ == "__main__":
    main()
