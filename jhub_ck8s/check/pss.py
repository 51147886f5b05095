"""Pod Security Standards, baseline and restricted: every published rule, one table entry each.

The rules and their semantics follow the Kubernetes "Pod Security Standards" page and
the checks of the Pod Security admission controller (``k8s.io/pod-security-admission``,
``policy/check_*.go``), which is what the platform enforces (``restricted:latest``).
Guarantees:

* ``RULES`` is the single registry: rule id -> ``Rule(id, level, title, since, check)``.
  Ids are stable (``pss-baseline-privileged``, ``pss-restricted-run-as-non-root``, ...)
  and used in reports, JSON and JUnit;
* every check reads *effective* values the way admission does: a container's
  ``securityContext`` field wins over the pod's where Kubernetes lets it
  (``runAsNonRoot``, ``seccompProfile``), and every container list is visited
  (``initContainers``, ``containers``, ``ephemeralContainers``);
* each violation is reported once, at the lowest level it breaks: a restricted rule
  does not repeat what its baseline counterpart already reported (``hostPath`` is a
  baseline finding, not also a restricted volume-type one; ``seccompProfile:
  Unconfined`` and ``capabilities.add: [SYS_ADMIN]`` are baseline findings). So the
  highest level a pod satisfies is simply: no finding -> restricted, restricted
  findings only -> baseline, any baseline finding -> privileged;
* pods with ``spec.os.name: windows`` are exempt from the restricted
  privilege-escalation, seccomp and capabilities rules, as in Kubernetes 1.25+;
* ``kubernetes_version`` (``(major, minor)``) evaluates the rules of that version
  (``pss-baseline-host-probes`` from 1.34, the sysctl and SELinux lists grow with the
  version); ``None`` means the latest, as ``restricted:latest``.

Relaxations for user-namespaced pods (``hostUsers: false``) are not applied: the
checker errs on the side of rejection.

This is the audit's rule set, kept apart from the post-renderer's on purpose:
``jhub_ck8s.hardening`` is what the transforms fill and report, written separately
and never imported here, so the audit can judge it. ``jhub_ck8s.check.twins`` maps each
post-renderer rule id (``run-as-root``, ``host-path``, ...) to the rule ids here (or in
``safeguards``) that report the same violation.

A pod that passes restricted::

    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}

And one that fails ``pss-restricted-run-as-non-root`` (only that rule)::

    spec:
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..podspec import ContainerRef, containers
from .model import BASELINE, PRIVILEGED, RESTRICTED

Version = tuple[int, int] | None


@dataclass(frozen=True)
class Violation:
    """One place a rule is broken: where, what, and the value that fixes it."""

    where: str
    message: str
    fix: str


@dataclass(frozen=True)
class Pod:
    """What the checks read: the pod's metadata (annotations) and its PodSpec."""

    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]

    @property
    def security_context(self) -> Mapping[str, Any]:
        return _mapping(self.spec.get("securityContext"))

    @property
    def annotations(self) -> Mapping[str, Any]:
        return _mapping(self.metadata.get("annotations"))

    @property
    def is_windows(self) -> bool:
        return _mapping(self.spec.get("os")).get("name") == "windows"

    def containers(self) -> Iterator[ContainerRef]:
        return containers(dict(self.spec))


Check = Callable[[Pod, Version], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """One Pod Security control at one level."""

    id: str
    level: str  # baseline | restricted
    title: str
    check: Check
    since: tuple[int, int] = (1, 0)  # first Kubernetes version that enforces it

    def applies(self, version: Version) -> bool:
        return version is None or version >= self.since


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _sc(ref: ContainerRef) -> Mapping[str, Any]:
    return _mapping(ref.container.get("securityContext"))


def _quote(values: Any) -> str:
    return ", ".join(f'"{v}"' for v in values)


# --------------------------------------------------------------------------- baseline


def host_process(pod: Pod, version: Version) -> Iterator[Violation]:
    """Windows HostProcess containers are privileged on the host.

    ``windowsOptions.hostProcess`` of the pod and every container: unset or false.
    """
    fix = "remove securityContext.windowsOptions.hostProcess (or set it to false)"
    if _mapping(pod.security_context.get("windowsOptions")).get("hostProcess") is True:
        yield Violation("pod", "securityContext.windowsOptions.hostProcess is true", fix)
    for ref in pod.containers():
        if _mapping(_sc(ref).get("windowsOptions")).get("hostProcess") is True:
            yield Violation(ref.where, "securityContext.windowsOptions.hostProcess is true", fix)


def host_namespaces(pod: Pod, version: Version) -> Iterator[Violation]:
    """Sharing the host's namespaces: ``hostNetwork``, ``hostPID``, ``hostIPC`` unset or false."""
    for name in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(name) is True:
            yield Violation("pod", f"spec.{name} is true", f"remove spec.{name} (or set it to false)")


def privileged(pod: Pod, version: Version) -> Iterator[Violation]:
    """Privileged containers: ``securityContext.privileged`` unset or false."""
    for ref in pod.containers():
        if _sc(ref).get("privileged") is True:
            yield Violation(
                ref.where, "securityContext.privileged is true",
                "remove securityContext.privileged (or set it to false); do the privileged work outside the pod",
            )


BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})


