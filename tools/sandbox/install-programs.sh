#!/usr/bin/env bash
# Install the programs the sandbox's stand-in kubelet runs (tools/sandbox/programs.py):
#
#   TOOLS/hub-venv  jupyterhub, jupyterhub-kubespawner, ... (tools/sandbox/hub-requirements.txt,
#                   every file checked against its sha256), for the hub and user pods
#   TOOLS/chp       configurable-http-proxy 5.2.0 from npm (tools/sandbox/chp/package-lock.json,
#                   every package checked against its integrity hash), for the proxy pod
#
# usage: tools/sandbox/install-programs.sh TOOLS
#
# The programs run as the pods' users (uid 1000, 65534), not root: the virtualenv is made
# with --copies from an interpreter outside /root (Debian's /usr/bin/python3, or
# $SANDBOX_PYTHON), and everything is readable and executable by all. Node.js 20 or newer
# is required by configurable-http-proxy 5.2.0. Quick when nothing changed (stamp files
# hold the hash of what was installed).
set -euo pipefail

tools=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${SANDBOX_PYTHON:-/usr/bin/python3}

die() { echo "sandbox-programs: $*" >&2; exit 1; }
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- the hub's Python ------------------------------------------------------------------
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    bash "$repo/tools/setup-debian.sh" python3 python3-venv
fi
[[ -x "$python" ]] || die "$python not found: install Debian's python3 and python3-venv (or set SANDBOX_PYTHON to a Python 3.10+ outside /root)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$python is older than 3.10 (jupyterhub 5.5 needs 3.9+, the project 3.10+)"
stdlib=$("$python" -c 'import os, sysconfig; print(os.path.realpath(sysconfig.get_paths()["stdlib"]))')
# uid 1000 must reach the interpreter's standard library (a pyenv under /root is not reachable)
probe=$stdlib
while [[ "$probe" != / ]]; do
    [[ $(( 0$(stat -c %a "$probe" | sed 's/^.*\(.\)$/\1/') & 5 )) -eq 5 ]] \
        || die "$stdlib is not readable by other users ($probe): set SANDBOX_PYTHON to a system Python (/usr/bin/python3)"
    probe=$(dirname "$probe")
done

venv=$tools/hub-venv
want=$(stamp_of "$here/hub-requirements.txt" <(echo "$python" ; "$python" --version))
if [[ "$(cat "$venv/.jhub-ck8s-installed" 2>/dev/null)" != "$want" ]]; then
    echo "sandbox-programs: installing the hub's packages into $venv (about a minute) ..." >&2
    rm -rf "$venv"
    "$python" -m venv --copies "$venv"
    "$venv/bin/python" -m pip install --no-input --progress-bar=off --quiet --disable-pip-version-check \
        --require-hashes --no-deps --only-binary=:all: -r "$here/hub-requirements.txt"
    "$venv/bin/python" -m pip check >/dev/null || die "pip check failed in $venv: $("$venv/bin/python" -m pip check)"
    chmod -R a+rX "$venv"
    echo "$want" > "$venv/.jhub-ck8s-installed"
fi
"$venv/bin/jupyterhub" --version >/dev/null

# --- configurable-http-proxy ------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
    bash "$repo/tools/setup-debian.sh" nodejs npm
fi
command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 or newer (configurable-http-proxy 5.2.0 needs it)"
major=$(node -p 'process.versions.node.split(".")[0]')
(( major >= 20 )) || die "Node.js $(node --version) is too old: configurable-http-proxy 5.2.0 needs 20 or newer (Debian 12 ships 18: install a newer nodejs, e.g. from Debian 13 or NodeSource)"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm (Debian: apt-get install npm)"

chp=$tools/chp
want=$(stamp_of "$here/chp/package.json" "$here/chp/package-lock.json")
if [[ "$(cat "$chp/.jhub-ck8s-installed" 2>/dev/null)" != "$want" ]]; then
    echo "sandbox-programs: installing configurable-http-proxy into $chp ..." >&2
    rm -rf "$chp"
    mkdir -p "$chp"
    cp "$here/chp/package.json" "$here/chp/package-lock.json" "$chp/"
    (cd "$chp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    chmod -R a+rX "$chp"
    echo "$want" > "$chp/.jhub-ck8s-installed"
fi
version=$("$chp/node_modules/.bin/configurable-http-proxy" --version)
[[ "$version" == 5.2.0 ]] || die "configurable-http-proxy says $version, not 5.2.0"
chmod a+rx "$tools"
echo "sandbox-programs: $("$venv/bin/jupyterhub" --version | tail -1) (jupyterhub), configurable-http-proxy $version, node $(node --version)" >&2
