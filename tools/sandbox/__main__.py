"""``make sandbox`` / ``make sandbox-stop``: a local Welkin-like tenant namespace to try the plugin in.

    python tools/sandbox start [--tools .tools]   # foreground; Ctrl-C stops it whole
    python tools/sandbox stop                     # from another shell

``start`` runs tools/sandbox/controlplane.py's ``ControlPlane`` with workloads (the same
code the end-to-end tests start), prints ``export KUBECONFIG=...`` for the tenant, then
watches: a process that dies stops the sandbox with its log; once a release's
``proxy-public`` Service answers (with the stand-in kubelet running the proxy), it prints
the URL to log in at. Its files live in one folder (``state_dir()``), removed on stop.

``stop`` signals the running sandbox and waits for it to finish; if it was killed
without cleaning up, ``stop`` ends the processes it had recorded and removes the folder.
Exit codes: 0 done, 1 the sandbox failed (its log printed), 2 bad use (already running).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PID_FILE = "sandbox.pid"
PROCESSES_FILE = "processes.json"  # [{"pid", "name", "binary"}], for stop after a kill -9
STOP_TIMEOUT = 60.0


def state_dir() -> Path:
    return Path(os.environ.get("JHUB_CK8S_SANDBOX_DIR") or Path(tempfile.gettempdir()) / f"jhub-ck8s-sandbox-{os.getuid()}")


def _alive(pid: int) -> bool:
    """Runs (a zombie, which has exited and waits for its parent to reap it, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _running_pid(state: Path) -> int | None:
    """The pid of the sandbox that owns ``state``, if it still runs."""
    try:
        pid = int((state / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) and "sandbox" in _cmdline(pid) else None


def login_url(plane: object, namespace: str) -> str | None:
    """Where a person logs in, once the release's proxy-public Service has an address that answers."""
    api = plane.admin_api  # type: ignore[attr-defined]
    answer = api.request("GET", f"/api/v1/namespaces/{namespace}/endpoints/proxy-public")
    if not answer.ok:
        return None
    for subset in answer.body.get("subsets") or []:
        ports = [p["port"] for p in subset.get("ports", []) if p.get("name") in ("http", None)]
        for address in subset.get("addresses") or []:
            for port in ports:
                with socket.socket() as probe:
                    probe.settimeout(0.5)
                    if probe.connect_ex((address["ip"], port)) == 0:
                        return f"http://{address['ip']}:{port}/hub/login"
    return None


def seed_harbor(plane: object, chart_archive: Path | None, tools: Path) -> None:
    """Push a stand-in image under every image name of the release (from ``helm ck8s-jupyter images``)."""
    from sandbox.registry import release_images, standin_image

    harbor = plane.harbor  # type: ignore[attr-defined]
    workdir = plane.workdir  # type: ignore[attr-defined]
    if chart_archive is None:
        print(f"sandbox: Harbor stand-in at {harbor.project} is empty: give --chart-archive (or $JUPYTERHUB_CHART) "
              "to fill it with the release's image names", flush=True)
        return
    began = time.monotonic()
    names = release_images(chart_archive, harbor.project, tools / "bin" / "helm4", workdir / "images")
    layout, tag = standin_image(workdir / "standin")
    for name in names:
        harbor.push(layout, tag, name)
    print(f"sandbox: Harbor stand-in at {harbor.project} (robot account in Secret pull-secret): "
          f"{len(names)} stand-in images under the release's names, in {time.monotonic() - began:.0f}s", flush=True)


def start(tools: Path, chart_archive: Path | None) -> int:
    state = state_dir()
    pid = _running_pid(state)
    if pid is not None:
        print(f"sandbox: already running (pid {pid}, files in {state}): stop it with make sandbox-stop", file=sys.stderr)
        return 2
    _clean(state)  # what a killed sandbox left
    sys.path.insert(0, str(HERE.parent))
    from sandbox.controlplane import ControlPlane, ControlPlaneError, find_binaries
    from sandbox.registry import missing_tools

    binaries = find_binaries(tools, workloads=True)
    if isinstance(binaries, str):
        print(f"sandbox: {binaries}", file=sys.stderr)
        return 1
    state.mkdir(mode=0o700, parents=True)
    (state / PID_FILE).write_text(f"{os.getpid()}\n")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    missing = missing_tools()
    if missing:
        print(f"sandbox: no Harbor stand-in ({', '.join(missing)} not installed: make setup-debian)", flush=True)
    plane = ControlPlane(binaries, state / "plane", workloads=True, harbor=not missing)
    code = 0
    try:
        print("sandbox: starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok ...", flush=True)
        began = time.monotonic()
        plane.start()
        records = [{"pid": p.popen.pid, "name": p.name, "binary": p.popen.args[0]} for p in plane.processes]  # type: ignore[index]
        (state / PROCESSES_FILE).write_text(json.dumps({"processes": records, "etcd_data": str(plane._etcd_data)}))
        if plane.harbor is not None:
            seed_harbor(plane, chart_archive, tools)
        nodes = [n["metadata"]["name"] for n in plane.admin_api.list("v1", "Node")]
        print(f"sandbox: ready in {time.monotonic() - began:.0f}s: API server {plane.server}, "
              f"kwok nodes {', '.join(nodes)}, tenant namespace {plane.namespace}")
        print(f"sandbox: as the tenant (namespaced admin in {plane.namespace} only):")
        print(f"export KUBECONFIG={plane.tenant.kubeconfig}", flush=True)
        registry = plane.harbor.project if plane.harbor is not None else "harbor.example.com/jupyterhub"
        print(f"sandbox: e.g. helm ck8s-jupyter deploy jhub -n {plane.namespace} --wait --atomic "
              f"--registry {registry}" + (f" --chart-archive {chart_archive}" if chart_archive else ""), flush=True)
        print("sandbox: Ctrl-C or make sandbox-stop stops it", flush=True)
        shown = None
        while not stop.wait(2.0):
            plane.check_alive()
            url = login_url(plane, plane.namespace)
            if url and url != shown:
                print(f"sandbox: log in at {url}", flush=True)
            shown = url
    except (ControlPlaneError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        code = 1
    finally:
        print("sandbox: stopping ...", flush=True)
        plane.stop()
        _clean(state)
        print("sandbox: stopped; nothing left", flush=True)
    return code


def _clean(state: Path) -> None:
    """End what a sandbox recorded (only processes that are still those binaries), remove its files."""
    with contextlib.suppress(OSError, ValueError):
        recorded = json.loads((state / PROCESSES_FILE).read_text())
        for entry in reversed(recorded["processes"]):
            pid = int(entry["pid"])
            if _alive(pid) and str(entry["binary"]) in _cmdline(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)  # each runs in a session (group) of its own
        if recorded.get("etcd_data"):
            shutil.rmtree(recorded["etcd_data"], ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)


def stop() -> int:
    state = state_dir()
    pid = _running_pid(state)
    if pid is None:
        left = state.exists()
        _clean(state)
        print("sandbox: not running" + (f"; removed what a stopped sandbox left in {state}" if left else ""))
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        print(f"sandbox: pid {pid} did not stop in {STOP_TIMEOUT:.0f}s; killing it and what it started", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _clean(state)
    print(f"sandbox: stopped (pid {pid}); nothing left")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandbox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    begin = sub.add_parser("start", help="start the sandbox in the foreground")
    begin.add_argument("--tools", type=Path, default=Path(os.environ.get("JHUB_CK8S_TOOLS", HERE.parents[1] / ".tools")))
    archive = os.environ.get("JUPYTERHUB_CHART")
    begin.add_argument("--chart-archive", type=Path, default=Path(archive) if archive else None,
                       help="the upstream chart (jupyterhub-4.4.0.tgz; default $JUPYTERHUB_CHART): fills the Harbor stand-in")
    sub.add_parser("stop", help="stop the running sandbox")
    args = parser.parse_args(argv)
    if args.command == "stop":
        return stop()
    return start(args.tools.resolve(), args.chart_archive.resolve() if args.chart_archive else None)


if __name__ == "__main__":
    sys.exit(main())