def _added(ref: ContainerRef) -> list[str]:
    return [str(c) for c in _list(_mapping(_sc(ref).get("capabilities")).get("add"))]


def capabilities_baseline(pod: Pod, version: Version) -> Iterator[Violation]:
    """Capabilities beyond the container runtime's default set must not be added.

    ``capabilities.add`` of every container: only AUDIT_WRITE, CHOWN, DAC_OVERRIDE,
    FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID,
    SYS_CHROOT.
    """
    for ref in pod.containers():
        bad = [c for c in _added(ref) if c not in BASELINE_CAPABILITIES]
        if bad:
            yield Violation(
                ref.where, f"securityContext.capabilities.add has {_quote(bad)}",
                f"remove {_quote(bad)} from securityContext.capabilities.add",
            )


def host_path_volumes(pod: Pod, version: Version) -> Iterator[Violation]:
    """HostPath volumes are forbidden."""
    for volume in _list(pod.spec.get("volumes")):
        if isinstance(volume, Mapping) and volume.get("hostPath") is not None:
            yield Violation(
                f"volume {volume.get('name', '?')}", "is a hostPath volume",
                "use an emptyDir, configMap, secret or persistentVolumeClaim volume instead",
            )


def host_ports(pod: Pod, version: Version) -> Iterator[Violation]:
    """Host ports: ``ports[].hostPort`` unset or 0."""
    for ref in pod.containers():
        for port in _list(ref.container.get("ports")):
            if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
                yield Violation(
                    ref.where, f"ports: hostPort {port['hostPort']}",
                    "remove hostPort (reach the pod through a Service)",
                )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def host_probes(pod: Pod, version: Version) -> Iterator[Violation]:
    """Probes and lifecycle hooks must not name a ``host`` (Kubernetes 1.34+).

    ``{liveness,readiness,startup}Probe.{httpGet,tcpSocket}.host`` and
    ``lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host``: unset or "".
    """
    for ref in pod.containers():
        handlers = [(name, ref.container.get(name)) for name in _PROBES]
        lifecycle = _mapping(ref.container.get("lifecycle"))
        handlers += [(f"lifecycle.{name}", lifecycle.get(name)) for name in ("postStart", "preStop")]
        for path, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                host = _mapping(_mapping(handler).get(action)).get("host")
                if host not in (None, ""):
                    yield Violation(
                        ref.where, f"{path}.{action}.host is {host!r}",
                        f"remove {path}.{action}.host (the kubelet then probes the pod's own address)",
                    )


_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
_APPARMOR_TYPES = ("RuntimeDefault", "Localhost")


def apparmor(pod: Pod, version: Version) -> Iterator[Violation]:
    """AppArmor must not be disabled or overridden with an unconfined profile.

    ``securityContext.appArmorProfile.type`` (pod and containers): unset, RuntimeDefault
    or Localhost; annotations ``container.apparmor.security.beta.kubernetes.io/*``:
    unset, ``runtime/default`` or ``localhost/*``.
    """
    fix = "set appArmorProfile.type to RuntimeDefault (or remove it)"
    for key, value in pod.annotations.items():
        if str(key).startswith(_APPARMOR_ANNOTATION):
            text = str(value)
            if text and text != "runtime/default" and not text.startswith("localhost/"):
                yield Violation(
                    f"annotation {key}", f"AppArmor profile {text!r}",
                    "set the annotation to runtime/default (or remove it)",
                )
    profile = _mapping(pod.security_context.get("appArmorProfile"))
    if profile and profile.get("type") not in _APPARMOR_TYPES:
        yield Violation("pod", f"securityContext.appArmorProfile.type is {profile.get('type')!r}", fix)
    for ref in pod.containers():
        profile = _mapping(_sc(ref).get("appArmorProfile"))
        if profile and profile.get("type") not in _APPARMOR_TYPES:
            yield Violation(ref.where, f"securityContext.appArmorProfile.type is {profile.get('type')!r}", fix)


