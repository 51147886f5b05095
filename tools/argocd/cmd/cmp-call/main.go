// cmp-call asks a running argocd-cmp-server for an application's manifests the way
// Argo CD's repo server does (reposerver/repository: runConfigManagementPluginSidecars,
// getPluginEnvs and generateManifestsCMP), with Argo CD's own code for each step:
//
//  1. the environment: the Application's entries (ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE,
//     ...), KUBE_VERSION and KUBE_API_VERSIONS, then each plugin env entry as
//     ARGOCD_ENV_<NAME>, with $VAR substituted from the former (v1alpha1.Env.Envsubst);
//  2. discovery: util/app/discovery.DetectConfigManagementPlugin over the sockets in
//     $ARGOCD_PLUGINSOCKFILEPATH (MatchRepository, i.e. the plugin's `discover` rule), or
//     the named plugin's socket with --plugin;
//  3. CheckPluginConfiguration, then GenerateManifest with util/cmp.SendRepoStream (the
//     repository as a tar stream, the environment in its metadata) and CloseAndRecv.
//
// Output on stdout: {"manifests": [<object JSON>, ...], "hooks": [{"kind", "name", "types",
// "deletePolicies", "weight"}, ...]}, where hooks are the objects Argo CD's sync treats as its
// own hooks (gitops-engine's pkg/sync/hook: Argo CD hook annotations, or Helm's mapped to
// them), classified by that same code. On failure, the error of the
// step that failed on stderr (as the repo server would report it) and exit status 1.
// Used by tests/test_gitops_cmp.py; not part of what is shipped.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	"google.golang.org/protobuf/types/known/emptypb"
	k8sversion "k8s.io/apimachinery/pkg/util/version"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	synchook "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/sync/hook"
	helmhook "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/sync/hook/helm"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
	"github.com/argoproj/argo-cd/v3/util/cmp"
	utilio "github.com/argoproj/argo-cd/v3/util/io"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var (
		repoPath, appDir, plugin, appName, appNamespace, project string
		revision, repoURL, kubeVersion, apiVersions              string
		pluginEnv                                                multi
		timeout                                                  time.Duration
	)
	flag.StringVar(&repoPath, "repo", "", "the repository's root (sent to the plugin as a tar stream)")
	flag.StringVar(&appDir, "path", ".", "the Application's source path, relative to --repo")
	flag.StringVar(&plugin, "plugin", "", "spec.source.plugin.name (<name>-<version>); empty: discover")
	flag.StringVar(&appName, "app-name", "", "the Application's name (ARGOCD_APP_NAME)")
	flag.StringVar(&appNamespace, "app-namespace", "", "the destination namespace (ARGOCD_APP_NAMESPACE)")
	flag.StringVar(&project, "project", "default", "ARGOCD_APP_PROJECT_NAME")
	flag.StringVar(&revision, "revision", "0123456789abcdef0123456789abcdef01234567", "ARGOCD_APP_REVISION")
	flag.StringVar(&repoURL, "repo-url", "https://git.example.invalid/team/jhub.git", "ARGOCD_APP_SOURCE_REPO_URL")
	flag.StringVar(&kubeVersion, "kube-version", "", "the destination cluster's version (KUBE_VERSION)")
	flag.StringVar(&apiVersions, "api-versions", "", "comma-separated API versions (KUBE_API_VERSIONS)")
	flag.Var(&pluginEnv, "plugin-env", "spec.source.plugin.env entry NAME=VALUE (repeatable)")
	flag.DurationVar(&timeout, "timeout", 120*time.Second, "give up after")
	flag.Parse()
	if repoPath == "" {
		fail("--repo is required")
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	env, err := pluginEnvs(appName, appNamespace, project, revision, repoURL, appDir, kubeVersion, apiVersions, pluginEnv)
	if err != nil {
		fail(err.Error())
	}
	appPath := repoPath + "/" + appDir

	conn, client, err := discovery.DetectConfigManagementPlugin(ctx, appPath, repoPath, plugin, env, nil)
	if err != nil {
		fail(err.Error())
	}
	defer utilio.Close(conn)

	if _, err := client.CheckPluginConfiguration(ctx, &emptypb.Empty{}); err != nil {
		fail(fmt.Sprintf("error calling cmp-server checkPluginConfiguration: %v", err))
	}
	stream, err := client.GenerateManifest(ctx, grpc_retry.Disable())
	if err != nil {
		fail(fmt.Sprintf("error getting generateManifestStream: %v", err))
	}
	if err := cmp.SendRepoStream(ctx, appPath, repoPath, stream, env, nil); err != nil {
		fail(fmt.Sprintf("error sending file to cmp-server: %v", err))
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		fail(fmt.Sprintf("plugin sidecar failed. %v", err))
	}
	objects := make([]json.RawMessage, 0, len(resp.Manifests))
	hooks := []map[string]any{}
	for _, m := range resp.Manifests {
		objects = append(objects, json.RawMessage(m))
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON([]byte(m)); err != nil {
			fail(fmt.Sprintf("a manifest is not a Kubernetes object: %v", err))
		}
		if synchook.IsHook(obj) {
			hooks = append(hooks, map[string]any{
				"kind": obj.GetKind(), "name": obj.GetName(), "types": synchook.Types(obj),
				"deletePolicies": synchook.DeletePolicies(obj), "weight": helmhook.Weight(obj),
			})
		}
	}
	out, err := json.Marshal(map[string]any{"manifests": objects, "hooks": hooks})
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(out))
}

// pluginEnvs is the environment the repo server gives a plugin (newEnv + getPluginEnvs +
// getPluginParamEnvs in reposerver/repository/repository.go).
func pluginEnvs(appName, appNamespace, project, revision, repoURL, appDir, kubeVersion, apiVersions string, pluginEnv []string) ([]string, error) {
	short := func(n int) string {
		if len(revision) > n {
			return revision[:n]
		}
		return revision
	}
	base := v1alpha1.Env{
		{Name: "ARGOCD_APP_NAME", Value: appName},
		{Name: "ARGOCD_APP_NAMESPACE", Value: appNamespace},
		{Name: "ARGOCD_APP_PROJECT_NAME", Value: project},
		{Name: "ARGOCD_APP_REVISION", Value: revision},
		{Name: "ARGOCD_APP_REVISION_SHORT", Value: short(7)},
		{Name: "ARGOCD_APP_REVISION_SHORT_8", Value: short(8)},
		{Name: "ARGOCD_APP_SOURCE_REPO_URL", Value: repoURL},
		{Name: "ARGOCD_APP_SOURCE_PATH", Value: appDir},
		{Name: "ARGOCD_APP_SOURCE_TARGET_REVISION", Value: "HEAD"},
	}
	kv := ""
	if kubeVersion != "" {
		v, err := k8sversion.ParseGeneric(kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("could not parse kubernetes version %s: %w", kubeVersion, err)
		}
		kv = v.String()
	}
	env := append(base.Environ(), "KUBE_VERSION="+kv, "KUBE_API_VERSIONS="+apiVersions)

	parsed := make(v1alpha1.Env, len(env))
	for i, v := range env {
		e, err := v1alpha1.NewEnvEntry(v)
		if err != nil {
			return nil, fmt.Errorf("failed to parse env vars")
		}
		parsed[i] = e
	}
	for _, entry := range pluginEnv {
		name, value, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("--plugin-env %q is not NAME=VALUE", entry)
		}
		env = append(env, fmt.Sprintf("ARGOCD_ENV_%s=%s", name, parsed.Envsubst(value)))
	}
	return env, nil
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
