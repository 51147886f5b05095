"""Real OCI registries and small test images for the mirror tests, all on 127.0.0.1, all offline.

* ``start_registry`` runs Debian's ``docker-registry`` (distribution 2.8) on a free port,
  optionally with htpasswd basic auth over plain HTTP, in its own process group;
  ``Registry.stop`` ends that group (the pytest fixtures call it in finalizers).
* ``build_images`` makes three small single-platform images with ``umoci`` (a tiny layer
  each, different content, so different digests) and one multi-architecture OCI index
  (amd64 + arm64) written by hand into the same layout, tagged ``multi``.
* ``push`` copies a layout tag to a registry with ``skopeo copy --all``.

``missing_tools()`` names what is not installed, so tests can skip with that reason.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY_BINARY = "/usr/bin/docker-registry"
TOOLS = {"docker-registry": REGISTRY_BINARY, "skopeo": "skopeo", "umoci": "umoci", "htpasswd": "htpasswd"}
USER, PASSWORD = "robot", "s3cret-Pa55"


def missing_tools() -> list[str]:
    return [name for name, binary in TOOLS.items() if not (os.path.exists(binary) if binary.startswith("/") else shutil.which(binary))]


def skip_reason() -> str | None:
    missing = missing_tools()
    if not missing:
        return None
    return f"{', '.join(missing)} not installed: run make setup (Debian packages skopeo, docker-registry, umoci, apache2-utils)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Registry:
    """One running registry; ``host`` is ``127.0.0.1:PORT``."""

    name: str
    port: int
    process: subprocess.Popen
    auth: tuple[str, str] | None = None
    log: Path | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_registry(folder: Path, name: str, *, auth: tuple[str, str] | None = None) -> Registry:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = [
        "version: 0.1",
        "log: {level: warn}",
        "storage:",
        f"  filesystem: {{rootdirectory: {folder / 'data'}}}",
        "  delete: {enabled: true}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if auth:
        htpasswd = subprocess.run(["htpasswd", "-Bbn", *auth], capture_output=True, text=True, check=True).stdout
        (folder / "htpasswd").write_text(htpasswd)
        config += ["auth:", "  htpasswd:", f"    realm: {name}", f"    path: {folder / 'htpasswd'}"]
    (folder / "config.yml").write_text("\n".join(config) + "\n")
    log = folder / "registry.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(folder / "config.yml")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    registry = Registry(name, port, process, auth, log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"registry {name} exited: {log.read_text()[-500:]}")
        try:
            urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=1)
            return registry
        except urllib.error.HTTPError:
            return registry  # 401 from the auth registry: it is up
        except OSError:
            time.sleep(0.1)
    registry.stop()
    raise RuntimeError(f"registry {name} did not start: {log.read_text()[-500:]}")


@dataclass
class Layout:
    """An OCI layout with tags ``amd``, ``arm``, ``other`` (single images) and ``multi`` (index)."""

    path: Path
    digests: dict[str, str] = field(default_factory=dict)


def _umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True)


def build_images(folder: Path) -> Layout:
    folder.mkdir(parents=True, exist_ok=True)
    layout = folder / "oci"
    _umoci("init", "--layout", str(layout))
    for tag, arch, content in (("amd", "amd64", "hello amd64\n"), ("arm", "arm64", "hello arm64\n"), ("other", "amd64", "another image\n")):
        source = folder / f"{tag}.txt"
        source.write_text(content)
        _umoci("new", "--image", f"{layout}:{tag}")
        _umoci("insert", "--rootless", "--image", f"{layout}:{tag}", str(source), f"/{tag}.txt")
        _umoci("config", "--image", f"{layout}:{tag}", "--architecture", arch, "--os", "linux", "--config.cmd", f"/{tag}")
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
    entries = []
    for tag, arch in (("amd", "amd64"), ("arm", "arm64")):
        entry = {k: v for k, v in by_tag[tag].items() if k != "annotations"}
        entry["platform"] = {"architecture": arch, "os": "linux"}
        entries.append(entry)
    blob = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries},
        separators=(",", ":"),
    ).encode()
    digest = hashlib.sha256(blob).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(blob)
    index["manifests"].append(
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": f"sha256:{digest}",
            "size": len(blob),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }
    )
    index_path.write_text(json.dumps(index))
    result = Layout(layout, {tag: m["digest"] for tag, m in by_tag.items()})
    result.digests["multi"] = f"sha256:{digest}"
    return result


def build_unique_image(folder: Path, content: str) -> Layout:
    """A single-platform image whose one layer holds ``content`` (tag ``unique``): blobs no
    other test shares, for tests that damage a registry's storage."""
    folder.mkdir(parents=True, exist_ok=True)
    layout = folder / "oci"
    _umoci("init", "--layout", str(layout))
    source = folder / "unique.txt"
    source.write_text(content)
    _umoci("new", "--image", f"{layout}:unique")
    _umoci("insert", "--rootless", "--image", f"{layout}:unique", str(source), "/unique.txt")
    _umoci("config", "--image", f"{layout}:unique", "--architecture", "amd64", "--os", "linux", "--config.cmd", "/unique")
    index = json.loads((layout / "index.json").read_text())
    return Layout(layout, {"unique": index["manifests"][0]["digest"]})


