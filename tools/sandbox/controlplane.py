"""A real Kubernetes control plane: the sandbox (``make sandbox``) and the end-to-end tests'.

``ControlPlane`` owns, on 127.0.0.1 and free ports picked at run time:

* **etcd** 3.6 (built by ``make etcd``; data in a private temporary folder, in memory
  where the machine has /dev/shm);
* **kube-apiserver** (built by ``make kube`` from the pinned ``k8s.io/kubernetes``),
  with RBAC, Pod Security admission and ValidatingAdmissionPolicy;
* **kube-controller-manager**. Without ``workloads`` only the controllers a tenant needs
  to exist: ``clusterrole-aggregation`` (fills the built-in ``admin`` ClusterRole, which
  is aggregated), ``serviceaccount`` and ``serviceaccount-token`` (the ``default``
  ServiceAccount Pods need) and ``namespace`` (namespace deletion). Nothing runs then:
  Deployments create no Pods and Jobs never complete.

With ``workloads=True`` (the sandbox, and the ``workloads`` tests) workloads run:

* the controller-manager runs ``WORKLOAD_CONTROLLERS`` (deployments to garbage
  collection, quota, endpoints, node lifecycle, the volume binder ...);
* **kube-scheduler** places pods;
* **kwok** (built by ``make kwok``) manages ``NODES`` fake nodes, created here with
  realistic capacity: its stages (``.tools/kwok/stages.yaml``) make pods Running and
  Ready, Job pods Succeeded, and give each pod an address on the loopback network
  (a random 127.X.0.0/16 per control plane), so a process started on that address
  answers as the pod;
* storage: a default StorageClass whose claims ``provisioner.py`` (a process of its own)
  binds to a hostPath volume made for each claim;
* every tenant namespace also gets the ResourceQuota ``QUOTA`` and the LimitRange
  ``LIMITS``, as a Welkin tenant namespace has;
* ``kubelet.py`` beside this file, when it exists, is started too (the stand-in kubelet
  that runs the programs of the pods it knows).

What it judges is everything the platform's admission judges: authentication, RBAC,
schema and field validation, Pod Security, and the ValidatingAdmissionPolicies in
``platform-policies.yaml`` (beside this file) standing in for the platform's
Gatekeeper safeguards.

Certificates, the service-account signing key and two identities are generated per
run: a **cluster admin** (``system:masters``, sets the stage) and a **tenant** bound by
a RoleBinding to the built-in ``admin`` ClusterRole in one namespace only, like the
platform's application developers. Each gets a kubeconfig for helm.

A process that dies shows its log (``ControlPlaneError``); ``stop()`` ends every
process it started and removes every file.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .kubeapi import Answer, KubeAPI

HERE = Path(__file__).resolve().parent

ADMIN_USER = "e2e-cluster-admin"
TENANT_USER = "team-a-developer"
TENANT_NAMESPACE = "team-a"
SAFEGUARDS_LABEL = "e2e.jhub-ck8s.io/platform-safeguards"
POLICIES = HERE / "platform-policies.yaml"
# The platform policy's trusted registry (platform-policies.yaml), replaced by
# ``trusted_registry`` when the sandbox runs a registry of its own.
POLICY_REGISTRY = "harbor.example.com/jupyterhub/"
PSA_LABELS = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "warn", "audit")
    for suffix, value in (("", "restricted"), ("-version", "latest"))
}
CONTROLLERS = "clusterrole-aggregation,serviceaccount,serviceaccount-token,namespace"
# What a real cluster runs for a tenant's workloads (kube-controller-manager v1.34 names).
WORKLOAD_CONTROLLERS = ",".join([
    CONTROLLERS,
    "deployment-controller", "replicaset-controller", "statefulset-controller", "daemonset-controller",
    "job-controller", "cronjob-controller", "ttl-after-finished-controller", "replicationcontroller-controller",
    "disruption-controller", "pod-garbage-collector-controller", "garbage-collector-controller",
    "resourcequota-controller", "endpoints-controller", "endpointslice-controller",
    "endpointslice-mirroring-controller", "root-ca-certificate-publisher-controller",
    "node-lifecycle-controller", "taint-eviction-controller",
    "persistentvolume-binder-controller", "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller", "ephemeral-volume-controller",
])
# kwok's nodes: two of a size a small cloud node has.
NODES = 2
NODE_CAPACITY = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
# A Welkin tenant namespace's quota and default container resources, written once here and
# documented in the README ("Try it: the sandbox"). The release and a few users fit in.
QUOTA = {
    "requests.cpu": "4", "requests.memory": "8Gi",
    "limits.cpu": "8", "limits.memory": "16Gi",
    "pods": "50", "persistentvolumeclaims": "20", "requests.storage": "100Gi",
}
LIMITS = {
    "default": {"cpu": "500m", "memory": "512Mi"},  # limits of a container that sets none
    "defaultRequest": {"cpu": "50m", "memory": "64Mi"},  # requests of a container that sets none
}
STORAGE_CLASS = "sandbox-local"
PROVISIONER = "sandbox.jhub-ck8s.io/local"
LOG_TAIL_LINES = 60


class ControlPlaneError(RuntimeError):
    """The control plane could not start, or one of its processes died (message has its log)."""


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path | None = None  # these three: workloads only
    kwok: Path | None = None
    kwok_stages: Path | None = None


def find_binaries(tools: Path, *, workloads: bool = False) -> Binaries | str:
    """The binaries (``workloads``: with kube-scheduler, kwok and its stages), or why they
    cannot be used (for a skip reason)."""
    bin_dir = tools / "bin"
    found = {
        "etcd": bin_dir / "etcd", "kube_apiserver": bin_dir / "kube-apiserver",
        "kube_controller_manager": bin_dir / "kube-controller-manager",
    }
    if workloads:
        found |= {"kube_scheduler": bin_dir / "kube-scheduler", "kwok": bin_dir / "kwok",
                  "kwok_stages": tools / "kwok" / "stages.yaml"}
    missing = [str(p) for name, p in found.items() if not (os.access(p, os.R_OK) if name == "kwok_stages"
                                                          else os.access(p, os.X_OK))]
    if missing:
        return f"{', '.join(missing)} not built: run make kube etcd kwok (part of make setup)"
    return Binaries(**found)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Identity:
    """A client certificate and a kubeconfig made from it."""

    user: str
    cert: Path
    key: Path
    kubeconfig: Path


class _Certificates:
    """A private CA, the server's certificate and client certificates (``cryptography``)."""

    def __init__(self, folder: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.folder = folder
        self._x509 = x509
        self._ec = ec
        self._oid = NameOID
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jhub-ck8s e2e CA")])
        self.ca_name = name
        builder = self._builder(name, name, self.ca_key.public_key(), days=2)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
        self.ca_cert = self._sign(builder, self.ca_key)
        self.ca_file = self._write_cert("ca.crt", self.ca_cert)

    def _builder(self, subject: Any, issuer: Any, public_key: Any, days: int) -> Any:
        x509 = self._x509
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=days)))

    def _sign(self, builder: Any, key: Any) -> Any:
        from cryptography.hazmat.primitives import hashes

        return builder.sign(key, hashes.SHA256())

    def _write_cert(self, name: str, cert: Any) -> Path:
        from cryptography.hazmat.primitives.serialization import Encoding

        path = self.folder / name
        path.write_bytes(cert.public_bytes(Encoding.PEM))
        return path

    def _write_key(self, name: str, key: Any) -> Path:
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        path = self.folder / name
        path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()))
        path.chmod(0o600)
        return path

    def issue(self, stem: str, common_name: str, *, organization: str | None = None,
              server_ip: str | None = None) -> tuple[Path, Path]:
        """A certificate signed by the CA: a client's, or with ``server_ip`` the server's."""
        import ipaddress

        x509, oid = self._x509, self._oid
        key = self._ec.generate_private_key(self._ec.SECP256R1())
        attributes = [x509.NameAttribute(oid.COMMON_NAME, common_name)]
        if organization:
            attributes.append(x509.NameAttribute(oid.ORGANIZATION_NAME, organization))
        builder = self._builder(x509.Name(attributes), self.ca_name, key.public_key(), days=1)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        usage = x509.oid.ExtendedKeyUsageOID.SERVER_AUTH if server_ip else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if server_ip:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address(server_ip)), x509.DNSName("localhost"),
                x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default.svc"),
            ]), critical=False)
        cert = self._sign(builder, self.ca_key)
        return self._write_cert(f"{stem}.crt", cert), self._write_key(f"{stem}.key", key)

    def service_account_key(self) -> Path:
        """The key the API server signs service-account tokens with (RSA, as kubeadm makes it)."""
        from cryptography.hazmat.primitives.asymmetric import rsa

        return self._write_key("service-account.key", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _kubeconfig(path: Path, server: str, ca: Path, user: str, cert: Path, key: Path, namespace: str | None) -> Path:
    context: dict[str, Any] = {"cluster": "e2e", "user": user}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": {"client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "e2e", "context": context}],
        "current-context": "e2e",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


