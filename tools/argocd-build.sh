#!/usr/bin/env bash
# Build Argo CD's plugin server (argocd-cmp-server) and our client of it (cmp-call, which
# calls it as Argo CD's repo server does) from github.com/argoproj/argo-cd/v3 through the
# Go module proxy, verified. Used by the GitOps tests (tests/test_gitops_cmp.py).
#
# usage: tools/argocd-build.sh TOOLS_DIR MODULE_DIR ARGOCD_VERSION GOSUM_SHA256 MODULE_H1 GO_TOOLCHAIN
#   e.g. tools/argocd-build.sh .tools tools/argocd v3.6.2 <sha256 of tools/argocd/go.sum> h1:... go1.27.3
#
# Verification as tools/kube-build.sh: the module's go.sum must have the pinned sha256,
# `go build -mod=readonly` checks every module zip against it (GOSUMDB forced on for
# anything else), and each binary's build info must name github.com/argoproj/argo-cd/v3
# at ARGOCD_VERSION with the pinned h1: hash. Argo CD v3.6 needs Go 1.27: the go command
# fetches GO_TOOLCHAIN from the module proxy (verified by the checksum database). A stamp
# in TOOLS_DIR/argocd/ records what was built from which go.sum and sources: a re-run
# with nothing changed takes well under a second.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

tools=$1 module=$2 version=$3 gosum_sha256=$4 module_h1=$5 toolchain=$6
binaries=(argocd-cmp-server cmp-call)
stamp="$tools/argocd/stamp"

say() { echo "argocd: $*" >&2; }
die() { echo "argocd: ERROR: $*" >&2; exit 1; }

got=$(sha256sum "$module/go.sum" | cut -d' ' -f1)
[[ "$got" == "$gosum_sha256" ]] || die "$module/go.sum has sha256 $got, the pin is $gosum_sha256: review the change, then update ARGOCD_GOSUM_SHA256 in tools/versions.mk"

pkg=github.com/argoproj/argo-cd/v3/common
ldflags="-s -w -X $pkg.version=${version#v} -X $pkg.gitTreeState=clean"
sources=$(cd "$module" && cat go.mod cmd/*/main.go | sha256sum | cut -d' ' -f1)
want_stamp="$version $gosum_sha256 $sources $toolchain $ldflags"

verified() {
    local name line
    for name in "${binaries[@]}"; do
        [[ -x "$tools/bin/$name" ]] || { echo "$tools/bin/$name is missing"; return 1; }
        line=$(go version -m "$tools/bin/$name" 2>/dev/null | awk '$1 == "dep" && $2 == "github.com/argoproj/argo-cd/v3" { print $3, $4 }')
        [[ "$line" == "$version $module_h1" ]] || { echo "$tools/bin/$name: build info says argo-cd '$line', expected '$version $module_h1'"; return 1; }
    done
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]] && verified >/dev/null; then
    say "${binaries[*]} $version already built and verified"
    exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' is not on PATH; Argo CD's plugin server is built with go build"

mkdir -p "$tools/bin" "$tools/argocd"
out="$tools/argocd/build"
rm -rf "$out" "$stamp"
mkdir -p "$out"
say "go build ${binaries[*]} (Argo CD $version, $toolchain; 3.5-7 minutes on 2 cores from a cold cache, the Go 1.27 toolchain and every module downloaded) ..."
start=$(date +%s)
(
    cd "$module"
    GOTOOLCHAIN_PIN=$toolchain project_go "$tools" "-mod=readonly -buildvcs=false" build -o "$out/" -ldflags="$ldflags" \
        ./cmd/argocd-cmp-server ./cmd/cmp-call
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
