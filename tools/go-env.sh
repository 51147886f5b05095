# Sourced by the tools/ scripts that build Go code: one definition of how the project runs go.
#
# project_go TOOLS_DIR EXTRA_GOFLAGS GO_ARGS...
#   runs `go GO_ARGS...` with every cache and path project-local (under TOOLS_DIR) and
#   checksum verification forced on (GOSUMDB through the module proxy), whatever the
#   caller's environment or `go env -w` file says; reproducible builds (-trimpath,
#   CGO_ENABLED=0, the local toolchain only). EXTRA_GOFLAGS adds to GOFLAGS.
project_go() {
    local tools=$1 extra=$2
    shift 2
    mkdir -p "$tools/bin" "$tools/go" "$tools/downloads/gomod"
    env \
        GOPATH="$tools/go" \
        GOMODCACHE="$tools/downloads/gomod" \
        GOCACHE="$tools/go/cache" \
        GOBIN="$tools/bin" \
        GOSUMDB=sum.golang.org \
        GONOSUMDB= GONOSUMCHECK= GOPRIVATE= GOINSECURE= GONOPROXY= \
        GOTOOLCHAIN=local \
        GOFLAGS="-modcacherw -trimpath${extra:+ $extra}" \
        CGO_ENABLED=0 \
        go "$@"
}
