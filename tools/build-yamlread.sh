#!/usr/bin/env bash
# Build the Go YAML oracle (tools/yamlread) as one pinned Helm reads YAML, verified.
#
# usage: tools/build-yamlread.sh TOOLS_DIR MODFILE OUT HELM_BINARY
#   e.g. tools/build-yamlread.sh .tools helm3.mod .tools/bin/yamlread-helm3 .tools/bin/helm3
#
# The module versions come from the committed MODFILE and its .sum twin (read-only:
# nothing is resolved anew, every module zip is checked against the .sum and the
# checksum database). After the build, the binary's sigs.k8s.io/yaml and
# k8s.io/apimachinery versions and hashes must equal those in the build info of the
# Helm binary it stands for: the oracle reads YAML exactly as that Helm does.
set -euo pipefail

tools=$1 modfile=$2 out=$3 helm=$4
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/yamlread" && pwd)"
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

deps() { go version -m "$1" | awk '$1 == "dep" && ($2 == "sigs.k8s.io/yaml" || $2 == "k8s.io/apimachinery" || $2 == "go.yaml.in/yaml/v2") { print $2 "@" $3 "=" $4 }' | sort; }

if [[ ! -x "$helm" ]]; then
    echo "build-yamlread: ERROR: $helm is missing (make helm first): the oracle is pinned to its YAML reader" >&2
    exit 1
fi

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(
    cd "$src"
    project_go "$tools" "-buildvcs=false -mod=readonly" build -modfile="$modfile" -o "$tmp" .
)
want=$(deps "$helm")
got=$(deps "$tmp")
if [[ "$want" != "$got" ]]; then
    echo "build-yamlread: ERROR: $out would not read YAML as $helm does:" >&2
    diff <(echo "$want") <(echo "$got") | sed 's/^/    /' >&2 || true
    exit 1
fi
mv "$tmp" "$out"
echo "build-yamlread: built $out ($(tr '\n' ' ' <<<"$got"))" >&2
