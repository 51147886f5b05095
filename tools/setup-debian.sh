#!/usr/bin/env bash
# Install the Debian packages the registry/mirroring tests need, if missing.
#
# usage: tools/setup-debian.sh PKG...
#
# Quick no-op when every package is installed. Never fails the build: without
# apt-get/root, or when apt-get fails, it says so clearly and exits 0, and the
# tests that need the packages skip with a reason.
set -euo pipefail

missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup-debian: all present: $*" >&2
    exit 0
fi

warn() {
    echo "setup-debian: WARNING: $*" >&2
    echo "setup-debian: WARNING: tests needing ${missing[*]} will be skipped." >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || warn "apt-get not available; cannot install ${missing[*]}"
[[ $(id -u) -eq 0 ]] || warn "not root; install by hand: apt-get install ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
echo "setup-debian: installing ${missing[*]} ..." >&2
# The package lists may be absent or stale on a fresh machine: refresh first.
apt-get update -qq </dev/null || warn "apt-get update failed"
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null \
    || warn "apt-get install ${missing[*]} failed"
echo "setup-debian: installed ${missing[*]}" >&2
