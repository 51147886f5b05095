// argocd-cmp-server, Argo CD's Config Management Plugin server, exactly as Argo CD
// builds it (cmd/main.go dispatches to this command when invoked as argocd-cmp-server).
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