def _selinux_types(version: Version) -> frozenset[str]:
    types = {"", "container_t", "container_init_t", "container_kvm_t"}
    if version is None or version >= (1, 31):
        types.add("container_engine_t")
    return frozenset(types)


def selinux(pod: Pod, version: Version) -> Iterator[Violation]:
    """Custom SELinux options are restricted.

    ``seLinuxOptions.type`` (pod and containers): unset, "", container_t,
    container_init_t, container_kvm_t, container_engine_t (1.31+);
    ``seLinuxOptions.user`` and ``.role``: unset or "".
    """
    allowed = _selinux_types(version)

    def problems(options: Mapping[str, Any]) -> list[str]:
        found = []
        if str(options.get("type") or "") not in allowed:
            found.append(f"type {options.get('type')!r}")
        for key in ("user", "role"):
            if options.get(key):
                found.append(f"{key} {options.get(key)!r}")
        return found

    fix = "remove seLinuxOptions (or keep only level and a container_t type)"
    bad = problems(_mapping(pod.security_context.get("seLinuxOptions")))
    if bad:
        yield Violation("pod", "securityContext.seLinuxOptions sets " + ", ".join(bad), fix)
    for ref in pod.containers():
        bad = problems(_mapping(_sc(ref).get("seLinuxOptions")))
        if bad:
            yield Violation(ref.where, "securityContext.seLinuxOptions sets " + ", ".join(bad), fix)


def proc_mount(pod: Pod, version: Version) -> Iterator[Violation]:
    """The default /proc masks are required: ``procMount`` unset or ``Default``."""
    for ref in pod.containers():
        value = _sc(ref).get("procMount")
        if value is not None and value != "Default":
            yield Violation(ref.where, f"securityContext.procMount is {value!r}", "remove securityContext.procMount")


def seccomp_baseline(pod: Pod, version: Version) -> Iterator[Violation]:
    """Seccomp must not be disabled: ``seccompProfile.type`` (pod and containers) is not Unconfined."""
    fix = "set seccompProfile.type to RuntimeDefault"
    if _mapping(pod.security_context.get("seccompProfile")).get("type") == "Unconfined":
        yield Violation("pod", "securityContext.seccompProfile.type is Unconfined", fix)
    for ref in pod.containers():
        if _mapping(_sc(ref).get("seccompProfile")).get("type") == "Unconfined":
            yield Violation(ref.where, "securityContext.seccompProfile.type is Unconfined", fix)


# name -> first Kubernetes version that allows it
SAFE_SYSCTLS: dict[str, tuple[int, int]] = {
    "kernel.shm_rmid_forced": (1, 0),
    "net.ipv4.ip_local_port_range": (1, 0),
    "net.ipv4.tcp_syncookies": (1, 0),
    "net.ipv4.ping_group_range": (1, 0),
    "net.ipv4.ip_unprivileged_port_start": (1, 0),
    "net.ipv4.ip_local_reserved_ports": (1, 27),
    "net.ipv4.tcp_keepalive_time": (1, 29),
    "net.ipv4.tcp_fin_timeout": (1, 29),
    "net.ipv4.tcp_keepalive_intvl": (1, 29),
    "net.ipv4.tcp_keepalive_probes": (1, 29),
    "net.ipv4.tcp_rmem": (1, 32),
    "net.ipv4.tcp_wmem": (1, 32),
}


def sysctls(pod: Pod, version: Version) -> Iterator[Violation]:
    """Only namespaced, isolated ("safe") sysctls: ``securityContext.sysctls[].name`` in the safe set."""
    allowed = {name for name, since in SAFE_SYSCTLS.items() if version is None or version >= since}
    bad = [
        str(item.get("name"))
        for item in _list(pod.security_context.get("sysctls"))
        if isinstance(item, Mapping) and item.get("name") not in allowed
    ]
    if bad:
        yield Violation(
            "pod", f"securityContext.sysctls sets {_quote(bad)}",
            "remove them from securityContext.sysctls (allowed: " + ", ".join(sorted(allowed)) + ")",
        )


