"""Capacity: does the namespace's ResourceQuota hold the release and N concurrent users, and
does its LimitRange allow every container?

Demand is computed as the quota controller counts it: per pod, the larger of the sum of
its containers and its largest init container, for ``requests.cpu``, ``requests.memory``,
``limits.cpu``, ``limits.memory``; a container without a request gets the LimitRange's
``defaultRequest`` (else its limit), one without a limit the LimitRange's ``default``.
The release is every pod template times its replicas (the user placeholders included;
hooks are not counted: they run one at a time), and its PersistentVolumeClaims. Each of
``--users N`` users adds the largest user pod of any profile and, with dynamic user
storage, one PVC of ``singleuser.storage.capacity``.

``capacity-quota``: per ResourceQuota, hard minus used (on an upgrade, plus what the
release's live workloads already hold, never more than used) must cover the release and
the users; the message says how many concurrent users fit and which resource limits them.
``capacity-limit-range``: every container's request and limit within the LimitRange's
min and max (a max with no limit and no default is refused by the API server too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Any

from .client import Forbidden, LiveError, NotFound
from .model import FAIL, PASS, SKIP, Context, Result, ask_admin, label
from .pods import PodUse, release_pods, user_pods

GROUP = "Capacity"
POD_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory", "storage": "requests.storage"}
DEFAULT_USER_STORAGE = "10Gi"


def _q(value: Any) -> Fraction | None:
    from ..quantity import try_parse

    parsed = try_parse(value)
    return None if parsed is None else Fraction(parsed.numerator, parsed.denominator)


def fmt(key: str, value: Fraction) -> str:
    if key.endswith("cpu"):
        milli = value * 1000
        return f"{float(value):g}" if milli % 1000 == 0 else f"{float(milli):g}m"
    if key.endswith(("memory", "storage")):
        for suffix, size in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
            if value >= size:
                return f"{float(value / size):.4g}{suffix}"
        return f"{float(value):g}"
    return f"{float(value):g}"


def _limit_ranges(ctx: Context) -> list[dict[str, Any]] | str:
    def compute() -> list[dict[str, Any]] | str:
        try:
            return ctx.client.list("v1", "LimitRange")
        except Forbidden:
            return "may not list LimitRanges"
        except LiveError as exc:
            return str(exc)
    return ctx.cached("limit_ranges", compute)


def _container_defaults(ranges: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    default: dict[str, Any] = {}
    default_request: dict[str, Any] = {}
    for lr in ranges:
        for item in (lr.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                for k, v in (item.get("default") or {}).items():
                    default.setdefault(k, v)
                for k, v in (item.get("defaultRequest") or {}).items():
                    default_request.setdefault(k, v)
    return default, default_request


def container_resources(container: Mapping[str, Any], ranges: list[dict[str, Any]]) -> dict[str, Fraction]:
    """requests.cpu ... limits.memory of one container, after LimitRange defaults and API defaulting."""
    default, default_request = _container_defaults(ranges)
    res = container.get("resources") or {}
    limits = {**{k: v for k, v in default.items()}, **(res.get("limits") or {})}
    requests = dict(res.get("requests") or {})
    for k, v in default_request.items():
        requests.setdefault(k, v)
    for k, v in limits.items():
        requests.setdefault(k, v)
    out: dict[str, Fraction] = {}
    for prefix, values in (("requests", requests), ("limits", limits)):
        for name in ("cpu", "memory"):
            q = _q(values.get(name))
            if q is not None:
                out[f"{prefix}.{name}"] = q
    return out


def pod_demand(pod: Mapping[str, Any], ranges: list[dict[str, Any]]) -> dict[str, Fraction]:
    spec = pod.get("spec") or {}
    total: dict[str, Fraction] = dict.fromkeys(POD_KEYS, Fraction(0))
    for c in spec.get("containers") or []:
        for k, v in container_resources(c, ranges).items():
            total[k] += v
    for c in spec.get("initContainers") or []:
        for k, v in container_resources(c, ranges).items():
            total[k] = max(total[k], v)
    total["pods"] = Fraction(1)
    return total


def _add(into: dict[str, Fraction], other: Mapping[str, Fraction], times: int = 1) -> None:
    for k, v in other.items():
        into[k] = into.get(k, Fraction(0)) + v * times


def _pvc_storage(obj: Mapping[str, Any]) -> Fraction:
    return _q(((obj.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")) or Fraction(0)


def release_demand(ctx: Context, ranges: list[dict[str, Any]]) -> dict[str, Fraction]:
    demand: dict[str, Fraction] = {}
    for use in release_pods(ctx):
        if not use.hook:
            _add(demand, pod_demand(use.pod, ranges), use.replicas)
    for obj in ctx.release.of_kind("PersistentVolumeClaim"):
        _add(demand, {"persistentvolumeclaims": Fraction(1), "requests.storage": _pvc_storage(obj)})
    for obj in ctx.release.of_kind("StatefulSet"):
        count = (obj.get("spec") or {}).get("replicas", 1) or 0
        for template in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
            _add(demand, {"persistentvolumeclaims": Fraction(1), "requests.storage": _pvc_storage(template)}, int(count))
    return demand


def dynamic_storage(ctx: Context) -> bool:
    from ..hubconfig import lookup

    values = ctx.release.hub_values or {}
    return lookup(values, "singleuser.storage.type") == "dynamic"


def user_demand(ctx: Context, pods: list[PodUse], ranges: list[dict[str, Any]]) -> dict[str, Fraction]:
    from ..hubconfig import lookup

    demand: dict[str, Fraction] = {}
    for use in pods:
        for k, v in pod_demand(use.pod, ranges).items():
            demand[k] = max(demand.get(k, Fraction(0)), v)
    if dynamic_storage(ctx):
        capacity = _q(lookup(ctx.release.hub_values or {}, "singleuser.storage.capacity") or DEFAULT_USER_STORAGE)
        demand["persistentvolumeclaims"] = Fraction(1)
        demand["requests.storage"] = capacity or Fraction(0)
    return demand


def _live_release(ctx: Context, ranges: list[dict[str, Any]]) -> dict[str, Fraction]:
    """What the release's live workloads hold now (an upgrade frees it)."""
    held: dict[str, Fraction] = {}
    for use in release_pods(ctx):
        if use.hook or use.source.split("/")[0] == "Pod":
            continue
        kind, _, name = use.source.partition("/")
        obj = next((o for o in ctx.release.objects if label(o) == use.source), None)
        if obj is None:
            continue
        try:
            live = ctx.client.get(str(obj.get("apiVersion")), kind, name)
        except LiveError:
            continue
        from ..platform import replicas
        from ..podspec import pod_spec

        spec = pod_spec(live)
        if spec is not None:
            _add(held, pod_demand({"spec": spec}, ranges), replicas(live) or 0)
    return held


