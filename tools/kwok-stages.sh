#!/usr/bin/env bash
# Write kwok's default stages into TOOLS_DIR/kwok/stages.yaml, from the kwok module itself.
#
# usage: tools/kwok-stages.sh TOOLS_DIR MODULE VERSION STAGES_SHA256
#   e.g. tools/kwok-stages.sh .tools sigs.k8s.io/kwok v0.8.0 <sha256 of the result>
#
# kwok refuses to start without stages ("no stages found"); its defaults ship in the
# module as kustomize folders. The stages the sandbox needs are the YAML files (not
# kustomization.yaml) of kustomize/stage/node/fast (nodes Ready), node/heartbeat (their
# heartbeat) and pod/fast (pods Running and Ready with an address, Job pods Succeeded,
# deleted pods removed), joined in that order, files sorted by name. The module comes
# from `go mod download` (its zip checked against the checksum database, GOSUMDB on) and
# the result must have the pinned sha256.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

tools=$1 module=$2 version=$3 want_sha256=$4
out="$tools/kwok/stages.yaml"
say() { echo "kwok-stages: $*" >&2; }
die() { echo "kwok-stages: ERROR: $*" >&2; exit 1; }

if [[ -f "$out" && "$(sha256sum "$out" | cut -d' ' -f1)" == "$want_sha256" ]]; then
    say "$out already written and verified"
    exit 0
fi
dir=$(project_go "$tools" "" mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -d "$dir" ]] || die "go mod download $module@$version gave no folder"
mkdir -p "$tools/kwok"
tmp="$out.new"
: > "$tmp"
for stage in node/fast node/heartbeat pod/fast; do
    for file in $(cd "$dir/kustomize/stage/$stage" && ls -1 -- *.yaml | LC_ALL=C sort); do
        [[ "$file" != kustomization.yaml ]] || continue
        printf -- '---\n# %s/kustomize/stage/%s/%s\n' "$module@$version" "$stage" "$file" >> "$tmp"
        sed '/^---[[:space:]]*$/d' "$dir/kustomize/stage/$stage/$file" >> "$tmp"
    done
done
got=$(sha256sum "$tmp" | cut -d' ' -f1)
if [[ "$got" != "$want_sha256" ]]; then
    rm -f "$tmp"
    die "the stages from $module@$version have sha256 $got, the pin is $want_sha256 (tools/versions.mk KWOK_STAGES_SHA256)"
fi
mv -f "$tmp" "$out"
say "wrote $out"
