#!/usr/bin/env python3
"""The sandbox's stand-in kubelet: runs the programs of the pods kwok "runs", where it can.

kwok makes pods ``Running`` and gives each an IP on the loopback network (127.0.0.0/8),
but runs nothing. This process watches the pods and Services of the cluster (or of one
namespace) and, for every pod that is bound to a node, ``Running``, with a loopback
``podIP``, not being deleted, and whose image has a program in the ONE table of
``programs.py`` (the hub, the proxy, user servers), runs that program as the image would,
with what a kubelet gives a container:

* **environment**: the Service variables the kubelet adds (``<SVC>_SERVICE_HOST``/``_PORT``,
  the ``_PORT_*`` link variables, ``KUBERNETES_SERVICE_*``), then ``envFrom`` and ``env``
  in order, ``valueFrom`` resolved (``secretKeyRef``, ``configMapKeyRef``, ``fieldRef``,
  ``resourceFieldRef`` for whole units), ``$(VAR)`` expanded in values, command and args;
* **files**: ConfigMap, Secret, projected (ServiceAccount token from the TokenRequest API,
  bound to the pod; ``kube-root-ca.crt``; downward API) and downward API volumes,
  ``emptyDir``, and a folder per PersistentVolumeClaim in the work folder, mounted where
  ``volumeMounts`` say, in a private mount namespace (``podrun.py``): nothing is written
  to the machine's filesystem and Secret contents never touch the disk;
* **identity**: ``runAsUser``/``runAsGroup`` (container over pod over the image's
  ``USER``), ``fsGroup`` and ``supplementalGroups``; uid 0 is never used;
* **network**: the program listens on the pod's IP; Service names (``svc``, ``svc.ns``,
  ``svc.ns.svc``, ``svc.ns.svc.cluster.local``, ``kubernetes``...) resolve through a private
  ``/etc/hosts`` to the IP of a running pod the Service selects (the API server for
  ``kubernetes``). There is no kube-proxy: ``<SVC>_SERVICE_PORT`` is the port the
  Service's traffic lands on (its ``targetPort``), and a Service's address is that of
  one of its pods, kept current in the hosts file as pods come and go.

A program that exits is started again with a growing delay (``restartPolicy`` Always or
OnFailure), as a kubelet does. A pod that is deleted has its program stopped (SIGTERM,
then SIGKILL after its grace period, at most 10 s). Every other image runs nothing.

Logs: ``WORKDIR/logs/<namespace>_<pod>.log`` (the program's output and what this
kubelet did for that pod); this process logs to stderr. SIGTERM or SIGINT stops every
program and removes everything it made in the work folder except the logs.

usage: kubelet.py --kubeconfig ADMIN_KUBECONFIG --workdir DIR [--namespace NS] [--tools DIR]

It needs root (mount namespaces, setpriv) and the programs of ``make sandbox-programs``;
without them it says so once and runs nothing (kwok alone marks the pods running).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import ipaddress
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

if __package__:
    from .programs import Program, Runtimes, program_for
else:  # run as a script (python tools/sandbox/kubelet.py): this folder is sys.path[0]
    from programs import Program, Runtimes, program_for  # type: ignore[no-redef,import-not-found]

REPO = Path(__file__).resolve().parents[2]
PODRUN = Path(__file__).resolve().parent / "podrun.py"
#: How long a pod waits for the Services of its namespace to have an address before its
#: program starts without their variables (a kubelet gives the variables of every Service
#: that exists; here a Service's address is a pod's, which may come a moment later).
SERVICE_WAIT = 15.0
MAX_GRACE = 10.0
BACKOFF_MAX = 10.0
WATCH_TIMEOUT = 50  # seconds the API server keeps one watch open
LIST_LIMIT = 500


class Refused(Exception):
    """This pod cannot start now (what a kubelet reports as CreateContainerConfigError)."""


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} kubelet: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- the API server


@dataclass
class Api:
    """A client for the API server from a kubeconfig (client certificate or token)."""

    host: str
    port: int
    context: ssl.SSLContext
    headers: dict[str, str]

    @classmethod
    def from_kubeconfig(cls, path: Path) -> Api:
        import yaml

        config = yaml.safe_load(path.read_text())
        current = config.get("current-context")
        context = next(c["context"] for c in config["contexts"] if c["name"] == current)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        base = path.parent
        tls = ssl.create_default_context()
        if cluster.get("certificate-authority-data"):
            tls.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif cluster.get("certificate-authority"):
            tls.load_verify_locations(cafile=str(base / cluster["certificate-authority"]))
        headers: dict[str, str] = {}
        if user.get("client-certificate-data"):
            # the ssl module reads certificates from files only: a private temporary file
            with tempfile.TemporaryDirectory() as folder:
                cert, key = Path(folder, "c"), Path(folder, "k")
                cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
                key.write_bytes(base64.b64decode(user["client-key-data"]))
                tls.load_cert_chain(str(cert), str(key))
        elif user.get("client-certificate"):
            tls.load_cert_chain(str(base / user["client-certificate"]), str(base / user["client-key"]))
        if user.get("token"):
            headers["Authorization"] = f"Bearer {user['token']}"
        server = urlsplit(cluster["server"])
        return cls(server.hostname or "127.0.0.1", server.port or 443, tls, headers)

    @property
    def ca_pem(self) -> str:
        return "".join(ssl.DER_cert_to_PEM_cert(der) for der in self.context.get_ca_certs(binary_form=True))

    def _connection(self, timeout: float) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)

    def call(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None) -> tuple[int, Any]:
        connection = self._connection(30)
        try:
            headers = {"Accept": "application/json", **self.headers}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path + (f"?{urlencode(query)}" if query else ""), payload, headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw) if raw else {}
            except ValueError:
                return response.status, {"message": raw[:200].decode(errors="replace")}
        finally:
            connection.close()

    def get(self, path: str) -> dict[str, Any] | None:
        status, body = self.call("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise Refused(f"GET {path}: HTTP {status} {body.get('message', '')}")
        return body  # type: ignore[no-any-return]

    def stream(self, path: str, query: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """The events of one watch request, until the server ends it."""
        connection = self._connection(WATCH_TIMEOUT + 30)
        try:
            connection.request("GET", f"{path}?{urlencode(query)}", headers={"Accept": "application/json", **self.headers})
            response = connection.getresponse()
            if response.status != 200:
                raise Refused(f"watch {path}: HTTP {response.status}")
            while True:
                line = response.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            connection.close()


class Watcher(threading.Thread):
    """List, then watch, one resource; keeps ``objects`` (uid -> object) current."""

    def __init__(self, api: Api, path: str, changed: threading.Event, stopping: threading.Event) -> None:
        super().__init__(daemon=True, name=f"watch {path}")
        self.api, self.path, self.changed, self.stopping = api, path, changed, stopping
        self.objects: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.synced = threading.Event()

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.objects.values())

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                version = self._list()
                while not self.stopping.is_set():
                    version = self._watch(version)
            except Exception as exc:  # a dropped connection, a 410 Gone: list again
                if not self.stopping.is_set():
                    log(f"{self.path}: {type(exc).__name__}: {exc}; listing again")
                    self.stopping.wait(1.0)

    def _list(self) -> str:
        status, body = self.api.call("GET", self.path, query={"limit": str(LIST_LIMIT)})
        if status != 200:
            raise Refused(f"list {self.path}: HTTP {status}")
        items = list(body.get("items", []))
        while body.get("metadata", {}).get("continue"):
            status, body = self.api.call("GET", self.path, query={"limit": str(LIST_LIMIT),
                                                                   "continue": body["metadata"]["continue"]})
            items += body.get("items", [])
        with self.lock:
            self.objects = {item["metadata"]["uid"]: item for item in items}
        self.synced.set()
        self.changed.set()
        return str(body["metadata"]["resourceVersion"])

    def _watch(self, version: str) -> str:
        query = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true",
                 "timeoutSeconds": str(WATCH_TIMEOUT)}
        for event in self.api.stream(self.path, query):
            kind, obj = event.get("type"), event.get("object", {})
            if kind == "ERROR":
                raise Refused(f"watch {self.path}: {obj.get('message')}")
            version = obj.get("metadata", {}).get("resourceVersion", version)
            if kind == "BOOKMARK":
                continue
            with self.lock:
                if kind == "DELETED":
                    self.objects.pop(obj["metadata"]["uid"], None)
                else:
                    self.objects[obj["metadata"]["uid"]] = obj
            self.changed.set()
        return version


# ------------------------------------------------------------------------ Services


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _running(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    return (status.get("phase") == "Running" and bool(status.get("podIP"))
            and not pod["metadata"].get("deletionTimestamp"))


def _container_port(pod: Mapping[str, Any], target: Any) -> int | None:
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in pod["spec"].get("containers", []):
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


@dataclass(frozen=True)
class Address:
    """Where a Service's traffic lands here: a pod's IP, and per Service port its target port."""

    ip: str
    ports: tuple[tuple[str, int, str], ...]  # (port name, target port, protocol)


def service_addresses(services: list[dict[str, Any]], pods: list[dict[str, Any]], api: Api
                      ) -> dict[tuple[str, str], Address | None]:
    """(namespace, name) -> the address of every Service (None: it selects no running pod yet)."""
    found: dict[tuple[str, str], Address | None] = {}
    for service in services:
        meta, spec = service["metadata"], service.get("spec") or {}
        key = (meta["namespace"], meta["name"])
        if key == ("default", "kubernetes"):
            found[key] = Address(api.host, (("https", api.port, "TCP"),))
            continue
        selector = spec.get("selector")
        if not selector:
            continue  # no selector: endpoints made by hand, not served here
        candidates = sorted((p for p in pods if p["metadata"]["namespace"] == meta["namespace"] and _running(p)
                             and _matches(selector, p["metadata"].get("labels") or {})),
                            key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))
        if not candidates:
            found[key] = None
            continue
        pod = candidates[0]
        ports = []
        for port in spec.get("ports") or []:
            target = _container_port(pod, port.get("targetPort", port["port"]))
            if target is not None:
                ports.append((str(port.get("name") or ""), target, str(port.get("protocol") or "TCP")))
        found[key] = Address(pod["status"]["podIP"], tuple(ports))
    return found


def hosts_file(namespace: str, addresses: Mapping[tuple[str, str], Address | None], api: Api) -> str:
    """/etc/hosts for the pods of one namespace: its Services by short name, every
    Service by its longer names, ``kubernetes`` for the API server."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    kubernetes = "kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local"
    if api.host != "127.0.0.1":
        lines.append(f"{api.host}\t{kubernetes}")
    else:
        lines[0] += f" {kubernetes}"
    for (ns, name), address in sorted(addresses.items()):
        if address is None or (ns, name) == ("default", "kubernetes"):
            continue
        names = [f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"]
        if ns == namespace:
            names.insert(0, name)
        lines.append(f"{address.ip}\t{' '.join(names)}")
    return "\n".join(lines) + "\n"


def service_env(namespace: str, addresses: Mapping[tuple[str, str], Address | None], links: bool) -> dict[str, str]:
    """The variables a kubelet adds for Services (``enableServiceLinks``; the API server's always)."""
    env: dict[str, str] = {}
    for (ns, name), address in sorted(addresses.items()):
        if address is None or not address.ports:
            continue
        if (ns, name) != ("default", "kubernetes") and not (links and ns == namespace):
            continue
        prefix = name.upper().replace("-", "_")
        _, first_port, first_proto = address.ports[0]
        env[f"{prefix}_SERVICE_HOST"] = address.ip
        env[f"{prefix}_SERVICE_PORT"] = str(first_port)
        env[f"{prefix}_PORT"] = f"{first_proto.lower()}://{address.ip}:{first_port}"
        for port_name, port, proto in address.ports:
            if port_name:
                env[f"{prefix}_SERVICE_PORT_{port_name.upper().replace('-', '_')}"] = str(port)
            link = f"{prefix}_PORT_{port}_{proto.upper()}"
            env[link] = f"{proto.lower()}://{address.ip}:{port}"
            env[f"{link}_PROTO"] = proto.lower()
            env[f"{link}_PORT"] = str(port)
            env[f"{link}_ADDR"] = address.ip
    return env


# ---------------------------------------------------------------------- environment


_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: a defined variable is replaced, ``$$`` is ``$``,
    anything else is left as written."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))
    return _REFERENCE.sub(replace, text)


_FIELD = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def field_value(pod: Mapping[str, Any], path: str) -> str:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"), "status.hostIP": status.get("hostIP"),
        "status.podIP": status.get("podIP"),
        "status.podIPs": ",".join(p["ip"] for p in status.get("podIPs") or []),
        "status.hostIPs": ",".join(p["ip"] for p in status.get("hostIPs") or []),
    }
    if path in simple:
        return str(simple[path] or "")
    match = _FIELD.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        values = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    raise Refused(f"fieldRef {path} is not supported")


