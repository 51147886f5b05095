#!/usr/bin/env bash
# make demo: render examples/values.yaml through the wrapper chart and the post-renderer,
# validate the result with kubeconform -strict (offline schemas), print the report.
# The upstream chart comes from its repository, or from $JUPYTERHUB_CHART when offline.
# examples/values.yaml keeps example names (jupyter.example.com) on purpose: it accepts them
# through its ck8s.allowExamples list, as a user accepts one with --allow-example KEY.PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
helm_bin="${HELM_BIN:-$PWD/.tools/bin/${DEMO_HELM:-helm4}}"
out="$PWD/.tools/demo"
mkdir -p "$out"
args=(render jhub -f examples/values.yaml --report "$out/report.json")
if [ -n "${JUPYTERHUB_CHART:-}" ]; then args+=(--chart-archive "$JUPYTERHUB_CHART"); fi

echo "demo: rendering examples/values.yaml with $("$helm_bin" version --short) through the post-renderer" >&2
HELM_BIN="$helm_bin" "${DEMO_PYTHON:-.venv/bin/python}" -m jhub_ck8s.cli "${args[@]}" > "$out/release.yaml"
for version in 1.32.0 1.33.0 1.34.0; do
  echo "demo: kubeconform -strict, Kubernetes $version" >&2
  .tools/bin/kubeconform -strict -summary -kubernetes-version "$version" \
    -schema-location "$(cat .tools/schemas/LOCATION)" "$out/release.yaml"
done
echo "demo: the admissible release is in $out/release.yaml, the JSON report in $out/report.json" >&2
