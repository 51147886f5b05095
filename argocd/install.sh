#!/usr/bin/env bash
# Install what the Argo CD plugin's `generate` needs into one folder: helm, the ck8s-jupyter
# Helm plugin (with `helm plugin install`, whose hook makes its private virtualenv), the
# upstream chart archive (renders are offline), and argocd/generate. The sidecar image
# (argocd/Containerfile) runs it, and so do the tests (tests/test_gitops_cmp.py): one script.
#
# usage: argocd/install.sh PREFIX HELM_BINARY CHART_ARCHIVE
#   e.g. argocd/install.sh /opt/ck8s-jupyter /usr/local/bin/helm jupyterhub-4.4.0.tgz
# Then run argocd-cmp-server with JHUB_CK8S_HOME=PREFIX (the image's default).
# Offline: PIP_NO_INDEX=1 PIP_FIND_LINKS=<wheels of requirements-plugin.txt> (bin/install-plugin).
set -euo pipefail
prefix=$1 helm_binary=$2 archive=$3
source="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
fail() { echo "argocd/install.sh: $*" >&2; exit 1; }

[[ -x "$helm_binary" ]] || fail "$helm_binary is not an executable helm"
[[ -f "$archive" ]] || fail "$archive: no such chart archive (jupyterhub-4.4.0.tgz)"
major=$("$helm_binary" version --template '{{.Version}}' | sed 's/^v\([0-9]*\).*/\1/')

mkdir -p "$prefix/bin" "$prefix/charts" "$prefix/argocd" "$prefix/helm/data/plugins" "$prefix/helm/config"
install -m 0755 "$helm_binary" "$prefix/bin/helm"
install -m 0644 "$archive" "$prefix/charts/jupyterhub-4.4.0.tgz"
install -m 0755 "$source/argocd/generate" "$prefix/argocd/generate"
install -m 0644 "$source/argocd/plugin.yaml" "$prefix/argocd/plugin.yaml"

# The plugin's files, copied (helm plugin install links a local folder, so it must stay).
rm -rf "$prefix/src"
mkdir -p "$prefix/src"
tar -C "$source" --exclude=__pycache__ --exclude='*.pyc' -cf - \
    plugin.yaml bin jhub_ck8s transforms wrapper-chart helm-postrenderer postrender.py \
    requirements-plugin.txt requirements-plugin-check.txt pyproject.toml \
    | tar -C "$prefix/src" -xf -

export HELM_DATA_HOME="$prefix/helm/data" HELM_CONFIG_HOME="$prefix/helm/config"
export HELM_PLUGINS="$prefix/helm/data/plugins"
export HELM_CACHE_HOME="${TMPDIR:-/tmp}/ck8s-jupyter-helm-cache"
# `check` (which audits spawned user pods with KubeSpawner) is not run by the plugin server
export JHUB_CK8S_PLUGIN_CHECK_EXTRAS=0
"$prefix/bin/helm" plugin uninstall ck8s-jupyter >/dev/null 2>&1 || true
"$prefix/bin/helm" plugin install "$prefix/src"
version=$("$prefix/bin/helm" ck8s-jupyter --version)
echo "argocd/install.sh: installed helm $("$prefix/bin/helm" version --short) (Helm $major), $version and the chart archive in $prefix"
