"""Which audit rules judge what each post-renderer security rule reports: the one mapping table.

The post-renderer and ``check`` keep two rule sets on purpose. ``jhub_ck8s.hardening``
is what the transforms fill and report while fixing a release: one rule per explicit
field value they refuse to change (``run-as-root``, ``host-path``, ...). ``check.pss``
and ``check.safeguards`` are the independent audit: Pod Security as the admission
controller evaluates it, and the platform's Gatekeeper rules. Written apart, they catch
each other's mistakes; this table says which is whose twin, so a reader (and the test
``tests/test_rule_twins.py``) can go from a post-renderer finding to the audit finding
it must match.

It holds rule ids only, as plain strings: neither side imports the other's logic to
read it. Keys are the post-renderer's rule ids, values the audit rule ids that report
the same violation (more than one where the audit splits it: an added capability is a
*baseline* finding outside the baseline set and a *restricted* one inside it).

A pod the post-renderer reports with ``host-network``, and the audit with
``pss-baseline-host-namespaces``::

    spec: {hostNetwork: true, containers: [{name: app, image: example.org/app:1}]}
"""

from __future__ import annotations

# post-renderer rule id (jhub_ck8s.hardening, used by privileged-init, security-context and
# user-pods) -> the check rule ids that report the same thing
SECURITY_TWINS: dict[str, tuple[str, ...]] = {
    "privileged": ("pss-baseline-privileged",),
    "run-as-root": ("pss-restricted-run-as-user",),
    "run-as-non-root-false": ("pss-restricted-run-as-non-root",),
    "capabilities-add": ("pss-baseline-capabilities", "pss-restricted-capabilities"),
    "host-network": ("pss-baseline-host-namespaces",),
    "host-pid": ("pss-baseline-host-namespaces",),
    "host-ipc": ("pss-baseline-host-namespaces",),
    "host-path": ("pss-baseline-host-path-volumes",),
    "host-port": ("pss-baseline-host-ports",),
    "proc-mount": ("pss-baseline-proc-mount",),
    "seccomp-unconfined": ("pss-baseline-seccomp",),
    "seccomp-localhost": ("safeguard-localhost-seccomp",),
    "allow-privilege-escalation": ("pss-restricted-allow-privilege-escalation",),
    # a securityContext that is not a mapping: the API server's schema refuses the object
    "security-context-malformed": ("kubeconform-schema",),
}

# The platform safeguards some other transforms report instead of fixing (an error in
# enforce mode) -> the check rule that judges the same object.
SAFEGUARD_TWINS: dict[str, tuple[str, ...]] = {
    "disallowed-tag": ("safeguard-disallowed-tags",),
    "load-balancer": ("safeguard-load-balancer",),
    "cluster-scoped": ("tenant-cluster-scoped",),
    "network-policy-unselected": ("safeguard-network-policy",),
}

TWINS: dict[str, tuple[str, ...]] = {**SECURITY_TWINS, **SAFEGUARD_TWINS}


def twins(rule: str) -> tuple[str, ...]:
    """The audit rule ids for a post-renderer rule id; KeyError naming the known ones if unmapped."""
    try:
        return TWINS[rule]
    except KeyError:
        raise KeyError(f"no audit twin recorded for post-renderer rule {rule!r} (known: {', '.join(TWINS)})") from None