_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "m": 0.001}


def _quantity(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text))
    if not match or match.group(2) not in _UNITS:
        raise Refused(f"cannot read the quantity {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def resource_value(container: Mapping[str, Any], ref: Mapping[str, Any]) -> str:
    kind, _, name = str(ref["resource"]).partition(".")
    value = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if value is None:
        raise Refused(f"resourceFieldRef {ref['resource']}: the container sets none (node allocatable is not known here)")
    divisor = _quantity(str(ref.get("divisor") or "1"))
    result = _quantity(str(value)) / divisor
    return str(int(-(-result // 1)))  # rounded up, as the kubelet does


class Objects:
    """ConfigMaps and Secrets read once per pod start (the kubelet reads them at container start)."""

    def __init__(self, api: Api, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self._cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        key = (kind, name)
        if key not in self._cache:
            self._cache[key] = self.api.get(f"/api/v1/namespaces/{self.namespace}/{kind}/{name}")
        return self._cache[key]

    def data(self, kind: str, name: str, optional: bool) -> dict[str, bytes] | None:
        """Every key of a ConfigMap or Secret as bytes; None when it is optional and absent."""
        obj = self.get(kind, name)
        if obj is None:
            if optional:
                return None
            raise Refused(f"{kind[:-1]} {name!r} not found")
        if kind == "secrets":
            return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        values = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        values.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return values

    def key(self, kind: str, ref: Mapping[str, Any]) -> str | None:
        optional = bool(ref.get("optional"))
        values = self.data(kind, ref["name"], optional)
        if values is None:
            return None
        if ref["key"] not in values:
            if optional:
                return None
            raise Refused(f"key {ref['key']!r} not found in {kind[:-1]} {ref['name']!r}")
        return values[ref["key"]].decode("utf-8", errors="replace")


def container_env(pod: Mapping[str, Any], container: Mapping[str, Any], objects: Objects,
                  services: Mapping[str, str]) -> dict[str, str]:
    """The container's environment, built as the kubelet builds it."""
    env = dict(services)
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, ref in (("configmaps", source.get("configMapRef")), ("secrets", source.get("secretRef"))):
            if ref:
                values = objects.data(kind, ref["name"], bool(ref.get("optional"))) or {}
                for key, raw in values.items():
                    env[prefix + key] = raw.decode("utf-8", errors="replace")
    for var in container.get("env") or []:
        name, source = var["name"], var.get("valueFrom")
        if source is None:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        value: str | None
        if "fieldRef" in source:
            value = field_value(pod, source["fieldRef"]["fieldPath"])
        elif "secretKeyRef" in source:
            value = objects.key("secrets", source["secretKeyRef"])
        elif "configMapKeyRef" in source:
            value = objects.key("configmaps", source["configMapKeyRef"])
        elif "resourceFieldRef" in source:
            value = resource_value(container, source["resourceFieldRef"])
        else:
            raise Refused(f"env {name}: valueFrom {sorted(source)} is not supported")
        if value is not None:
            env[name] = value
    return env


# --------------------------------------------------------------------------- volumes


def _items(values: Mapping[str, bytes], items: list[dict[str, Any]] | None, mode: int, where: str
           ) -> list[dict[str, Any]]:
    if not items:
        return [{"path": k, "data": base64.b64encode(v).decode(), "mode": mode} for k, v in sorted(values.items())]
    files = []
    for item in items:
        if item["key"] not in values:
            raise Refused(f"{where}: key {item['key']!r} not found")
        files.append({"path": item["path"], "data": base64.b64encode(values[item["key"]]).decode(),
                      "mode": int(item.get("mode", mode))})
    return files


def _token(api: Api, pod: Mapping[str, Any], source: Mapping[str, Any]) -> bytes:
    meta = pod["metadata"]
    account = pod["spec"].get("serviceAccountName") or "default"
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"audiences": [source["audience"]] if source.get("audience") else None,
                        "expirationSeconds": int(source.get("expirationSeconds", 3607)),
                        "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}}}
    status, body = api.call("POST", f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{account}/token", request)
    if status != 201:
        raise Refused(f"TokenRequest for ServiceAccount {account}: HTTP {status} {body.get('message', '')}")
    return str(body["status"]["token"]).encode()


def _downward(pod: Mapping[str, Any], items: list[dict[str, Any]], mode: int) -> list[dict[str, Any]]:
    files = []
    for item in items:
        if "fieldRef" not in item:
            raise Refused(f"downwardAPI item {item.get('path')}: only fieldRef is supported")
        value = field_value(pod, item["fieldRef"]["fieldPath"]).encode()
        files.append({"path": item["path"], "data": base64.b64encode(value).decode(), "mode": int(item.get("mode", mode))})
    return files


def volumes(pod: Mapping[str, Any], objects: Objects, api: Api, claims: Path) -> dict[str, dict[str, Any]]:
    """Every volume of the pod as podrun.py lays it out: files (API data), an empty
    folder, or a folder on disk (a claim)."""
    laid: dict[str, dict[str, Any]] = {}
    for volume in pod["spec"].get("volumes") or []:
        name = volume["name"]
        if "configMap" in volume or "secret" in volume:
            kind = "configmaps" if "configMap" in volume else "secrets"
            source = volume.get("configMap") or volume.get("secret") or {}
            ref = str(source.get("name") or source.get("secretName"))
            values = objects.data(kind, ref, bool(source.get("optional")))
            laid[name] = {"kind": "files", "api": True,
                          "files": _items(values or {}, source.get("items"), int(source.get("defaultMode", 0o644)),
                                          f"volume {name}")}
        elif "projected" in volume:
            projected = volume["projected"]
            mode = int(projected.get("defaultMode", 0o644))
            files: list[dict[str, Any]] = []
            for source in projected.get("sources") or []:
                if "serviceAccountToken" in source:
                    token = source["serviceAccountToken"]
                    files.append({"path": token["path"], "data": base64.b64encode(_token(api, pod, token)).decode(),
                                  "mode": int(token.get("mode", mode))})
                elif "configMap" in source or "secret" in source:
                    kind = "configmaps" if "configMap" in source else "secrets"
                    ref = source.get("configMap") or source.get("secret")
                    values = objects.data(kind, ref["name"], bool(ref.get("optional")))
                    files += _items(values or {}, ref.get("items"), mode, f"volume {name}")
                elif "downwardAPI" in source:
                    files += _downward(pod, source["downwardAPI"].get("items") or [], mode)
                else:
                    raise Refused(f"volume {name}: projected source {sorted(source)} is not supported")
            laid[name] = {"kind": "files", "api": True, "files": files}
        elif "downwardAPI" in volume:
            source = volume["downwardAPI"]
            laid[name] = {"kind": "files", "api": True,
                          "files": _downward(pod, source.get("items") or [], int(source.get("defaultMode", 0o644)))}
        elif "emptyDir" in volume:
            laid[name] = {"kind": "empty"}
        elif "persistentVolumeClaim" in volume:
            claim = claims / pod["metadata"]["namespace"] / volume["persistentVolumeClaim"]["claimName"]
            laid[name] = {"kind": "dir", "source": str(claim)}
        else:
            laid[name] = {"kind": "unsupported", "what": sorted(k for k in volume if k != "name")}
    return laid


# ------------------------------------------------------------------------------ pods


@dataclass
class PodProcess:
    """The program of one container of one pod, and its restarts."""

    uid: str
    namespace: str
    name: str
    container: str
    log_path: Path
    staging: Path
    popen: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    first_seen: float = field(default_factory=time.monotonic)
    stopped: bool = False

    def note(self, message: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as handle:
            handle.write(f"--- {time.strftime('%H:%M:%S')} kubelet: {message}\n")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, grace: float) -> None:
        self.stopped = True
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        # the program's own children (a kernel, the idle culler) share its process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.note(f"stopped (exit code {self.popen.returncode})")


class Kubelet:
    def __init__(self, api: Api, workdir: Path, namespace: str | None, runtimes: Runtimes) -> None:
        self.api, self.workdir, self.namespace, self.runtimes = api, workdir, namespace, runtimes
        self.changed = threading.Event()
        self.stopping = threading.Event()
        scope = f"/api/v1/namespaces/{namespace}" if namespace else "/api/v1"
        self.pods = Watcher(api, f"{scope}/pods", self.changed, self.stopping)
        self.services = Watcher(api, f"{scope}/services", self.changed, self.stopping)
        self.processes: dict[str, PodProcess] = {}
        self.hosts: dict[str, str] = {}
        self.logs = workdir / "logs"
        self.run_dir = workdir / "run"

    # --------------------------------------------------------------- main loop

    def run(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "hosts").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "pods").mkdir(parents=True, exist_ok=True)
        self.pods.start()
        self.services.start()
        log(f"watching pods and services {'in ' + self.namespace if self.namespace else 'in all namespaces'}")
        while not self.stopping.is_set():
            self.changed.wait(timeout=1.0)
            self.changed.clear()
            if self.pods.synced.is_set() and self.services.synced.is_set():
                try:
                    self.reconcile()
                except Exception as exc:  # never die on one bad object: say what, go on
                    log(f"reconcile: {type(exc).__name__}: {exc}")
        self.shutdown()

    def shutdown(self) -> None:
        for process in self.processes.values():
            process.stop(MAX_GRACE)
        for process in self.processes.values():
            with contextlib.suppress(OSError):
                process.staging.rmdir()
        import shutil

        shutil.rmtree(self.run_dir, ignore_errors=True)
        log("stopped every program")

    def services_of_namespaces(self) -> list[dict[str, Any]]:
        services = self.services.snapshot()
        if self.namespace and not any(s["metadata"]["name"] == "kubernetes" for s in services
                                      if s["metadata"]["namespace"] == "default"):
            services.append({"metadata": {"namespace": "default", "name": "kubernetes"}, "spec": {}})
        return services

    def reconcile(self) -> None:
        pods = self.pods.snapshot()
        addresses = service_addresses(self.services_of_namespaces(), pods, self.api)
        self._write_hosts({p["metadata"]["namespace"] for p in pods} | set(self.hosts), addresses)
        wanted: dict[str, tuple[dict[str, Any], dict[str, Any], Program]] = {}
        for pod in pods:
            if not _running(pod) or not pod["spec"].get("nodeName"):
                continue
            if not ipaddress.ip_address(pod["status"]["podIP"]).is_loopback:
                continue  # only ever listen on the loopback network
            for container in pod["spec"].get("containers", []):
                program = program_for(str(container.get("image", "")))
                if program is not None:
                    wanted[f"{pod['metadata']['uid']}/{container['name']}"] = (pod, container, program)
        for key in [k for k in self.processes if k not in wanted]:
            gone = self.processes.pop(key)
            gone.stop(MAX_GRACE)
            with contextlib.suppress(OSError):
                gone.staging.rmdir()
            log(f"{gone.namespace}/{gone.name}: stopped")
        now = time.monotonic()
        for key, (pod, container, program) in sorted(wanted.items()):
            process = self.processes.get(key)
            if process is None:
                meta = pod["metadata"]
                process = PodProcess(meta["uid"], meta["namespace"], meta["name"], container["name"],
                                     self.logs / f"{meta['namespace']}_{meta['name']}.log",
                                     self.run_dir / "pods" / f"{meta['uid']}-{container['name']}")
                self.processes[key] = process
            if process.alive() or now < process.next_start:
                continue
            if process.popen is not None:
                code = process.popen.returncode
                policy = pod["spec"].get("restartPolicy", "Always")
                process.note(f"exited with code {code}")
                if policy == "Never" or (policy == "OnFailure" and code == 0):
                    continue
                process.restarts += 1
                process.popen = None
                process.next_start = now + min(BACKOFF_MAX, 2.0 ** (process.restarts - 1))
                self.changed.set()
                continue
            self._start(process, pod, container, program, addresses)

    def _write_hosts(self, namespaces: set[str], addresses: Mapping[tuple[str, str], Address | None]) -> None:
        for namespace in namespaces:
            text = hosts_file(namespace, addresses, self.api)
            if self.hosts.get(namespace) == text:
                continue
            path = self.run_dir / "hosts" / namespace
            # rewritten in place: the file is bind-mounted over /etc/hosts in running pods
            with path.open("a+") as handle:
                handle.seek(0)
                handle.truncate()
                handle.write(text)
            path.chmod(0o644)
            self.hosts[namespace] = text

    # ------------------------------------------------------------------- start

    def _start(self, process: PodProcess, pod: dict[str, Any], container: dict[str, Any], program: Program,
               addresses: Mapping[tuple[str, str], Address | None]) -> None:
        namespace = process.namespace
        missing = sorted(name for (ns, name), a in addresses.items() if ns == namespace and a is None)
        if missing and time.monotonic() - process.first_seen < SERVICE_WAIT:
            return  # the 1 s tick tries again
        try:
            spec = self._container_spec(pod, container, program, addresses)
        except Refused as exc:
            if process.next_start == 0.0 or time.monotonic() > process.next_start:
                process.note(f"cannot start yet: {exc}")
                log(f"{namespace}/{process.name}: cannot start yet: {exc}")
                process.next_start = time.monotonic() + 2.0
            return
        if missing:
            process.note(f"Services without a running pod, no variables for them: {', '.join(missing)}")
        process.staging.mkdir(parents=True, exist_ok=True)
        spec["staging"] = str(process.staging)
        spec["hosts"] = str(self.run_dir / "hosts" / namespace)
        process.note(f"starting {program.name} as uid {spec['uid']} gid {spec['gid']} on {pod['status']['podIP']}: "
                     f"{' '.join(spec['argv'])}")
        handle = process.log_path.open("ab")
        try:
            process.popen = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", sys.executable, str(PODRUN)],
                stdin=subprocess.PIPE, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                cwd="/")
        finally:
            handle.close()
        assert process.popen.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            process.popen.stdin.write(json.dumps(spec).encode())
            process.popen.stdin.close()
        log(f"{namespace}/{process.name}: started {program.name} (pid {process.popen.pid})")

    def _container_spec(self, pod: dict[str, Any], container: dict[str, Any], program: Program,
                        addresses: Mapping[tuple[str, str], Address | None]) -> dict[str, Any]:
        """What podrun.py needs: files, mounts, identity, environment and command line."""
        meta, spec = pod["metadata"], pod["spec"]
        objects = Objects(self.api, meta["namespace"])
        links = spec.get("enableServiceLinks", True) is not False
        env = container_env(pod, container, objects, service_env(meta["namespace"], addresses, links))
        pod_security, security = spec.get("securityContext") or {}, container.get("securityContext") or {}
        uid = security.get("runAsUser", pod_security.get("runAsUser", program.uid))
        # no runAsGroup: the image user's group when the user is the image's, else 0 (as a runtime does)
        gid = security.get("runAsGroup", pod_security.get("runAsGroup", program.gid if int(uid) == program.uid else 0))
        if int(uid) == 0:
            raise Refused("the container would run as root (uid 0): the stand-in kubelet never does")
        fs_group = pod_security.get("fsGroup")
        groups = [*(pod_security.get("supplementalGroups") or []), *([fs_group] if fs_group is not None else [])]

        home = program.home
        base = {"PATH": ":".join([*map(str, program.path(self.runtimes)), "/usr/local/bin", "/usr/bin", "/bin"]),
                "HOSTNAME": meta["name"], "HOME": home, "LANG": "C.UTF-8"}
        env = {**base, **env}
        command = [expand(a, env) for a in container.get("command") or []]
        args = [expand(a, env) for a in container.get("args") or []]
        # Kubernetes: command replaces the image's ENTRYPOINT, args its CMD (the images here
        # have a transparent ENTRYPOINT, tini, so CMD alone is the program)
        argv = command + args if command else (args or list(program.default_command))
        port = next((int(p["containerPort"]) for p in container.get("ports") or []), 8888)
        argv = program.listen(argv, pod["status"]["podIP"], port)

        laid = volumes(pod, objects, self.api, self.workdir / "claims")
        mounts = []
        for mount in container.get("volumeMounts") or []:
            volume = laid.get(mount["name"])
            if volume is None:
                raise Refused(f"volumeMount {mount['name']!r}: no such volume")
            if volume["kind"] == "unsupported":
                raise Refused(f"volume {mount['name']!r}: {volume['what']} is not supported here")
            if volume["kind"] == "dir":
                self._claim_folder(Path(volume["source"]), fs_group)
            mounts.append({"volume": mount["name"], "path": mount["mountPath"], "subPath": mount.get("subPath", ""),
                           "readOnly": bool(mount.get("readOnly")) or bool(volume.get("api"))})
        return {"volumes": laid, "mounts": mounts, "uid": int(uid), "gid": int(gid), "groups": groups,
                "fsGroup": fs_group, "workdir": container.get("workingDir") or program.workdir, "home": home,
                "env": env, "argv": argv, "keepVisible": [str(self.runtimes.tools.resolve())]}

    @staticmethod
    def _claim_folder(folder: Path, fs_group: int | None) -> None:
        """A claim's folder: kept for the life of the sandbox, group-writable by fsGroup."""
        if not folder.exists():
            folder.mkdir(parents=True)
            os.chown(folder, 0, fs_group if fs_group is not None else 0)
            folder.chmod(0o2775 if fs_group is not None else 0o777)
        for parent in (folder.parent, folder.parent.parent):
            parent.chmod(0o755)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", type=Path, required=True, help="an admin kubeconfig")
    parser.add_argument("--workdir", type=Path, required=True, help="logs, hosts files, claim folders")
    parser.add_argument("--namespace", help="only this namespace's pods (default: all)")
    parser.add_argument("--tools", type=Path, default=Path(os.environ.get("JHUB_CK8S_TOOLS", REPO / ".tools")),
                        help="where make sandbox-programs installed the programs (default: .tools)")
    options = parser.parse_args(argv)
    runtimes = Runtimes(options.tools)
    missing = runtimes.missing()
    cannot = (f"programs not installed ({', '.join(missing)}): run make sandbox-programs" if missing else
              "needs root (private mount namespaces, setpriv)" if os.geteuid() != 0 else None)
    if cannot:
        # the sandbox runs on without programs (kwok alone marks the pods running): say so, then idle
        log(f"{cannot}; running no program")
        idle = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: idle.set())
        signal.signal(signal.SIGINT, lambda *_: idle.set())
        while not idle.wait(3600):
            pass
        return 0
    try:
        api = Api.from_kubeconfig(options.kubeconfig)
    except (OSError, KeyError, StopIteration, ssl.SSLError) as exc:
        print(f"kubelet: cannot use the kubeconfig {options.kubeconfig}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    kubelet = Kubelet(api, options.workdir.resolve(), options.namespace, runtimes)

    def stop(signum: int, _frame: Any) -> None:
        kubelet.stopping.set()
        kubelet.changed.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    kubelet.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
