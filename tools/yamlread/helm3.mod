// The Go YAML oracle as Helm 3 (v3.17.2) reads YAML: the versions in its build info.
// Used with `go build -modfile=helm3.mod` (go.sum twin: helm3.sum).
module jhub-ck8s.invalid/yamlread

go 1.23.0

require (
	k8s.io/apimachinery v0.32.2
	sigs.k8s.io/yaml v1.4.0
)

require sigs.k8s.io/json v0.0.0-20241010143419-9aa6b5e7a4b3 // indirect
