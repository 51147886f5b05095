#!/usr/bin/env bash
# Build etcd (the sandbox's and the end-to-end tests' store) from go.etcd.io/etcd/server/v3
# through the Go module proxy, verified.
#
# usage: tools/etcd-build.sh TOOLS_DIR MODULE_DIR ETCD_VERSION GOSUM_SHA256
#   e.g. tools/etcd-build.sh .tools tools/etcd 3.6.17 <sha256 of tools/etcd/go.sum>
#
# Verification as tools/kube-build.sh: the module's go.sum must have the pinned sha256,
# `go build -mod=readonly` checks every module zip against it (GOSUMDB forced on for
# anything else), and `etcd --version` must say "etcd Version: ETCD_VERSION". A stamp in
# TOOLS_DIR/etcd/ records what was built from which go.sum: a re-run with nothing changed
# takes well under a second.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

tools=$1 module=$2 version=$3 gosum_sha256=$4
bin="$tools/bin/etcd"
stamp="$tools/etcd/stamp"

say() { echo "etcd: $*" >&2; }
die() { echo "etcd: ERROR: $*" >&2; exit 1; }

got=$(sha256sum "$module/go.sum" | cut -d' ' -f1)
[[ "$got" == "$gosum_sha256" ]] || die "$module/go.sum has sha256 $got, the pin is $gosum_sha256: review the change, then update ETCD_GOSUM_SHA256 in tools/versions.mk"

want_stamp="$version $gosum_sha256 $(sha256sum "$module/go.mod" | cut -d' ' -f1)"

verified() {
    local says
    [[ -x "$bin" ]] || { echo "$bin is missing"; return 1; }
    says=$("$bin" --version 2>&1 | sed -n 's/^etcd Version: //p') || true
    [[ "$says" == "$version" ]] || { echo "$bin --version says '$says', expected '$version'"; return 1; }
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]] && verified >/dev/null; then
    say "etcd $version already built and verified"
    exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' is not on PATH; etcd is built with go build"

mkdir -p "$tools/bin" "$tools/etcd"
rm -f "$stamp" "$bin.new"
say "go build go.etcd.io/etcd/server/v3 $version (about 2 minutes on 2 cores from a cold cache) ..."
start=$(date +%s)
(
    cd "$module"
    project_go "$tools" "-mod=readonly -buildvcs=false" build -o "$bin.new" -ldflags="-s -w" go.etcd.io/etcd/server/v3
)
mv -f "$bin.new" "$bin"
if ! problem=$(verified); then
    rm -f "$bin"
    die "$problem"
fi
echo "$want_stamp" > "$stamp"
say "built $bin $version in $(( $(date +%s) - start ))s"
