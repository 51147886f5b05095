#!/usr/bin/env bash
# The benchmark's baseline Helm post-renderer: kustomize doing nothing but image renames.
# stdin -> temp kustomization (resources: the stream; images: from $BENCH_KUSTOMIZE_IMAGES)
# -> `kustomize build` -> stdout. $BENCH_KUSTOMIZE is the kustomize binary (bench/bench.py
# sets both). Used as `--post-renderer` on Helm 3 and through a postrenderer/v1 plugin on
# Helm 4; never part of the product.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/all.yaml"
{ echo "resources: [all.yaml]"; cat "$BENCH_KUSTOMIZE_IMAGES"; } > "$dir/kustomization.yaml"
"${BENCH_KUSTOMIZE:-kustomize}" build "$dir"
