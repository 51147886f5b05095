"""Make the pods KubeSpawner creates at spawn time pass Pod Security "restricted".

User pods never appear in the rendered manifests: the hub builds them from its
runtime config, ``Secret/hub`` key ``values.yaml``. This transform hardens the
security contexts, containers and volumes of that config (key paths only in every
message; no value of the Secret is shown). Its siblings do the rest of that config:
``hub-blind-spots`` (what cannot be seen), ``cloud-metadata`` (the iptables block) and
``user-resources`` (the notebook's cpu and memory). Guarantees:

* the notebook pod and container get restricted contexts through
  ``hub.config.KubeSpawner.pod_security_context`` / ``container_security_context``,
  filled into what is set there. KubeSpawner 7.0.0 *merges* these over the values it
  derives itself (``make_pod``: ``psc.update(pod_security_context)``,
  ``csc.update(container_security_context)``), so ``singleuser.uid`` stays
  ``runAsUser`` and ``singleuser.fsGid`` stays ``fsGroup`` without being copied --
  copying them would pin them and override a profile's own ``uid``/``fs_gid``.
  ``allowPrivilegeEscalation`` is filled unless ``singleuser.allowPrivilegeEscalation``
  (or the KubeSpawner trait) explicitly asks for true, which is an error instead;
* contexts that *replace* those (``extraPodConfig.securityContext``,
  ``extra_container_config.securityContext``) and each profile override (and
  profile option choice) that sets its own contexts are filled the same way; for a
  replacing pod context ``fsGroup`` comes from ``singleuser.fsGid`` when absent,
  because the replacement drops it;
* every user init and sidecar container (``singleuser.initContainers`` /
  ``extraContainers``, ``hub.config.KubeSpawner.init_containers`` /
  ``extra_containers``, and those of profile overrides) gets the container security
  defaults and the resource defaults (``resources`` and ``resourceOverrides``
  matched as kind ``Pod``, name ``jupyter-{username}``, the container's name);
* an explicit violation in the hub config (``privileged``, uid 0, a hostPath volume,
  ...) is an error naming its key path, with the rule ids of ``jhub_ck8s.hardening``;
* a context or ``hub.config.KubeSpawner`` that is not a mapping (code) cannot be
  hardened: a warning (rule ``spawner-code``).

Before (``values.yaml`` of ``Secret/hub``)::

    singleuser: {uid: 1000, fsGid: 100}

After::

    singleuser: {uid: 1000, fsGid: 100}
    hub:
      config:
        KubeSpawner:
          pod_security_context: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          container_security_context:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            runAsNonRoot: true
            seccompProfile: {type: RuntimeDefault}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jhub_ck8s import hardening
from jhub_ck8s.hubconfig import profile_parts
from jhub_ck8s.hubfindings import PLATFORM_STILL, SPAWNER, HubFindings, camel_or_snake, items

if TYPE_CHECKING:
    from jhub_ck8s.hubconfig import HubConfig
    from jhub_ck8s.report import Finding
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "user-pods"
# How resourceOverrides see the containers of a user pod (KubeSpawner's default pod name).
USER_POD_KIND = "Pod"
USER_POD_NAME = "jupyter-{username}"


class _Run(HubFindings):
    """This transform's findings, and the settings its container defaults come from."""

    __slots__ = ("settings",)

    def __init__(self, hub: HubConfig, settings: Settings) -> None:
        super().__init__(ID, hub)
        self.settings = settings


