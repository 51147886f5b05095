"""What Pod Security "restricted" (and the platform's seccomp rule) needs of a pod: the one place.

Both the rendered-pod transforms (``privileged-init``, ``security-context``) and the
hub runtime transform (``user-pods``) ask this module; none of them knows a field
name of its own. Everything here is a pure function over plain dicts.

This is the post-renderer's rule set, and it is kept apart from the audit's on purpose:
``jhub_ck8s.check.pss`` evaluates Pod Security the way the admission controller does
and shares no code with this module, so each can catch the other's mistakes. Rule ids
differ (one here per field a transform refuses to change, one there per published
control); ``jhub_ck8s.check.twins`` maps every rule id here to the audit rules that
report the same violation, and ``tests/test_rule_twins.py`` shows each pair agreeing.

Two kinds of answer:

* **fill** -- add what is missing and nothing else. An explicit value is never
  changed, even an unsafe one (``runAsNonRoot: false`` stays false): an explicit
  choice is reported, not silently overridden. ``None`` counts as missing, as in
  Helm values. Each fill returns the fields it set, e.g. ``["runAsNonRoot",
  "seccompProfile.type"]``.
* **violations** -- explicit values that cannot be fixed without changing what
  someone chose, each with a stable rule id (used in reports and allow-lists), the
  field, the value (for rendered manifests only: callers about ``Secret/hub`` leave
  it out), why it is rejected and what to set instead.

Before (container, pod without a securityContext)::

    securityContext: {runAsUser: 1000, capabilities: {drop: [NET_RAW]}}

After ``fill_pod_security_context`` then ``fill_container_security_context``::

    pod:       {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
    container: {runAsUser: 1000, capabilities: {drop: [NET_RAW, ALL]},
                allowPrivilegeEscalation: false}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

RUNTIME_DEFAULT = "RuntimeDefault"
DROP_ALL = "ALL"
# restricted lets a container add this one capability and no other
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# capabilities that mark an init container as a host/network tamperer (iptables and the like)
INIT_CONTAINER_CAPABILITIES = frozenset({"NET_ADMIN", "NET_RAW", "SYS_ADMIN"})

# Stable rule ids: in reports and in `allow: [{rule: ...}]`; their audit twins: jhub_ck8s.check.twins.
PRIVILEGED = "privileged"
RUN_AS_ROOT = "run-as-root"
RUN_AS_NON_ROOT_FALSE = "run-as-non-root-false"
CAPABILITIES_ADD = "capabilities-add"
HOST_NETWORK = "host-network"
HOST_PID = "host-pid"
HOST_IPC = "host-ipc"
HOST_PATH = "host-path"
HOST_PORT = "host-port"
PROC_MOUNT = "proc-mount"
SECCOMP_UNCONFINED = "seccomp-unconfined"
SECCOMP_LOCALHOST = "seccomp-localhost"
ALLOW_PRIVILEGE_ESCALATION = "allow-privilege-escalation"
SECURITY_CONTEXT_MALFORMED = "security-context-malformed"
RULES = (
    PRIVILEGED,
    RUN_AS_ROOT,
    RUN_AS_NON_ROOT_FALSE,
    CAPABILITIES_ADD,
    HOST_NETWORK,
    HOST_PID,
    HOST_IPC,
    HOST_PATH,
    HOST_PORT,
    PROC_MOUNT,
    SECCOMP_UNCONFINED,
    SECCOMP_LOCALHOST,
    ALLOW_PRIVILEGE_ESCALATION,
    SECURITY_CONTEXT_MALFORMED,
)

_HOST_NAMESPACES = (
    ("hostNetwork", HOST_NETWORK, "network"),
    ("hostPID", HOST_PID, "PID"),
    ("hostIPC", HOST_IPC, "IPC"),
)


class Violation(NamedTuple):
    """One explicit value restricted (or the platform) rejects."""

    rule: str
    field: str  # full path as the caller named it: "securityContext.privileged", "hub.config...."
    value: str  # the offending value as YAML text; never shown for Secret/hub findings
    why: str  # what the platform requires
    action: str  # what to set instead, naming the field, never its current value

    def message(self, *, show_value: bool = True) -> str:
        if show_value:
            return f"{self.field} is {self.value}: {self.why}"
        return f"{self.field}: {self.why}"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _missing(mapping: Mapping[str, Any], key: str) -> bool:
    return mapping.get(key) is None


def capability_name(value: Any) -> str:
    """``cap_net_admin`` and ``NET_ADMIN`` name the same capability."""
    return str(value).upper().removeprefix("CAP_")


def added_capabilities(context: Mapping[str, Any] | None) -> list[str]:
    """Capabilities a container's securityContext adds, as written."""
    capabilities = context.get("capabilities") if isinstance(context, Mapping) else None
    added = capabilities.get("add") if isinstance(capabilities, Mapping) else None
    return [str(c) for c in added] if isinstance(added, list) else []


