"""What the stand-in kubelet runs for an image: ONE explicit table, image name -> program.

The sandbox has no container runtime. For the few images whose program can run on this
machine, the stand-in kubelet (``kubelet.py``) runs that program the way the image would:
the pod's own command and arguments, resolved against the image's ``PATH`` (here: the
project's hub virtualenv, or configurable-http-proxy's npm folder), the image's
``WORKDIR`` and ``HOME`` when the pod does not set them, the image's ``USER`` when the
pod's security context does not say.

An image is matched by the last path segments of its repository, whatever registry and
project it was relocated to (the post-renderer keeps the upstream path: ``quay.io/jupyterhub/k8s-hub:4.4.0``
becomes ``harbor.example.com/jupyterhub/jupyterhub/k8s-hub:4.4.0``); tag and digest are
ignored. Every other image runs nothing: kwok alone marks it running.

Pass::

    harbor.example.com/team/jupyterhub/k8s-hub:4.4.0          -> jupyterhub (hub virtualenv)
    quay.io/jupyter/scipy-notebook:2025-06-30                  -> jupyterhub-singleuser

Fail (runs nothing)::

    registry.k8s.io/pause:3.10.1
    harbor.example.com/team/library/traefik:v3.6.12

The one thing a program cannot get from the pod is its own network namespace: every pod
shares the loopback device, so each program is told to listen on the pod's IP
(``listen``), never on all addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROGRAMS", "Program", "Runtimes", "program_for", "repository_path"]


@dataclass(frozen=True)
class Runtimes:
    """Where the programs are installed (``make sandbox-programs``, part of ``make setup``)."""

    tools: Path

    @property
    def hub_venv(self) -> Path:
        return self.tools / "hub-venv"

    @property
    def chp(self) -> Path:
        return self.tools / "chp"

    def missing(self) -> list[str]:
        """What is not installed, for a one-line message (empty when everything is there)."""
        wanted = [self.hub_venv / "bin" / "jupyterhub", self.hub_venv / "bin" / "jupyterhub-singleuser",
                  self.chp / "node_modules" / ".bin" / "configurable-http-proxy"]
        return [str(p) for p in wanted if not p.exists()]


def _hub_listen(argv: list[str], ip: str, port: int) -> list[str]:
    # The chart's config binds the hub to all addresses (hub_bind_url = "http://:8081"):
    # a command-line option wins over the config file in traitlets.
    return [*argv, f"--JupyterHub.hub_bind_url=http://{ip}:{port}"]


def _drop_option(argv: list[str], names: Sequence[str]) -> list[str]:
    """argv without ``--name=value`` / ``--name value`` for each of ``names``."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in names:
            skip = True
            continue
        if any(arg.startswith(f"{name}=") for name in names):
            continue
        kept.append(arg)
    return kept


def _chp_listen(argv: list[str], ip: str, port: int) -> list[str]:
    # The chart passes "--ip=" and "--api-ip=" (all addresses): both move to the pod's IP.
    return [*_drop_option(argv, ("--ip", "--api-ip")), f"--ip={ip}", f"--api-ip={ip}"]


def _singleuser_listen(argv: list[str], ip: str, port: int) -> list[str]:
    # KubeSpawner's JUPYTERHUB_SERVICE_URL says 0.0.0.0: the option wins over it.
    return [*_drop_option(argv, ("--ip",)), f"--ip={ip}"]


@dataclass(frozen=True)
class Program:
    """How one image's program runs here."""

    name: str
    default_command: tuple[str, ...]  # the image's ENTRYPOINT+CMD stand-in, when the pod gives none
    path: Callable[[Runtimes], list[Path]]  # the image's PATH (before /usr/bin:/bin)
    workdir: str  # the image's WORKDIR
    home: str  # the image user's HOME
    uid: int  # the image's USER
    gid: int
    listen: Callable[[list[str], str, int], list[str]]


_HUB_PATH: Callable[[Runtimes], list[Path]] = lambda r: [r.hub_venv / "bin"]  # noqa: E731

HUB = Program("jupyterhub", ("jupyterhub", "--config", "/usr/local/etc/jupyterhub/jupyterhub_config.py"),
              _HUB_PATH, "/srv/jupyterhub", "/home/jovyan", 1000, 1000, _hub_listen)
PROXY = Program("configurable-http-proxy", ("configurable-http-proxy",),
                lambda r: [r.chp / "node_modules" / ".bin"], "/srv/configurable-http-proxy", "/home/chp",
                65534, 65534, _chp_listen)
SINGLEUSER = Program("jupyterhub-singleuser", ("jupyterhub-singleuser",), _HUB_PATH, "/home/jovyan",
                     "/home/jovyan", 1000, 100, _singleuser_listen)

#: The table: last path segments of an image repository -> its program.
PROGRAMS: dict[str, Program] = {
    "jupyterhub/k8s-hub": HUB,
    "jupyterhub/configurable-http-proxy": PROXY,
    "jupyterhub/k8s-singleuser-sample": SINGLEUSER,
    # the Jupyter Docker Stacks images users pick in profiles: the same server entry point
    "jupyter/base-notebook": SINGLEUSER,
    "jupyter/minimal-notebook": SINGLEUSER,
    "jupyter/scipy-notebook": SINGLEUSER,
    "jupyter/r-notebook": SINGLEUSER,
    "jupyter/datascience-notebook": SINGLEUSER,
}


def repository_path(image: str) -> str:
    """``host/a/b/name:tag@digest`` -> ``a/b/name`` (the host is the first segment when it
    has a dot, a colon or is ``localhost``, as container tools read it)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rfind(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts)


def program_for(image: str) -> Program | None:
    """The program an image runs here, or None (kwok alone runs it)."""
    segments = repository_path(image).split("/")
    for key, program in PROGRAMS.items():
        wanted = key.split("/")
        if segments[-len(wanted):] == wanted:
            return program
    return None
