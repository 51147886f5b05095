"""Say what the post-renderer cannot see of the user pods the hub will spawn.

User pods never appear in the rendered manifests: the hub builds them from its
runtime config, ``Secret/hub`` key ``values.yaml``, which the ``user-pods`` transform
hardens. Parts of that config cannot be read or hardened here; each is a warning
naming its key path (never a value of the Secret) and saying that the platform still
enforces Pod Security and the safeguards at spawn time. Guarantees:

* ``hub.existingSecret`` set: the hub reads another Secret (rule ``existing-secret``),
  except with ``gitops: true``, where the hub mounts only its token keys, or ``gitops``
  warns (same rule) of a ``values.yaml`` among items chosen by hand;
* ``hub.extraConfig`` set: Python code that may change how pods are built
  (``extra-config``);
* ``singleuser.profileList`` or ``hub.config.KubeSpawner.profile_list`` that is not a
  list (code or a reference; ``profile-list-code``);
* a profile option whose ``unlisted_choice`` is enabled: users can type any value,
  any image for example (``unlisted-choice``).

It changes nothing.

Before (``values.yaml`` of ``Secret/hub``)::

    hub: {extraConfig: {spawner.py: "c.KubeSpawner.privileged = True"}}

After: unchanged, and the warning::

    warning: Secret/hub values.yaml: hub.extraConfig: hub.extraConfig is Python code the
    post-renderer cannot read; it may change how user pods are built; ... (extra-config)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.hubconfig import profile_parts
from jhub_ck8s.hubfindings import PLATFORM_STILL, SPAWNER, HubFindings

if TYPE_CHECKING:
    from jhub_ck8s.report import Finding
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "hub-blind-spots"


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    hub = stream.hub()
    if hub is None:
        return
    run = HubFindings(ID, hub)
    if hub.get("hub.existingSecret") and not settings.gitops:
        yield run.warning(
            "hub.existingSecret",
            "the hub reads its runtime config from another Secret, so the user pods it spawns are "
            f"not hardened here; {PLATFORM_STILL}",
            "leave hub.existingSecret unset, or apply the same hardening to that Secret's values.yaml",
            "existing-secret",
        )
    if hub.get("hub.extraConfig"):
        yield run.warning(
            "hub.extraConfig",
            "hub.extraConfig is Python code the post-renderer cannot read; it may change how user "
            f"pods are built; {PLATFORM_STILL}",
            "move spawner settings from hub.extraConfig to hub.config.KubeSpawner or singleuser values",
            "extra-config",
        )
    for path in ("singleuser.profileList", f"{SPAWNER}.profile_list"):
        value = hub.get(path)
        if value is not None and not isinstance(value, list):
            yield run.warning(
                path,
                f"is not a list (code or a reference), so its profiles cannot be hardened here; {PLATFORM_STILL}",
                f"write {path} as a list of profiles",
                "profile-list-code",
            )
        for part in profile_parts(value, path):
            if part.unlisted and part.holder.get("enabled"):
                option_path = part.path.removesuffix(".kubespawner_override")
                yield run.warning(
                    option_path,
                    "users can type any value here (any image, for example); it is not "
                    f"relocated, pinned or checked by the post-renderer; {PLATFORM_STILL}",
                    f"set {option_path}.validation_regex to accept only your registry project, "
                    f"or set {option_path}.enabled to false",
                    "unlisted-choice",
                )