def _quota_key(key: str) -> str | None:
    key = ALIASES.get(key, key)
    if key in (*POD_KEYS, "pods", "persistentvolumeclaims", "requests.storage"):
        return key
    if key.endswith(".storageclass.storage.k8s.io/requests.storage"):
        return None  # per class: counted in requests.storage where the class is the only one
    return None


def _check_quota(ctx: Context, quota: dict[str, Any], release: dict[str, Fraction], per_user: dict[str, Fraction],
                 held: dict[str, Fraction]) -> Result:
    users = ctx.options.users
    plural = f"{users} user" + ("" if users == 1 else "s")
    hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
    used = (quota.get("status") or {}).get("used") or {}
    subject = label(quota)
    short: list[str] = []
    fit: int | None = None
    limiting = ""
    for raw_key, raw_hard in sorted(hard.items()):
        key = _quota_key(raw_key)
        limit = _q(raw_hard)
        if key is None or limit is None:
            continue
        in_use = _q(used.get(raw_key, "0")) or Fraction(0)
        left = limit - in_use + min(held.get(key, Fraction(0)), in_use)
        need_release = release.get(key, Fraction(0))
        each = per_user.get(key, Fraction(0))
        need = need_release + each * users
        if each > 0:
            room = (left - need_release) // each
            room_int = max(int(room), 0)
            if fit is None or room_int < fit:
                fit, limiting = room_int, raw_key
        if need > left:
            short.append(f"{raw_key}: needs {fmt(key, need)} (release {fmt(key, need_release)} + {users} x {fmt(key, each)}),"
                         f" {fmt(key, max(left, Fraction(0)))} left (hard {fmt(key, limit)}, used {fmt(key, in_use)})")
    fits = f"{fit} concurrent users fit (limited by {limiting})" if fit is not None else "users use nothing this quota counts"
    if short:
        return Result("capacity-quota", GROUP, FAIL, f"{subject} too small for the release and {plural}: "
                      + "; ".join(short) + f"; {fits}",
                      "ask the platform administrator for a larger quota, or lower the requests/limits "
                      "(singleuser.cpu/memory, hub/proxy resources) or --users", subject)
    return Result("capacity-quota", GROUP, PASS, f"{subject} holds the release and {plural}; {fits}", subject=subject)