def _context(run: _Run, holder: dict[str, Any], key: str, path: str) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The context mapping at ``holder[key]`` (created if absent), or a warning if it is code."""
    context = hardening.ensure_context(holder, key)
    if context is None:
        return None, [
            run.warning(
                path,
                f"{path} is not a mapping (code?), so it cannot be hardened here; {PLATFORM_STILL}",
                f"write {path} as a mapping of camelCase securityContext fields",
                "spawner-code",
            )
        ]
    return context, []


def _pod_context(run: _Run, holder: dict[str, Any], key: str, path: str, *, fs_group: Any = None) -> Iterator[Finding]:
    """Report and fill one pod security context; ``fs_group`` restores what a replacement drops."""
    yield from (run.error(v) for v in hardening.context_violations(holder.get(key), path))
    context, problems = _context(run, holder, key, path)
    yield from problems
    if context is None:
        return
    filled = [hardening.describe_filled(hardening.fill_pod_security_context(context))]
    if fs_group is not None and context.get("fsGroup") is None:
        context["fsGroup"] = fs_group
        filled.append("fsGroup from singleuser.fsGid (this context replaces the one KubeSpawner builds)")
    filled = [text for text in filled if text]
    if filled:
        yield run.change(path, "set " + ", ".join(filled))


def _container_context(
    run: _Run,
    holder: dict[str, Any],
    key: str,
    path: str,
    user_pod_context: Any,
    *,
    keep: tuple[str, ...] = (),
) -> Iterator[Finding]:
    yield from (run.error(v) for v in hardening.context_violations(holder.get(key), path))
    context, problems = _context(run, holder, key, path)
    yield from problems
    if context is None:
        return
    filled = hardening.fill_container_security_context(context, user_pod_context, keep=keep)
    if filled:
        yield run.change(path, "set " + hardening.describe_filled(filled))


def _trait_findings(run: _Run, spawner: Mapping[str, Any], path: str, *, chart: bool) -> Iterator[Finding]:
    """Explicit unsafe KubeSpawner traits (``chart``: also the singleuser values that feed them)."""
    if spawner.get("privileged") is True:
        yield run.trait_error(
            f"{path}.privileged",
            hardening.PRIVILEGED,
            "Pod Security restricted forbids privileged containers",
            f"set {path}.privileged to false",
        )
    uids = [(f"{path}.uid", spawner.get("uid"))]
    if chart and "uid" not in spawner:
        uids.append(("singleuser.uid", run.hub.get("singleuser.uid")))
    for uid_path, uid in uids:
        if uid == 0 and not isinstance(uid, bool):
            yield run.trait_error(
                uid_path,
                hardening.RUN_AS_ROOT,
                "Pod Security restricted forbids running as uid 0",
                f"set {uid_path} to a non-zero uid",
            )


def _escalation_source(run: _Run, spawner: Mapping[str, Any], path: str, *, chart: bool) -> str | None:
    """The key path that explicitly asks for allowPrivilegeEscalation: true, if any."""
    if "allow_privilege_escalation" in spawner:
        return f"{path}.allow_privilege_escalation" if spawner["allow_privilege_escalation"] is True else None
    if chart and run.hub.get("singleuser.allowPrivilegeEscalation") is True:
        return "singleuser.allowPrivilegeEscalation"
    return None


def _spawner_settings(
    run: _Run,
    spawner: dict[str, Any],
    path: str,
    user_pod_context: Any,
    *,
    chart: bool,
    override: bool,
) -> Iterator[Finding]:
    """Contexts, replacing contexts, containers and volumes of one KubeSpawner config or override.

    ``chart``: the top-level config, which also sees the singleuser values.
    ``override``: a profile override, whose contexts are merged over the top-level ones,
    so only the contexts it sets itself are filled.
    """
    yield from _trait_findings(run, spawner, path, chart=chart)
    escalation = _escalation_source(run, spawner, path, chart=chart)
    keep: tuple[str, ...] = ()
    csc = spawner.get("container_security_context")
    if escalation and not (isinstance(csc, Mapping) and csc.get("allowPrivilegeEscalation") is not None):
        keep = ("allowPrivilegeEscalation",)
        yield run.trait_error(
            escalation,
            hardening.ALLOW_PRIVILEGE_ESCALATION,
            "Pod Security restricted requires allowPrivilegeEscalation: false",
            f"set {escalation} to false",
        )
    if not override or spawner.get("pod_security_context") is not None:
        yield from _pod_context(run, spawner, "pod_security_context", f"{path}.pod_security_context")
    if not override or csc is not None:
        yield from _container_context(
            run,
            spawner,
            "container_security_context",
            f"{path}.container_security_context",
            user_pod_context,
            keep=keep,
        )
    yield from _replacing_contexts(
        run,
        spawner.get("extra_pod_config"),
        f"{path}.extra_pod_config",
        spawner.get("extra_container_config"),
        f"{path}.extra_container_config",
        user_pod_context,
    )
    for volume_path, volume in items(spawner.get("volumes"), f"{path}.volumes"):
        violation = hardening.volume_violation(volume, volume_path)
        if violation:
            yield run.error(violation)
    for key in ("init_containers", "extra_containers"):
        yield from _containers(run, spawner.get(key), f"{path}.{key}", user_pod_context)


def _replacing_contexts(
    run: _Run,
    pod_config: Any,
    pod_path: str,
    container_config: Any,
    container_path: str,
    user_pod_context: Any,
) -> Iterator[Finding]:
    """``extra_pod_config`` / ``extra_container_config``: their securityContext replaces
    the one KubeSpawner builds, so it is checked and filled itself."""
    if isinstance(pod_config, dict):
        for camel, snake, rule in (
            ("hostNetwork", "host_network", hardening.HOST_NETWORK),
            ("hostPID", "host_pid", hardening.HOST_PID),
            ("hostIPC", "host_ipc", hardening.HOST_IPC),
        ):
            key = camel_or_snake(pod_config, camel, snake)
            if key and pod_config[key] is True:
                yield run.trait_error(
                    f"{pod_path}.{key}",
                    rule,
                    "Pod Security restricted forbids sharing host namespaces",
                    f"set {pod_path}.{key} to false",
                )
        for volume_path, volume in items(pod_config.get("volumes"), f"{pod_path}.volumes"):
            violation = hardening.volume_violation(volume, volume_path)
            if violation:
                yield run.error(violation)
        key = camel_or_snake(pod_config, "securityContext", "security_context")
        if key:
            fs_gid = run.hub.get(f"{SPAWNER}.fs_gid", run.hub.get("singleuser.fsGid"))
            yield from _pod_context(run, pod_config, key, f"{pod_path}.{key}", fs_group=fs_gid)
    if isinstance(container_config, dict):
        key = camel_or_snake(container_config, "securityContext", "security_context")
        if key:
            yield from _container_context(run, container_config, key, f"{container_path}.{key}", user_pod_context)


def _containers(run: _Run, value: Any, path: str, user_pod_context: Any) -> Iterator[Finding]:
    """User init/sidecar containers: passed to the pod raw, so they need full specs."""
    from jhub_ck8s.resource_defaults import defaults_for, fill_container_resources

    for container_path, container in items(value, path):
        if not isinstance(container, dict):
            continue
        name = str(container.get("name", ""))
        for violation in hardening.container_violations(container, container_path):
            yield run.error(violation, name)
        context = hardening.ensure_context(container, "securityContext")
        filled: list[str] = []
        if context is not None:
            security = hardening.fill_container_security_context(context, user_pod_context)
            filled += [f"securityContext {hardening.describe_filled(security)}"] if security else []
        defaults = defaults_for(run.settings, USER_POD_KIND, USER_POD_NAME, name)
        # field names only: a clamped default would quote the container's own (Secret) value
        resources = [text.split("=", 1)[0] for text in fill_container_resources(container, defaults)]
        filled += [f"resources {', '.join(resources)} from the resource defaults"] if resources else []
        if filled:
            yield run.change(container_path, "set " + "; ".join(filled), name)


def _overrides(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every kubespawner_override of a profile list: profiles, option choices, unlisted choices."""
    for part in profile_parts(value, path):
        override = part.override
        if override is not None:
            yield part.path, override


