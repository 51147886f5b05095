#!/usr/bin/env bash
# Build and install one Go tool from source through the Go module proxy, verified.
#
# usage: tools/go-install.sh NAME TOOLS_DIR PACKAGE VERSION "MOD@VER=h1:... ..." \
#            "GOVERSION GOOS/GOARCH" BINARY_SHA256 VERSION_ARG [LDFLAGS]
#   e.g. kubeconform .tools github.com/yannh/kubeconform/cmd/kubeconform v0.7.0 ... -v "-X main.version=v0.7.0"
#
# Checksums: `go install` runs with GOSUMDB=sum.golang.org forced on (the checksum
# database is reached through the module proxy's /sumdb/ endpoint), so every
# downloaded module zip is checked against the signed, public go.sum database. On
# top of that, the module hashes embedded in the binary's build info (`go version
# -m`) must equal the pins (from tools/versions.mk), for the tool and each of its
# dependencies, with no unpinned module; `NAME VERSION_ARG` must print VERSION; and
# the build is reproducible (-trimpath, CGO_ENABLED=0), so a binary built by the Go
# toolchain and platform named must also have the pinned sha256 (other toolchains:
# skipped, with a note). A binary already in place that passes the same checks is
# kept, so re-runs take well under a second.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

name=$1 tools=$2 pkg=$3 version=$4 modsums=$5 bin_go=$6 bin_sha256=$7 version_arg=$8 ldflags=${9:-}
bin="$tools/bin/$name"

check_binary() {
    # Compare `go version -m` with the pins; print the problem and fail on mismatch.
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
    got=$("$1" "$version_arg" 2>&1) || true
    # "v0.7.0", or "kwok version v0.8.0 go1.26.8 (linux/amd64)"
    [[ "$got" == "$version" || "$got" == "$name version $version "* ]] || {
        echo "$1 $version_arg says '$got', expected '$version'"; return 1; }
    # "go1.26.8 linux/amd64" of the toolchain that built it
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
    echo "install-$name: ERROR: 'go' is not on PATH; $name is built with go install" >&2
    exit 1
fi

if [[ -x "$bin" ]] && check_binary "$bin" >/dev/null; then
    echo "install-$name: $name $version already installed and verified" >&2
    exit 0
fi

build_flags=()
[[ -z "$ldflags" ]] || build_flags=(-ldflags="$ldflags")

# go install keeps an existing binary whose build ID looks current: remove it.
rm -f "$bin"
echo "install-$name: go install $pkg@$version ..." >&2
# Everything project-local; checksum verification forced on whatever the
# caller's environment or `go env -w` file says.
project_go "$tools" "" install "${build_flags[@]}" "$pkg@$version"

if ! problem=$(check_binary "$bin"); then
    echo "install-$name: ERROR: $problem" >&2
    rm -f "$bin"
    exit 1
fi
echo "install-$name: installed $bin ($version, module hashes match the pins)" >&2
