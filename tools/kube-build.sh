#!/usr/bin/env bash
# Build the end-to-end tests' control plane: kube-apiserver, kube-controller-manager and kube-scheduler
# from k8s.io/kubernetes through the Go module proxy, verified (etcd: tools/etcd-build.sh).
#
# usage: tools/kube-build.sh TOOLS_DIR MODULE_DIR KUBE_VERSION GOSUM_SHA256
#   e.g. tools/kube-build.sh .tools tools/kube v1.34.4 <sha256 of tools/kube/go.sum>
#
# Verification: the module's go.sum must have the pinned sha256 (so the whole
# dependency graph is the reviewed one), and `go build -mod=readonly` checks every
# downloaded module zip against go.sum, with GOSUMDB=sum.golang.org forced on for
# anything go.sum does not list (reached through the module proxy). Each binary must
# then print exactly "Kubernetes KUBE_VERSION" (set with -ldflags: without them it says
# v0.0.0-master, which Helm and kubectl reject). A stamp in TOOLS_DIR/kube/ records
# what was built from which go.sum: a re-run with nothing changed takes well under a
# second. Caches (modules, build) are the per-user ones of tools/go-env.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

tools=$1 module=$2 version=$3 gosum_sha256=$4
binaries=(kube-apiserver kube-controller-manager kube-scheduler)
stamp="$tools/kube/stamp"

say() { echo "kube: $*" >&2; }
die() { echo "kube: ERROR: $*" >&2; exit 1; }

[[ "$version" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "KUBE_VERSION '$version' is not vMAJOR.MINOR.PATCH"
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}

# --- go.sum: the reviewed dependency graph ---------------------------------------------------
got=$(sha256sum "$module/go.sum" | cut -d' ' -f1)
[[ "$got" == "$gosum_sha256" ]] || die "$module/go.sum has sha256 $got, the pin is $gosum_sha256: review the change, then update KUBE_GOSUM_SHA256 in tools/versions.mk"

pkg=k8s.io/component-base/version
# -s -w: no symbol table or DWARF (a third smaller, links faster; stack traces stay)
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
want_stamp="$version $gosum_sha256 $(sha256sum "$module/go.mod" | cut -d' ' -f1) $ldflags"

verified() {
    # Every binary present and printing the pinned version.
    local name says
    for name in "${binaries[@]}"; do
        [[ -x "$tools/bin/$name" ]] || { echo "$tools/bin/$name is missing"; return 1; }
        says=$("$tools/bin/$name" --version 2>&1) || true
        [[ "$says" == "Kubernetes $version" ]] || { echo "$tools/bin/$name --version says '$says', expected 'Kubernetes $version'"; return 1; }
    done
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]] && verified >/dev/null; then
    say "${binaries[*]} $version already built and verified"
    exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' is not on PATH; the control plane is built with go build"

mkdir -p "$tools/bin" "$tools/kube"
out="$tools/kube/build"
rm -rf "$out" "$stamp"
mkdir -p "$out"
say "go build ${binaries[*]} $version (6-15 minutes on 2 cores from a cold cache) ..."
start=$(date +%s)
(
    cd "$module"
    project_go "$tools" "-mod=readonly -buildvcs=false" build -o "$out/" -ldflags="$ldflags" \
        "${binaries[@]/#/k8s.io/kubernetes/cmd/}"
)
for name in "${binaries[@]}"; do
    mv -f "$out/$name" "$tools/bin/$name"
done
rmdir "$out"
if ! problem=$(verified); then
    rm -f "${binaries[@]/#/$tools/bin/}"
    die "$problem"
fi
echo "$want_stamp" > "$stamp"
say "built ${binaries[*]} $version in $(( $(date +%s) - start ))s"