# ------------------------------------------------------------------------- restricted

RESTRICTED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
})


def volume_types(pod: Pod, version: Version) -> Iterator[Violation]:
    """Only core volume types: configMap, csi, downwardAPI, emptyDir, ephemeral,
    persistentVolumeClaim, projected, secret. (hostPath is reported by the baseline rule.)
    """
    for volume in _list(pod.spec.get("volumes")):
        if not isinstance(volume, Mapping):
            continue
        sources = [k for k in volume if k != "name" and volume[k] is not None]
        if any(k in RESTRICTED_VOLUME_TYPES for k in sources) or "hostPath" in sources:
            continue
        kind = ", ".join(sources) or "no volume source"
        yield Violation(
            f"volume {volume.get('name', '?')}", f"uses restricted volume type {kind}",
            "use a persistentVolumeClaim (or csi, configMap, secret, emptyDir, projected) volume",
        )


def allow_privilege_escalation(pod: Pod, version: Version) -> Iterator[Violation]:
    """Privilege escalation must be off: ``allowPrivilegeEscalation: false`` on every container."""
    if pod.is_windows:
        return
    for ref in pod.containers():
        value = _sc(ref).get("allowPrivilegeEscalation")
        if value is not False:
            state = "is true" if value is True else "is not set"
            yield Violation(
                ref.where, f"securityContext.allowPrivilegeEscalation {state}",
                "set securityContext.allowPrivilegeEscalation: false",
            )


def run_as_non_root(pod: Pod, version: Version) -> Iterator[Violation]:
    """Containers must run as non-root: ``runAsNonRoot: true`` on the pod, or on every
    container; ``false`` anywhere is a violation.
    """
    pod_value = pod.security_context.get("runAsNonRoot")
    fix_pod = "set securityContext.runAsNonRoot: true on the pod (or on this container)"
    if pod_value is False:
        yield Violation("pod", "securityContext.runAsNonRoot is false", "set securityContext.runAsNonRoot: true")
    for ref in pod.containers():
        value = _sc(ref).get("runAsNonRoot")
        if value is False:
            yield Violation(ref.where, "securityContext.runAsNonRoot is false", "set securityContext.runAsNonRoot: true")
        elif value is None and pod_value is not True:
            yield Violation(ref.where, "runAsNonRoot is not true in the container nor in the pod", fix_pod)


def run_as_user(pod: Pod, version: Version) -> Iterator[Violation]:
    """Not the root user: ``runAsUser`` (pod and containers) unset or non-zero (1.23+)."""
    fix = "set runAsUser to a non-zero uid (such as 1000), or remove it"
    if pod.security_context.get("runAsUser") == 0:
        yield Violation("pod", "securityContext.runAsUser is 0", fix)
    for ref in pod.containers():
        if _sc(ref).get("runAsUser") == 0:
            yield Violation(ref.where, "securityContext.runAsUser is 0", fix)


_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")


def seccomp_restricted(pod: Pod, version: Version) -> Iterator[Violation]:
    """A seccomp profile is required: ``seccompProfile.type`` RuntimeDefault or Localhost
    on the pod, or on every container (a container's own value wins). Unconfined is
    reported by the baseline rule.
    """
    if pod.is_windows:
        return
    fix = "set securityContext.seccompProfile.type: RuntimeDefault on the pod (or on this container)"
    pod_type = _mapping(pod.security_context.get("seccompProfile")).get("type")
    if pod_type is not None and pod_type not in _SECCOMP_TYPES and pod_type != "Unconfined":
        yield Violation("pod", f"securityContext.seccompProfile.type is {pod_type!r}", fix)
    for ref in pod.containers():
        value = _mapping(_sc(ref).get("seccompProfile")).get("type")
        if value is None:
            if pod_type is None:
                yield Violation(ref.where, "seccompProfile is not set in the container nor in the pod", fix)
        elif value not in _SECCOMP_TYPES and value != "Unconfined":
            yield Violation(ref.where, f"securityContext.seccompProfile.type is {value!r}", fix)


