#!/usr/bin/env bash
# Build and install kustomize from source through the Go module proxy (used only by
# `make bench`, as the baseline post-renderer the issue compares against).
#
# usage: tools/install-kustomize.sh TOOLS_DIR MODULE VERSION "MOD@VER=h1:... ..." \
#            "GOVERSION GOOS/GOARCH" BINARY_SHA256
#
# Same checks as tools/install-kubeconform.sh: `go install` with GOSUMDB=sum.golang.org
# forced on (every module zip checked against the public checksum database, reached
# through the proxy's /sumdb/ endpoint); then the module hashes in the binary's build
# info (`go version -m`) must equal the pins in $4, for kustomize and each dependency,
# with no unpinned module; `kustomize version` must print the pinned version; and a
# binary built by the toolchain and platform in $5 must have the sha256 in $6 (the
# build is reproducible: -trimpath, CGO_ENABLED=0, no ldflags; other toolchains:
# skipped, with a note). A binary already in place that passes is kept.
set -euo pipefail

tools=$1 module=$2 version=$3 modsums=$4 bin_go=$5 bin_sha256=$6
bin="$tools/bin/kustomize"
pkg="$module"   # the main package is the module root

check_binary() {
    local info want got line
    info=$(go version -m "$1" 2>/dev/null) || { echo "cannot read build info of $1"; return 1; }
    got=$(awk '$1 == "mod" || $1 == "dep" { print $2 "@" $3 "=" $4 }' <<<"$info" | sort)
    want=$(tr ' ' '\n' <<<"$modsums" | sed '/^$/d' | sort)
    if [[ "$got" != "$want" ]]; then
        echo "module hashes in $1 differ from the pins:"
        diff <(echo "$want") <(echo "$got") | sed 's/^/    /' || true
        return 1
    fi
    line=$(awk '$1 == "path" { print $2 }' <<<"$info")
    [[ "$line" == "$pkg" ]] || { echo "$1 was built from $line, not $pkg"; return 1; }
    got=$("$1" version 2>&1) || true
    [[ "$got" == "$version" ]] || { echo "$1 version says '$got', expected '$version'"; return 1; }
    line="$(sed -n '1s/^[^:]*: //p' <<<"$info") $(awk '$2 ~ /^GOOS=/ {sub("GOOS=", "", $2); os=$2}
        $2 ~ /^GOARCH=/ {sub("GOARCH=", "", $2); arch=$2} END {print os "/" arch}' <<<"$info")"
    if [[ "$line" == "$bin_go" ]]; then
        got=$(sha256sum "$1" | cut -d' ' -f1)
        [[ "$got" == "$bin_sha256" ]] || {
            echo "$1: sha256 $got != pinned $bin_sha256 (built with $line)"
            return 1
        }
    else
        echo "note: $1 built with $line, not $bin_go: binary sha256 not compared" >&2
    fi
}

if ! command -v go >/dev/null 2>&1; then
    echo "install-kustomize: ERROR: 'go' is not on PATH; kustomize is built with go install" >&2
    exit 1
fi

if [[ -x "$bin" ]] && check_binary "$bin" >/dev/null; then
    echo "install-kustomize: kustomize $version already installed and verified" >&2
    exit 0
fi

mkdir -p "$tools/bin" "$tools/go" "$tools/downloads/gomod"
rm -f "$bin"
echo "install-kustomize: go install $pkg@$version (about 2 minutes on 2 cores) ..." >&2
env \
    GOPATH="$tools/go" \
    GOMODCACHE="$tools/downloads/gomod" \
    GOCACHE="$tools/go/cache" \
    GOBIN="$tools/bin" \
    GOSUMDB=sum.golang.org \
    GONOSUMDB= GONOSUMCHECK= GOPRIVATE= GOINSECURE= GONOPROXY= \
    GOTOOLCHAIN=local \
    GOFLAGS="-modcacherw -trimpath" \
    CGO_ENABLED=0 \
    go install "$pkg@$version"

if ! problem=$(check_binary "$bin"); then
    echo "install-kustomize: ERROR: $problem" >&2
    rm -f "$bin"
    exit 1
fi
echo "install-kustomize: installed $bin ($version, module hashes match the pins)" >&2