def _user_pod_context(run: _Run) -> Any:
    """The pod context the user chose explicitly (before any fill), as KubeSpawner applies it."""
    # hub.config.KubeSpawner.extra_pod_config replaces singleuser.extraPodConfig as a whole
    pod_config = run.hub.get(f"{SPAWNER}.extra_pod_config")
    if not isinstance(pod_config, Mapping):
        pod_config = run.hub.get("singleuser.extraPodConfig")
    if isinstance(pod_config, Mapping):
        key = camel_or_snake(pod_config, "securityContext", "security_context")
        if key:
            return dict(pod_config[key]) if isinstance(pod_config[key], Mapping) else None
    context = run.hub.get(f"{SPAWNER}.pod_security_context")
    return dict(context) if isinstance(context, Mapping) else None


def _security(run: _Run) -> Iterator[Finding]:
    user_pod_context = _user_pod_context(run)
    spawner = run.hub.get(SPAWNER)
    if spawner is not None and not isinstance(spawner, dict):
        yield run.warning(
            SPAWNER,
            f"is not a mapping; {PLATFORM_STILL}",
            f"write {SPAWNER} as a mapping",
            "spawner-code",
        )
        return
    spawner = run.hub.ensure(SPAWNER)
    yield from _spawner_settings(run, spawner, SPAWNER, user_pod_context, chart=True, override=False)
    singleuser = run.hub.get("singleuser")
    if isinstance(singleuser, dict):
        yield from _replacing_contexts(
            run,
            singleuser.get("extraPodConfig"),
            "singleuser.extraPodConfig",
            None,
            "",
            user_pod_context,
        )
        for volume_path, volume in items(
            run.hub.get("singleuser.storage.extraVolumes"), "singleuser.storage.extraVolumes"
        ):
            violation = hardening.volume_violation(volume, volume_path)
            if violation:
                yield run.error(violation)
        for key in ("initContainers", "extraContainers"):
            yield from _containers(run, singleuser.get(key), f"singleuser.{key}", user_pod_context)
    for list_path in ("singleuser.profileList", f"{SPAWNER}.profile_list"):
        for override_path, override in _overrides(run.hub.get(list_path), list_path):
            yield from _spawner_settings(run, override, override_path, user_pod_context, chart=False, override=True)


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    hub = stream.hub()
    if hub is None:
        return
    yield from _security(_Run(hub, settings))