def capabilities_restricted(pod: Pod, version: Version) -> Iterator[Violation]:
    """Capabilities: drop ``ALL``, add at most ``NET_BIND_SERVICE`` (1.22+). Additions
    beyond the baseline set are reported by the baseline rule.
    """
    if pod.is_windows:
        return
    for ref in pod.containers():
        caps = _mapping(_sc(ref).get("capabilities"))
        if "ALL" not in [str(c) for c in _list(caps.get("drop"))]:
            yield Violation(
                ref.where, "securityContext.capabilities.drop does not contain ALL",
                "set securityContext.capabilities.drop: [ALL]",
            )
        extra = [c for c in _added(ref) if c in BASELINE_CAPABILITIES and c != "NET_BIND_SERVICE"]
        if extra:
            yield Violation(
                ref.where, f"securityContext.capabilities.add has {_quote(extra)}",
                "add only NET_BIND_SERVICE (remove " + _quote(extra) + ")",
            )


# --------------------------------------------------------------------------- registry

_RULES: tuple[Rule, ...] = (
    Rule("pss-baseline-host-process", BASELINE, "HostProcess", host_process),
    Rule("pss-baseline-host-namespaces", BASELINE, "Host Namespaces", host_namespaces),
    Rule("pss-baseline-privileged", BASELINE, "Privileged Containers", privileged),
    Rule("pss-baseline-capabilities", BASELINE, "Capabilities", capabilities_baseline),
    Rule("pss-baseline-host-path-volumes", BASELINE, "HostPath Volumes", host_path_volumes),
    Rule("pss-baseline-host-ports", BASELINE, "Host Ports", host_ports),
    Rule("pss-baseline-host-probes", BASELINE, "Host Probes / Lifecycle Hooks", host_probes, since=(1, 34)),
    Rule("pss-baseline-apparmor", BASELINE, "AppArmor", apparmor),
    Rule("pss-baseline-selinux", BASELINE, "SELinux", selinux),
    Rule("pss-baseline-proc-mount", BASELINE, "/proc Mount Type", proc_mount),
    Rule("pss-baseline-seccomp", BASELINE, "Seccomp", seccomp_baseline, since=(1, 19)),
    Rule("pss-baseline-sysctls", BASELINE, "Sysctls", sysctls),
    Rule("pss-restricted-volume-types", RESTRICTED, "Volume Types", volume_types),
    Rule("pss-restricted-allow-privilege-escalation", RESTRICTED, "Privilege Escalation",
         allow_privilege_escalation, since=(1, 8)),
    Rule("pss-restricted-run-as-non-root", RESTRICTED, "Running as Non-root", run_as_non_root),
    Rule("pss-restricted-run-as-user", RESTRICTED, "Running as Non-root user", run_as_user, since=(1, 23)),
    Rule("pss-restricted-seccomp", RESTRICTED, "Seccomp", seccomp_restricted, since=(1, 19)),
    Rule("pss-restricted-capabilities", RESTRICTED, "Capabilities", capabilities_restricted, since=(1, 22)),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def get(rule_id: str) -> Rule:
    """The rule with this id; KeyError naming the known ids if there is none."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown Pod Security rule {rule_id!r} (known: {', '.join(RULES)})") from None


@dataclass(frozen=True)
class Evaluation:
    """The outcome for one pod: the rules evaluated, every violation, the level reached."""

    checked: tuple[Rule, ...]
    violations: tuple[tuple[Rule, Violation], ...]

    @property
    def level(self) -> str:
        """The highest Pod Security level the pod satisfies."""
        broken = {rule.level for rule, _ in self.violations}
        if BASELINE in broken:
            return PRIVILEGED
        if RESTRICTED in broken:
            return BASELINE
        return RESTRICTED


def evaluate(metadata: Mapping[str, Any] | None, spec: Mapping[str, Any], version: Version = None) -> Evaluation:
    """Evaluate every rule that applies at ``version`` on one pod (metadata + PodSpec)."""
    pod = Pod(_mapping(metadata), _mapping(spec))
    checked = tuple(rule for rule in _RULES if rule.applies(version))
    violations = tuple((rule, v) for rule in checked for v in rule.check(pod, version))
    return Evaluation(checked, violations)


def parse_version(text: str) -> tuple[int, int]:
    """``1.33.0`` -> (1, 33); ValueError for anything but ``X.Y.Z``."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"Kubernetes version {text!r}: expected X.Y.Z such as 1.33.0")
    return int(parts[0]), int(parts[1])