def blob_file(storage: Path, digest: str) -> Path:
    """Where docker-registry's filesystem driver keeps a blob's bytes."""
    hexdigest = digest.removeprefix("sha256:")
    return storage / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"


def push(layout: Layout, tag: str, destination: str, *, creds: tuple[str, str] | None = None) -> None:
    """``skopeo copy --all oci:LAYOUT:TAG docker://DESTINATION`` over plain HTTP."""
    command = ["skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false"]
    if creds:
        command += ["--dest-creds", ":".join(creds)]
    subprocess.run([*command, f"oci:{layout.path}:{tag}", f"docker://{destination}"], check=True, capture_output=True)


def inspect_raw(reference: str, *, creds: tuple[str, str] | None = None) -> bytes | None:
    """Raw manifest bytes, or None when the image does not exist."""
    command = ["skopeo", "inspect", "--raw", "--tls-verify=false"]
    if creds:
        command += ["--creds", ":".join(creds)]
    result = subprocess.run([*command, f"docker://{reference}"], capture_output=True, check=False)
    if result.returncode != 0:
        if b"manifest unknown" in result.stderr or b"name unknown" in result.stderr:
            return None
        raise RuntimeError(result.stderr.decode()[-400:])
    return result.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class DenyingServer:
    """Answers every request with ``status`` (401 with a Basic realm by default) and keeps
    the headers it was sent: shows whether credentials reached a registry they were not
    meant for. ``status=503`` makes a registry that is always "unavailable".
    """

    def __init__(self, status: int = 401) -> None:
        import http.server
        import threading

        seen = self.headers = []  # one dict of request headers per request

        class Handler(http.server.BaseHTTPRequestHandler):
            def _deny(self) -> None:
                seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="denying"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _deny

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorizations(self) -> list[str]:
        return [h["authorization"] for h in self.headers if "authorization" in h]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StallingRegistry:
    """A registry on 127.0.0.1 that answers reads (``/v2/`` 200, every manifest and blob 404:
    an empty registry) and never answers an upload (POST, PUT, PATCH hang until ``stop``).
    ``uploads`` counts the uploads that were begun: the handshake that a copy reached it."""

    def __init__(self) -> None:
        import http.server
        import threading

        release = self.release = threading.Event()
        begun = self.uploads = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _read(self) -> None:
                if self.path.rstrip("/") == "/v2":
                    self._answer(200, b"{}")
                else:
                    code = "MANIFEST_UNKNOWN" if "/manifests/" in self.path else "BLOB_UNKNOWN"
                    self._answer(404, json.dumps({"errors": [{"code": code, "message": "unknown"}]}).encode())

            def _stall(self) -> None:
                begun.append(f"{self.command} {self.path}")
                release.wait(600)

            do_GET = do_HEAD = _read
            do_POST = do_PUT = do_PATCH = _stall

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class SilentListener:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung registry)."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.held.append(self.sock.accept()[0])

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def delete_manifest(registry: Registry, repository: str, digest: str) -> None:
    """``DELETE /v2/REPOSITORY/manifests/DIGEST`` (the registries run with delete enabled)."""
    request = urllib.request.Request(f"http://{registry.host}/v2/{repository}/manifests/{digest}", method="DELETE")
    if registry.auth:
        token = base64.b64encode(":".join(registry.auth).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202, response.status


def processes_in_groups(groups: set[int]) -> list[str]:
    """Live (not zombie) processes whose process group is one of ``groups``, as "pid command"."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        command = text[text.index("(") + 1 : text.rindex(")")]
        state, _parent, group = text[text.rindex(")") + 2 :].split()[:3]
        if int(group) in groups and state != "Z":
            found.append(f"{stat.parent.name} {command}")
    return found


def processes_left_in_groups(groups: set[int], seconds: float = 10.0) -> list[str]:
    """``processes_in_groups`` once they had ``seconds`` to die: a process SIGKILLed a moment
    ago may still be listed until the kernel has torn it down."""
    deadline = time.monotonic() + seconds
    while (found := processes_in_groups(groups)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found