def ensure_context(holder: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The mapping at ``holder[key]``, a new ``{}`` if missing or null; None if not a mapping.

    The caller must fill a new mapping (an empty context always gets something filled),
    so a created ``{}`` never stays behind unrecorded.
    """
    value = holder.get(key)
    if value is None:
        value = {}
        holder[key] = value
    return value if isinstance(value, dict) else None


# --- fill -------------------------------------------------------------------------------


def fill_pod_security_context(context: dict[str, Any]) -> list[str]:
    """Fill a PodSecurityContext in place: runAsNonRoot true, seccompProfile RuntimeDefault."""
    filled: list[str] = []
    if _missing(context, "runAsNonRoot"):
        context["runAsNonRoot"] = True
        filled.append("runAsNonRoot")
    if _missing(context, "seccompProfile"):
        context["seccompProfile"] = {"type": RUNTIME_DEFAULT}
        filled.append("seccompProfile.type")
    return filled


def fill_container_security_context(
    context: dict[str, Any], pod_context: Mapping[str, Any] | None, *, keep: Collection[str] = ()
) -> list[str]:
    """Fill a container SecurityContext in place; return the fields set.

    ``allowPrivilegeEscalation: false`` and ``capabilities.drop`` containing ALL (added
    to an existing drop list) always; ``runAsNonRoot: true`` and ``seccompProfile``
    RuntimeDefault only where neither the container nor ``pod_context`` sets them --
    a pod-level value (safe, or an explicit violation that is reported) is not
    overridden per container. Pass ``pod_context=None`` when the pod's context is not
    known (containers the hub adds at spawn time): then the container gets both.
    Fields named in ``keep`` (``allowPrivilegeEscalation``, ``capabilities.drop``,
    ``runAsNonRoot``, ``seccompProfile``) are left alone: something else already decides them
    (KubeSpawner's ``allow_privilege_escalation`` trait, an explicit violation that is
    reported where it was set).
    """
    pod = pod_context if isinstance(pod_context, Mapping) else {}
    filled: list[str] = []

    def wanted(name: str, pod_may_decide: bool) -> bool:
        return _missing(context, name) and name not in keep and not (pod_may_decide and not _missing(pod, name))

    if wanted("allowPrivilegeEscalation", pod_may_decide=False):
        context["allowPrivilegeEscalation"] = False
        filled.append("allowPrivilegeEscalation")
    if _missing(context, "capabilities") and "capabilities.drop" not in keep:
        context["capabilities"] = {}
    capabilities = context.get("capabilities")
    if isinstance(capabilities, dict) and "capabilities.drop" not in keep:
        drop = capabilities.get("drop")
        if drop is None:
            capabilities["drop"] = [DROP_ALL]
            filled.append("capabilities.drop")
        elif isinstance(drop, list) and DROP_ALL not in drop:  # Pod Security matches "ALL" exactly
            drop.append(DROP_ALL)
            filled.append("capabilities.drop")
    if wanted("runAsNonRoot", pod_may_decide=True):
        context["runAsNonRoot"] = True
        filled.append("runAsNonRoot")
    if wanted("seccompProfile", pod_may_decide=True):
        context["seccompProfile"] = {"type": RUNTIME_DEFAULT}
        filled.append("seccompProfile.type")
    return filled


_FILLED_VALUES = {
    "allowPrivilegeEscalation": "allowPrivilegeEscalation: false",
    "capabilities.drop": "capabilities.drop: +ALL",
    "runAsNonRoot": "runAsNonRoot: true",
    "seccompProfile.type": "seccompProfile.type: RuntimeDefault",
}


def describe_filled(filled: list[str]) -> str:
    """``runAsNonRoot: true, seccompProfile.type: RuntimeDefault`` (fill's own values)."""
    return ", ".join(_FILLED_VALUES.get(name, name) for name in filled)


# --- violations ---------------------------------------------------------------------------


def context_violations(context: Any, prefix: str) -> list[Violation]:
    """Explicit violations in one pod or container securityContext found at ``prefix``.

    Fields that exist only on containers (privileged, capabilities, procMount,
    allowPrivilegeEscalation) are simply absent from a pod context, so one function
    serves both.
    """
    if context is None:
        return []
    if not isinstance(context, Mapping):
        return [
            Violation(
                SECURITY_CONTEXT_MALFORMED,
                prefix,
                type(context).__name__,
                "a securityContext must be a mapping",
                f"make {prefix} a mapping",
            )
        ]
    found: list[Violation] = []

    def add(rule: str, name: str, why: str, action: str) -> None:
        field = _join(prefix, name)
        value: Any = context
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        found.append(Violation(rule, field, _yaml_text(value), why, action.format(field=field)))

    if context.get("privileged") is True:
        add(
            PRIVILEGED,
            "privileged",
            "Pod Security restricted forbids privileged containers",
            "set {field} to false",
        )
    if context.get("runAsUser") == 0 and not isinstance(context.get("runAsUser"), bool):
        add(
            RUN_AS_ROOT,
            "runAsUser",
            "Pod Security restricted forbids running as uid 0",
            "set {field} to a non-zero uid",
        )
    if context.get("runAsNonRoot") is False:
        add(
            RUN_AS_NON_ROOT_FALSE,
            "runAsNonRoot",
            "Pod Security restricted requires runAsNonRoot: true",
            "set {field} to true",
        )
    # Pod Security compares names exactly: "net_bind_service" is not NET_BIND_SERVICE
    extra = [c for c in added_capabilities(context) if c not in ALLOWED_ADDED_CAPABILITIES]
    if extra:
        field = _join(prefix, "capabilities.add")
        found.append(
            Violation(
                CAPABILITIES_ADD,
                field,
                ", ".join(extra),
                "Pod Security restricted allows adding only NET_BIND_SERVICE",
                f"remove every capability except NET_BIND_SERVICE from {field}",
            )
        )
    proc_mount = context.get("procMount")
    if proc_mount is not None and proc_mount != "Default":
        add(
            PROC_MOUNT,
            "procMount",
            "Pod Security restricted requires the Default procMount",
            "remove {field} or set it to Default",
        )
    seccomp = context.get("seccompProfile")
    seccomp_type = seccomp.get("type") if isinstance(seccomp, Mapping) else None
    if seccomp_type == "Unconfined":
        add(
            SECCOMP_UNCONFINED,
            "seccompProfile.type",
            "Pod Security restricted forbids Unconfined seccomp",
            "set {field} to RuntimeDefault",
        )
    elif seccomp_type == "Localhost":
        add(
            SECCOMP_LOCALHOST,
            "seccompProfile.type",
            "the platform's Gatekeeper rejects Localhost seccomp profiles",
            "set {field} to RuntimeDefault",
        )
    if context.get("allowPrivilegeEscalation") is True:
        add(
            ALLOW_PRIVILEGE_ESCALATION,
            "allowPrivilegeEscalation",
            "Pod Security restricted requires allowPrivilegeEscalation: false",
            "set {field} to false",
        )
    return found


def container_violations(container: Mapping[str, Any], prefix: str = "") -> list[Violation]:
    """Violations of one container: its securityContext and its host ports."""
    found = context_violations(container.get("securityContext"), _join(prefix, "securityContext"))
    ports = container.get("ports")
    if isinstance(ports, list):
        for index, port in enumerate(ports):
            if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
                field = _join(prefix, f"ports[{index}].hostPort")
                found.append(
                    Violation(
                        HOST_PORT,
                        field,
                        _yaml_text(port["hostPort"]),
                        "Pod Security restricted forbids host ports",
                        f"remove {field}",
                    )
                )
    return found


def volume_violation(volume: Any, prefix: str) -> Violation | None:
    """The hostPath violation of one Volume found at ``prefix`` (``volumes[2]``), if any."""
    if not isinstance(volume, Mapping) or volume.get("hostPath") is None:
        return None
    host_path = volume["hostPath"]
    path = host_path.get("path") if isinstance(host_path, Mapping) else host_path
    return Violation(
        HOST_PATH,
        f"{prefix}.hostPath",
        str(path),
        "Pod Security restricted forbids hostPath volumes",
        f"replace {prefix}.hostPath with another volume type (a PersistentVolumeClaim)",
    )


def volume_violations(volumes: Any, prefix: str = "volumes") -> list[Violation]:
    """hostPath volumes in a list of Volumes found at ``prefix``."""
    if not isinstance(volumes, list):
        return []
    found = (volume_violation(volume, f"{prefix}[{index}]") for index, volume in enumerate(volumes))
    return [violation for violation in found if violation is not None]


def pod_violations(spec: Mapping[str, Any], prefix: str = "") -> list[Violation]:
    """Pod-level violations of a PodSpec (its containers are checked one by one by the caller)."""
    found: list[Violation] = []
    for key, rule, what in _HOST_NAMESPACES:
        if spec.get(key) is True:
            field = _join(prefix, key)
            found.append(
                Violation(
                    rule,
                    field,
                    "true",
                    f"Pod Security restricted forbids sharing the host's {what} namespace",
                    f"set {field} to false",
                )
            )
    found += volume_violations(spec.get("volumes"), _join(prefix, "volumes"))
    found += context_violations(spec.get("securityContext"), _join(prefix, "securityContext"))
    return found


def init_container_removal_reasons(container: Mapping[str, Any]) -> list[str]:
    """Why an init container must go: privileged, uid 0, or a host-tampering capability.

    Such init containers (iptables setup and the like) cannot run under restricted at
    all; the pod works without them when the platform provides the same protection
    (the metadata block is a NetworkPolicy there). Empty when the container is fine.
    """
    context = container.get("securityContext")
    if not isinstance(context, Mapping):
        return []
    reasons: list[str] = []
    if context.get("privileged") is True:
        reasons.append("privileged")
    if context.get("runAsUser") == 0 and not isinstance(context.get("runAsUser"), bool):
        reasons.append("runs as uid 0")
    added = {capability_name(c) for c in added_capabilities(context)}
    dangerous = sorted(added & INIT_CONTAINER_CAPABILITIES)
    if dangerous:
        reasons.append("adds " + ", ".join(dangerous))
    return reasons
