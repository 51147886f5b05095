#!/usr/bin/env bash
# Run the project's kubeconform against the offline schemas in .tools/schemas/.
#
# usage: tools/kubeconform.sh [kubeconform flags] FILE...
#   e.g. tools/kubeconform.sh -strict -summary -kubernetes-version 1.33.0 out.yaml
#
# Adds `-schema-location <.tools/schemas/LOCATION>`, and
# `-kubernetes-version 1.32.0` unless a -kubernetes-version is given
# (kubeconform's own default, "master", has no offline schemas).
# Installed versions: 1.32.0 1.33.0 1.34.0 (strict with -strict, else non-strict).
# JHUB_CK8S_TOOLS overrides the tools directory (default: <repo>/.tools).
set -euo pipefail

tools=${JHUB_CK8S_TOOLS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools}
location_file="$tools/schemas/LOCATION"
if [[ ! -x "$tools/bin/kubeconform" || ! -f "$location_file" ]]; then
    echo "tools/kubeconform.sh: kubeconform or its schemas are missing in $tools; run 'make setup'" >&2
    exit 2
fi

args=()
case " $* " in
    *" -kubernetes-version"* | *" --kubernetes-version"*) ;;
    *) args+=(-kubernetes-version 1.32.0) ;;
esac
exec "$tools/bin/kubeconform" -schema-location "$(<"$location_file")" "${args[@]}" "$@"
