"""Property: post-rendering never makes a pod less safe, never drops a main container, is idempotent.

Pod specs are generated with random mixes of unset, null, safe and unsafe values in
the pod and container security contexts, capabilities, host namespaces, hostPath
volumes, host ports and init containers. Each security field has an order of safety;
after post-rendering (every transform, warn mode, so unsafe input still produces
output) no field may be less safe than before and no explicit value may change.
In enforce mode, a pod with no explicit violation (once privileged init containers are
removed) must come out accepted by Pod Security restricted; any other is refused, with
nothing on stdout and an error naming every place that breaks a rule, and no other.
Which places break a rule is written out here by hand, not asked of the code under test.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from restricted import restricted_problems

from jhub_ck8s.documents import dump_yaml
from jhub_ck8s.pipeline import run
from jhub_ck8s.podspec import pod_spec
from jhub_ck8s.report import CHANGE, ERROR
from jhub_ck8s.settings import read_layer
from jhub_ck8s.stream import parse
from jhub_ck8s.transforms import REGISTRY

UNSET = object()  # the key is absent (None means present with a null value)
WARN_ALL = read_layer({"mode": "warn", "registry": "harbor.example.com/team"}, "property")
SECURITY_ONLY = read_layer(
    {"disable": [t for t in REGISTRY if t not in ("privileged-init", "security-context")]}, "property"
)
CAPABILITIES = ["NET_BIND_SERVICE", "NET_ADMIN", "NET_RAW", "SYS_ADMIN", "CHOWN", "ALL"]


def _maybe(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(UNSET), st.none(), values)


def _mapping(**fields: st.SearchStrategy) -> st.SearchStrategy:
    """A dict whose keys are each present or absent (UNSET drops the key)."""
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not UNSET})


SECCOMP = _maybe(st.sampled_from(["RuntimeDefault", "Unconfined", "Localhost"]).map(lambda t: {"type": t}))
RUN_AS_USER = _maybe(st.sampled_from([0, 1000, 65534]))
CAPS = _maybe(
    _mapping(
        add=_maybe(st.lists(st.sampled_from(CAPABILITIES[:-1]), max_size=2, unique=True)),
        drop=_maybe(st.lists(st.sampled_from(CAPABILITIES), max_size=2, unique=True)),
    )
)
CONTAINER_CONTEXT = _maybe(
    _mapping(
        privileged=_maybe(st.booleans()),
        allowPrivilegeEscalation=_maybe(st.booleans()),
        runAsNonRoot=_maybe(st.booleans()),
        runAsUser=RUN_AS_USER,
        capabilities=CAPS,
        seccompProfile=SECCOMP,
        procMount=_maybe(st.sampled_from(["Default", "Unmasked"])),
    )
)
POD_CONTEXT = _maybe(
    _mapping(
        runAsNonRoot=_maybe(st.booleans()),
        runAsUser=RUN_AS_USER,
        seccompProfile=SECCOMP,
        fsGroup=_maybe(st.just(100)),
    )
)
PORTS = _maybe(
    st.lists(
        _mapping(containerPort=st.just(8080), hostPort=_maybe(st.sampled_from([0, 8080]))), max_size=1
    )
)


def _containers(prefix: str, min_size: int, max_size: int) -> st.SearchStrategy:
    one = _mapping(securityContext=CONTAINER_CONTEXT, ports=PORTS)
    return st.lists(one, min_size=min_size, max_size=max_size).map(
        lambda items: [{"name": f"{prefix}{i}", "image": "quay.io/example/app:1.0", **c} for i, c in enumerate(items)]
    )


POD_SPEC = st.fixed_dictionaries(
    {
        "containers": _containers("main", 1, 3),
        "initContainers": _containers("init", 0, 3),
        "ephemeralContainers": _containers("debug", 0, 1),
        "securityContext": POD_CONTEXT,
        "hostNetwork": _maybe(st.booleans()),
        "hostPID": _maybe(st.booleans()),
        "hostIPC": _maybe(st.booleans()),
        "volumes": _maybe(
            st.lists(
                st.sampled_from([{"name": "scratch", "emptyDir": {}}, {"name": "host", "hostPath": {"path": "/var"}}]),
                max_size=2,
                unique_by=lambda v: v["name"],
            )
        ),
    }
).map(lambda d: {k: v for k, v in d.items() if v is not UNSET and v != []})


def _manifest(spec: dict[str, Any]) -> str:
    return "---\n" + dump_yaml(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
         "spec": {"replicas": 2, "template": {"spec": spec}}}
    )


def _output_spec(text: str) -> dict[str, Any]:
    (spec,) = [s for d in parse(text) if d.kind == "Deployment" and (s := pod_spec(d.obj)) is not None]
    return spec


# --- the order of safety ---------------------------------------------------------------------
# Higher is safer. Unset sits where the platform's default puts it.

_BOOL_UNSAFE_TRUE = {True: 0, None: 1, False: 1}
_ORDER: dict[str, dict[Any, int]] = {
    "privileged": _BOOL_UNSAFE_TRUE,
    "allowPrivilegeEscalation": {True: 0, None: 1, False: 2},
    "runAsNonRoot": {False: 0, None: 1, True: 2},
    "runAsUser": {0: 0, None: 1, 1000: 1, 65534: 1},
    "seccompProfile": {"Unconfined": 0, None: 1, "Localhost": 2, "RuntimeDefault": 3},
    "procMount": {"Unmasked": 0, None: 1, "Default": 1},
    "hostNetwork": _BOOL_UNSAFE_TRUE,
    "hostPID": _BOOL_UNSAFE_TRUE,
    "hostIPC": _BOOL_UNSAFE_TRUE,
}


def _value(holder: Any, key: str) -> Any:
    value = holder.get(key) if isinstance(holder, dict) else None
    if key == "seccompProfile":
        return value.get("type") if isinstance(value, dict) else None
    return value


def _caps(context: Any, part: str) -> set[str]:
    caps = context.get("capabilities") if isinstance(context, dict) else None
    values = caps.get(part) if isinstance(caps, dict) else None
    return set(values or [])


def _host_ports(container: dict[str, Any]) -> list[Any]:
    return [p.get("hostPort") for p in container.get("ports") or []]


def _assert_not_weaker(before: Any, after: Any, keys: list[str], where: str) -> None:
    for key in keys:
        old, new = _value(before, key), _value(after, key)
        assert _ORDER[key][new] >= _ORDER[key][old], f"{where}: {key} {old!r} -> {new!r}"
        if old is not None:
            assert new == old, f"{where}: explicit {key} {old!r} changed to {new!r}"


def _assert_container_not_weaker(before: dict[str, Any], after: dict[str, Any], where: str) -> None:
    old, new = before.get("securityContext"), after.get("securityContext")
    _assert_not_weaker(
        old, new,
        ["privileged", "allowPrivilegeEscalation", "runAsNonRoot", "runAsUser", "seccompProfile", "procMount"],
        where,
    )
    assert _caps(new, "add") <= _caps(old, "add"), where
    assert _caps(new, "drop") >= _caps(old, "drop"), where
    assert _host_ports(after) == _host_ports(before), where


def _unsafe_init(container: dict[str, Any]) -> bool:
    context = container.get("securityContext") or {}
    return (
        context.get("privileged") is True
        or context.get("runAsUser") == 0
        or bool(_caps(context, "add") & {"NET_ADMIN", "NET_RAW", "SYS_ADMIN"})
    )


_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(POD_SPEC)
def test_post_rendering_never_weakens_and_is_idempotent(spec):
    first = run(_manifest(spec), flag_layer=WARN_ALL)
    assert first.exit_code == 0, first.report.table()
    out = _output_spec(first.output)

    _assert_not_weaker(spec, out, ["hostNetwork", "hostPID", "hostIPC"], "pod")
    _assert_not_weaker(spec.get("securityContext"), out.get("securityContext"),
                       ["runAsNonRoot", "runAsUser", "seccompProfile"], "pod securityContext")
    host_paths = lambda s: {v["name"] for v in s.get("volumes") or [] if "hostPath" in v}  # noqa: E731
    assert host_paths(out) <= host_paths(spec)

    # main and ephemeral containers are never removed, and keep their order
    for field in ("containers", "ephemeralContainers"):
        assert [c["name"] for c in out.get(field) or []] == [c["name"] for c in spec.get(field) or []]
    # init containers: only unsafe ones go, the rest keep their order
    kept = [c["name"] for c in out.get("initContainers") or []]
    given_init = spec.get("initContainers") or []
    assert kept == [c["name"] for c in given_init if not _unsafe_init(c)]

    by_name = {c["name"]: c for f in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(f) or []}
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in out.get(field) or []:
            _assert_container_not_weaker(by_name[container["name"]], container, f"{field}/{container['name']}")

    second = run(first.output, flag_layer=WARN_ALL)
    assert second.output == first.output
    assert [f.line() for f in second.report.findings if f.severity == CHANGE] == []


_SITE = {"initContainers": "init container", "containers": "container", "ephemeralContainers": "ephemeral container"}


def _unsafe_sites(spec: dict[str, Any]) -> set[str]:
    """Where ``spec`` explicitly breaks a rule, as reports name it: "pod spec" or "container NAME" (hand-written)."""
    sites = set()
    pod = spec.get("securityContext") or {}
    if (
        any(spec.get(k) is True for k in ("hostNetwork", "hostPID", "hostIPC"))
        or any("hostPath" in v for v in spec.get("volumes") or [])
        or pod.get("runAsNonRoot") is False
        or pod.get("runAsUser") == 0
        or _value(pod, "seccompProfile") in ("Unconfined", "Localhost")
    ):
        sites.add("pod spec")
    for field, label in _SITE.items():
        for c in spec.get(field) or []:
            sc = c.get("securityContext") or {}
            if (
                sc.get("privileged") is True
                or sc.get("allowPrivilegeEscalation") is True
                or sc.get("runAsNonRoot") is False
                or sc.get("runAsUser") == 0
                or _caps(sc, "add") - {"NET_BIND_SERVICE"}
                or _value(sc, "seccompProfile") in ("Unconfined", "Localhost")
                or sc.get("procMount") == "Unmasked"
                or any(_host_ports(c))
            ):
                sites.add(f"{label} {c['name']}")
    return sites


_SITE_NAMES = re.compile(r", (pod spec|(?:init |ephemeral )?container [a-z]+\d+): ")


def _without_unsafe_init(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` as privileged-init leaves it: init containers that need privileges removed."""
    init = [c for c in spec.get("initContainers") or [] if not _unsafe_init(c)]
    return {**spec, "initContainers": init}


@_SETTINGS
@given(POD_SPEC)
def test_pods_come_out_restricted_or_are_refused_naming_each_violation(spec):
    """Enforce mode: a pod is admitted by Pod Security restricted, or refused with nothing on stdout.

    Refused exactly when something other than a removable privileged init container breaks
    a rule, and then every place that breaks one is named by an error.
    """
    result = run(_manifest(spec), flag_layer=SECURITY_ONLY)
    sites = _unsafe_sites(_without_unsafe_init(spec))
    if not sites:
        assert result.exit_code == 0, result.report.table()
        assert restricted_problems(_output_spec(result.output)) == []
        return
    assert result.exit_code == 1, result.report.table()
    assert result.output == ""
    errors = [f.line() for f in result.report.findings if f.severity == ERROR]
    for site in sites:
        assert any(f", {site}: " in line for line in errors), f"{site} not reported: {errors}"
    named = {site for line in errors for site in _SITE_NAMES.findall(line)}
    assert named <= sites, f"errors about places that break no rule: {errors}"