# ------------------------------------------------------------------------ processes


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    stopping: bool = False

    def died(self) -> bool:
        return self.popen.poll() is not None and not self.stopping

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def report(self) -> str:
        code = self.popen.poll()
        state = f"exited with code {code}" if code is not None else "is running"
        return f"{self.name} {state}; last lines of {self.log.name}:\n{self.tail()}"

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping = True
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=timeout)


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager (+ the workloads' parts), and a tenant namespace.

    ``start()`` returns when the API server is ready, ``admin`` is aggregated, the
    policies are installed and answering, the nodes (if any) are Ready and schedulable,
    and the tenant namespace has its ``default`` ServiceAccount. ``stop()`` is always
    safe to call. ``trusted_registry`` (``HOST/PROJECT/``) replaces the policies' trusted
    registry; ``pull_secret`` (a dockerconfigjson) is put into every tenant namespace as
    ``pull-secret``.
    """

    def __init__(self, binaries: Binaries, workdir: Path, *, startup_timeout: float = 120.0,
                 workloads: bool = False, trusted_registry: str | None = None,
                 pull_secret: bytes | None = None, harbor: bool = False) -> None:
        if workloads and (binaries.kube_scheduler is None or binaries.kwok is None or binaries.kwok_stages is None):
            raise ValueError("workloads need kube-scheduler, kwok and kwok's stages (find_binaries(workloads=True))")
        self.binaries = binaries
        self.workdir = workdir
        self.startup_timeout = startup_timeout
        self.workloads = workloads
        self.trusted_registry = trusted_registry
        self.pull_secret = pull_secret
        self.use_harbor = harbor  # run registry.Harbor: trusted, and its pull secret in every tenant namespace
        self.harbor: Any = None  # the registry.Harbor once started
        # pods' addresses: a /16 of the loopback network of its own, so two control
        # planes on one machine do not hand out the same pod address
        self.pod_cidr = f"127.{random.randint(10, 250)}.0.0/16"
        self.processes: list[_Process] = []
        self.namespace = TENANT_NAMESPACE
        self._etcd_data: Path | None = None
        self.admin: Identity
        self.tenant: Identity
        self.admin_api: KubeAPI
        self.tenant_api: KubeAPI
        self.server = ""

    # ----------------------------------------------------------------- lifecycle

    def start(self, attempts: int = 3) -> ControlPlane:
        """Start everything; on a port taken between choosing it and binding it (another
        process won the race for a free port), start again on fresh ports."""
        for attempt in range(1, attempts + 1):
            try:
                self._start()
                return self
            except ControlPlaneError as exc:
                self.stop()
                if "address already in use" not in str(exc) or attempt == attempts:
                    raise
                self.processes = []
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _start(self) -> None:
        pki = self.workdir / "pki"
        pki.mkdir(parents=True)
        certs = _Certificates(pki)
        server_cert, server_key = certs.issue("apiserver", "kube-apiserver", server_ip="127.0.0.1")
        sa_key = certs.service_account_key()
        port = free_port()
        self.server = f"https://127.0.0.1:{port}"
        self.admin = self._identity(certs, "admin", ADMIN_USER, "system:masters", None)
        self.tenant = self._identity(certs, "tenant", TENANT_USER, None, self.namespace)
        self.admin_api = KubeAPI("127.0.0.1", port, certs.ca_file, self.admin.cert, self.admin.key)
        self.tenant_api = KubeAPI("127.0.0.1", port, certs.ca_file, self.tenant.cert, self.tenant.key)

        etcd_client, etcd_peer = free_port(), free_port()
        # etcd fsyncs every write: keep its data in memory where the machine has /dev/shm.
        shm = Path("/dev/shm")
        self._etcd_data = Path(tempfile.mkdtemp(prefix="jhub-ck8s-etcd-", dir=shm if os.access(shm, os.W_OK) else None))
        self._spawn("etcd", [
            str(self.binaries.etcd), "--name", "e2e", "--data-dir", str(self._etcd_data),
            "--listen-client-urls", f"http://127.0.0.1:{etcd_client}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd_client}",
            "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-cluster", f"e2e=http://127.0.0.1:{etcd_peer}",
            "--logger", "zap", "--log-outputs", "stderr",
        ])
        self._spawn("kube-apiserver", [
            str(self.binaries.kube_apiserver),
            "--etcd-servers", f"http://127.0.0.1:{etcd_client}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(port),
            "--cert-dir", str(pki),
            "--tls-cert-file", str(server_cert), "--tls-private-key-file", str(server_key),
            "--client-ca-file", str(certs.ca_file),
            "--service-account-key-file", str(sa_key), "--service-account-signing-key-file", str(sa_key),
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--authorization-mode", "RBAC",
            # Only configuration: nothing here routes to service IPs (no webhooks, no nodes).
            "--service-cluster-ip-range", "10.96.0.0/24",
            "--enable-admission-plugins", "PodSecurity",
            # as kubeadm and managed clusters run it: Pod Security, not this switch, refuses privileged pods
            "--allow-privileged=true",
            "--endpoint-reconciler-type", "none",
            "--profiling=false",
        ])
        self._wait("the API server's /readyz", self._ready)
        if self.use_harbor:
            from .registry import Harbor

            self.harbor = Harbor.prepare(self.workdir / "harbor")
            self._spawn("registry", self.harbor.command())
            self._wait("the registry", self.harbor.ready)
            self.trusted_registry = f"{self.harbor.project}/"
            self.pull_secret = self.harbor.dockerconfigjson()
        self._spawn("kube-controller-manager", [
            str(self.binaries.kube_controller_manager),
            "--kubeconfig", str(self.admin.kubeconfig),
            "--controllers", WORKLOAD_CONTROLLERS if self.workloads else CONTROLLERS,
            "--leader-elect=false", "--secure-port", "0",
            "--service-account-private-key-file", str(sa_key), "--root-ca-file", str(certs.ca_file),
            "--use-service-account-credentials=false",
            # quota usage is counted at admission and recounted by the controller; a recount
            # from a cache a moment behind is corrected at the next full sync (5 minutes by
            # default): a sandbox's figures should settle within seconds
            *(["--resource-quota-sync-period", "10s"] if self.workloads else []),
        ])
        if self.workloads:
            self._start_workloads()
        self._wait("the admin ClusterRole to be aggregated", self._admin_aggregated)
        self._install_policies()
        self._make_tenant_namespace()

    def _start_workloads(self) -> None:
        """Scheduler, kwok and its nodes, the volume provisioner, the stand-in kubelet if present."""
        assert self.binaries.kube_scheduler and self.binaries.kwok and self.binaries.kwok_stages
        admin = str(self.admin.kubeconfig)
        self._spawn("kube-scheduler", [
            str(self.binaries.kube_scheduler), "--kubeconfig", admin, "--leader-elect=false", "--secure-port", "0",
        ])
        self._spawn("kwok", [
            str(self.binaries.kwok), "--kubeconfig", admin, "-c", str(self.binaries.kwok_stages),
            "--manage-all-nodes", "--cidr", self.pod_cidr, "--node-ip", "127.0.0.1",
            "--server-address", "",
        ])
        volumes = self.workdir / "volumes"
        volumes.mkdir()
        self._spawn("provisioner", [
            sys.executable, str(HERE / "provisioner.py"), "--kubeconfig", admin, "--workdir", str(volumes),
            "--storage-class", STORAGE_CLASS, "--provisioner", PROVISIONER,
        ])
        kubelet = HERE / "kubelet.py"
        if kubelet.exists():
            (self.workdir / "kubelet").mkdir()
            self._spawn("kubelet", [sys.executable, str(kubelet), "--kubeconfig", admin,
                                    "--workdir", str(self.workdir / "kubelet")])
        storage_class = {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS,
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": False,
        }
        _must(self.admin_api.create_or_replace(storage_class), f"StorageClass/{STORAGE_CLASS}")
        for index in range(1, NODES + 1):
            name = f"sandbox-node-{index}"
            node = {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {
                    "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                    "node-role.kubernetes.io/worker": "", "type": "kwok"},
                    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}},
                "spec": {},
                "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
            }
            _must(self.admin_api.create_or_replace(node), f"Node/{name}")
        self._wait(f"{NODES} nodes Ready and schedulable", self._nodes_ready)

    def _nodes_ready(self) -> bool | str:
        nodes = self.admin_api.list("v1", "Node")
        waiting = []
        for node in nodes:
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))
            taints = [t["key"] for t in node.get("spec", {}).get("taints", [])]
            if not ready or taints:
                waiting.append(f"{node['metadata']['name']} (ready={ready}, taints={taints})")
        if len(nodes) < NODES or waiting:
            return "waiting for " + (", ".join(waiting) or f"{NODES - len(nodes)} nodes")
        return True

    def stop(self) -> None:
        """Stop every process (the last started first) and remove every file. Interrupted
        (a second Ctrl-C), it kills what is still running and removes the files all the same."""
        try:
            for process in reversed(self.processes):
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    process.stop()
        finally:
            for process in self.processes:
                if process.popen.poll() is None:
                    process.stopping = True
                    with contextlib.suppress(OSError, subprocess.SubprocessError):
                        process.popen.kill()
                        process.popen.wait(timeout=5)
            for folder in (self._etcd_data, self.workdir):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)

    def crashed(self) -> list[str]:
        """The log of every process that died by itself, for the test output."""
        return [p.report() for p in self.processes if p.died()]

    def check_alive(self) -> None:
        reports = self.crashed()
        if reports:
            raise ControlPlaneError("the control plane is down:\n" + "\n\n".join(reports))

    # ------------------------------------------------------------------- helpers

    def _identity(self, certs: _Certificates, stem: str, user: str, organization: str | None,
                  namespace: str | None) -> Identity:
        cert, key = certs.issue(stem, user, organization=organization)
        config = _kubeconfig(self.workdir / f"{stem}.kubeconfig", self.server, certs.ca_file, user, cert, key, namespace)
        return Identity(user, cert, key, config)

    def _spawn(self, name: str, command: list[str]) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as handle:
            popen = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, start_new_session=True)
        self.processes.append(_Process(name, popen, log))

    def _wait(self, what: str, ready: Any) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                outcome = ready()
            except OSError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            if outcome is True:
                return
            last = str(outcome)
            time.sleep(0.25)
        logs = "\n\n".join(p.report() for p in self.processes)
        raise ControlPlaneError(f"timed out after {self.startup_timeout:.0f}s waiting for {what} (last: {last})\n{logs}")

    def _ready(self) -> bool | str:
        answer = self.admin_api.request("GET", "/readyz")
        return True if answer.ok else answer.describe()

    def _admin_aggregated(self) -> bool | str:
        answer = self.admin_api.request("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin")
        return True if answer.ok and answer.body.get("rules") else answer.describe()

    def _install_policies(self) -> None:
        text = POLICIES.read_text()
        if self.trusted_registry:
            text = text.replace(POLICY_REGISTRY, self.trusted_registry)
        for obj in yaml.safe_load_all(text):
            if obj:
                _must(self.admin_api.create_or_replace(obj), f"{obj['kind']}/{obj['metadata']['name']}")

    def _make_tenant_namespace(self) -> None:
        self.make_tenant_namespace(self.namespace)
        self._wait("the platform policies to be enforced", self._policies_enforced)

    def make_tenant_namespace(self, name: str) -> str:
        """A namespace as the platform gives one to a team: Pod Security restricted
        (enforce, warn, audit), the safeguard policies bound, the tenant its ``admin``
        by a RoleBinding, and its ``default`` ServiceAccount made by the controller-manager."""
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": name, "labels": {**PSA_LABELS, SAFEGUARDS_LABEL: "enforced"}}}
        _must(self.admin_api.create_or_replace(namespace), f"Namespace/{name}")
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "tenant-admin", "namespace": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": TENANT_USER}],
        }
        _must(self.admin_api.create_or_replace(binding, name), f"RoleBinding/tenant-admin in {name}")
        for obj in self._tenant_objects():
            _must(self.admin_api.create_or_replace(obj, name), f"{obj['kind']}/{obj['metadata']['name']} in {name}")
        self._wait(f"the default ServiceAccount in {name}", lambda: self._default_service_account(name))
        if self.workloads:
            # quota admission refuses what it counts until the controller has computed the
            # quota's status once ("status unknown for quota")
            self._wait(f"the ResourceQuota in {name} to be computed", lambda: self._quota_computed(name))
        # RBAC answers from a cache that learns of the RoleBinding a moment later: a test's
        # first call as the tenant must not be refused (or see less than is there)
        self._wait(f"the tenant's admin rights in {name}", lambda: self._default_service_account(name, self.tenant_api))
        return name

    def _tenant_objects(self) -> list[dict[str, Any]]:
        """What a Welkin tenant namespace has beside RBAC: quota and default resources (with
        workloads), the registry's pull secret (with a registry)."""
        objects: list[dict[str, Any]] = []
        if self.workloads:
            objects.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "tenant-quota"},
                            "spec": {"hard": QUOTA}})
            objects.append({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "tenant-defaults"},
                            "spec": {"limits": [{"type": "Container", **LIMITS}]}})
        if self.pull_secret is not None:
            objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull-secret"},
                            "type": "kubernetes.io/dockerconfigjson",
                            "data": {".dockerconfigjson": base64.b64encode(self.pull_secret).decode()}})
        return objects

    def delete_namespace(self, name: str) -> None:
        """Delete a namespace (the controller-manager's namespace controller empties it)."""
        answer = self.admin_api.delete("v1", "Namespace", name)
        if not answer.ok and answer.status != 404:
            raise ControlPlaneError(f"cannot delete Namespace/{name}: {answer.describe()}")

    def _quota_computed(self, namespace: str) -> bool | str:
        answer = self.admin_api.get("v1", "ResourceQuota", "tenant-quota", namespace)
        status = answer.body.get("status", {}) if answer.ok else {}
        return True if status.get("hard") and "used" in status else answer.describe()

    def _default_service_account(self, namespace: str, api: KubeAPI | None = None) -> bool | str:
        answer = (api or self.admin_api).get("v1", "ServiceAccount", "default", namespace)
        return True if answer.ok else answer.describe()

    def _policies_enforced(self) -> bool | str:
        """Policies load asynchronously: wait until a Service of type LoadBalancer is refused."""
        probe = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "policy-probe"},
                 "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
        answer = self.tenant_api.create(probe, self.namespace, dry_run=True)
        return True if answer.status == 403 and "ValidatingAdmissionPolicy" in answer.message else answer.describe()


def _must(answer: Answer, what: str) -> None:
    if not answer.ok:
        raise ControlPlaneError(f"cannot set up {what}: {answer.describe()}")
