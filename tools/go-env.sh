# Sourced by the tools/ scripts that build Go code: one definition of how the project runs go.
#
# project_go TOOLS_DIR EXTRA_GOFLAGS GO_ARGS...
#   runs `go GO_ARGS...` with the binaries installed into TOOLS_DIR/bin and checksum
#   verification forced on (GOSUMDB through the module proxy), whatever the caller's
#   environment or `go env -w` file says; reproducible builds (-trimpath, CGO_ENABLED=0,
#   the local toolchain unless GOTOOLCHAIN_PIN names one). EXTRA_GOFLAGS adds to GOFLAGS.
#
# The module and build caches live in one per-user folder outside the checkout,
# $JHUB_CK8S_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/jhub-ck8s), so a fresh clone
# (CI's) reuses them: both are content-addressed and verified (module zips against
# go.sum and the checksum database, build results by their inputs' hashes), so sharing
# them cannot change what is built. `make clean` leaves them; `make clean-cache` removes them.
jhub_ck8s_cache() {
    echo "${JHUB_CK8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jhub-ck8s}"
}

project_go() {
    local tools=$1 extra=$2 cache
    shift 2
    cache=$(jhub_ck8s_cache)
    mkdir -p "$tools/bin" "$tools/go" "$cache/gomod" "$cache/gobuild"
    env \
        GOPATH="$tools/go" \
        GOMODCACHE="$cache/gomod" \
        GOCACHE="$cache/gobuild" \
        GOBIN="$tools/bin" \
        GOSUMDB=sum.golang.org \
        GONOSUMDB= GONOSUMCHECK= GOPRIVATE= GOINSECURE= GONOPROXY= \
        GOTOOLCHAIN="${GOTOOLCHAIN_PIN:-local}" \
        GOFLAGS="-modcacherw -trimpath${extra:+ $extra}" \
        CGO_ENABLED=0 \
        go "$@"
}