def _check_limit_range(ctx: Context, lr: dict[str, Any], uses: list[PodUse], ranges: list[dict[str, Any]]) -> Iterator[Result]:
    from ..hubconfig import lookup

    subject = label(lr)
    problems: list[str] = []
    for item in (lr.get("spec") or {}).get("limits") or []:
        kind = item.get("type")
        if kind == "Container":
            for use in uses:
                spec = use.pod.get("spec") or {}
                for field_name in ("initContainers", "containers"):
                    for c in spec.get(field_name) or []:
                        got = container_resources(c, ranges)
                        where = f"{use.source} container {c.get('name')}"
                        for name, bound in (item.get("max") or {}).items():
                            top = _q(bound)
                            limit = got.get(f"limits.{name}")
                            if top is None or name not in ("cpu", "memory"):
                                continue
                            if limit is None:
                                problems.append(f"{where} has no {name} limit, the maximum is {bound}")
                            elif limit > top:
                                problems.append(f"{where} {name} limit {fmt(name, limit)} > max {bound}")
                        for name, bound in (item.get("min") or {}).items():
                            low = _q(bound)
                            request = got.get(f"requests.{name}")
                            if low is not None and name in ("cpu", "memory") and request is not None and request < low:
                                problems.append(f"{where} {name} request {fmt(name, request)} < min {bound}")
        elif kind == "PersistentVolumeClaim" and dynamic_storage(ctx):
            capacity = _q(lookup(ctx.release.hub_values or {}, "singleuser.storage.capacity") or DEFAULT_USER_STORAGE)
            top, low = _q((item.get("max") or {}).get("storage")), _q((item.get("min") or {}).get("storage"))
            if capacity is not None and top is not None and capacity > top:
                problems.append(f"user storage {fmt('storage', capacity)} > max {item['max']['storage']}")
            if capacity is not None and low is not None and capacity < low:
                problems.append(f"user storage {fmt('storage', capacity)} < min {item['min']['storage']}")
    if problems:
        yield Result("capacity-limit-range", GROUP, FAIL, f"{subject} refuses: " + "; ".join(problems),
                     "lower the limits in the values (singleuser.cpu.limit, singleuser.memory.limit, ...) "
                     "or ask the platform administrator to raise the LimitRange", subject)
    else:
        yield Result("capacity-limit-range", GROUP, PASS, f"{subject}: every container's requests and limits are within it",
                     subject=subject)


def run(ctx: Context) -> Iterator[Result]:
    ranges_or_reason = _limit_ranges(ctx)
    ranges = ranges_or_reason if isinstance(ranges_or_reason, list) else []
    users = user_pods(ctx)
    user_uses = users if isinstance(users, list) else []
    if isinstance(users, str):
        yield Result("capacity-quota", GROUP, SKIP, f"user pods not counted: {users}", "")
    try:
        quotas = ctx.client.list("v1", "ResourceQuota")
    except Forbidden:
        quotas = None
        yield Result("capacity-quota", GROUP, SKIP, "may not list ResourceQuotas in the namespace",
                     ask_admin("say what quota the namespace has"))
    except (LiveError, NotFound) as exc:
        quotas = None
        yield Result("capacity-quota", GROUP, FAIL, str(exc), "")
    if quotas is not None:
        if not quotas:
            yield Result("capacity-quota", GROUP, PASS, f"no ResourceQuota in namespace {ctx.namespace}")
        else:
            release = release_demand(ctx, ranges)
            per_user = user_demand(ctx, user_uses, ranges)
            held = _live_release(ctx, ranges)
            for quota in quotas:
                yield _check_quota(ctx, quota, release, per_user, held)
    if isinstance(ranges_or_reason, str):
        yield Result("capacity-limit-range", GROUP, SKIP, ranges_or_reason, ask_admin("say what LimitRange the namespace has"))
    elif not ranges:
        yield Result("capacity-limit-range", GROUP, PASS, f"no LimitRange in namespace {ctx.namespace}")
    else:
        uses = [u for u in release_pods(ctx) if not u.hook] + user_uses
        for lr in ranges:
            yield from _check_limit_range(ctx, lr, uses, ranges)
