"""A STAND-IN for the upstream jupyterhub chart, built by the tests (the real one cannot be
downloaded here and is never committed).

It is not z2jh. It only reproduces what the wrapper chart and the post-renderer meet:
values flowing under ``jupyterhub:``, a ``Secret/hub`` whose ``values.yaml`` is the base64
of the merged values (with ``Chart`` and ``Release``, as z2jh's), a hub Deployment with
``checksum/secret``, a LoadBalancer Service, and a pre-install hook Job with a Docker Hub
short-name image.

Switched on only by values (its defaults render none of them), for the tests against a
real API server: the hub's pod annotations, labels, env and resources (``hub.annotations``,
``hub.labels``, ``hub.extraEnv`` as a list, ``hub.resources``; named as in z2jh), a ``ConfigMap/hub`` with
``hub.configMapData`` (stand-in only), the hub's PodDisruptionBudget (``hub.pdb``, as in
z2jh) and the user-scheduler's ServiceAccount, ClusterRole and ClusterRoleBinding
(``scheduling.userScheduler.enabled``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

CHART_YAML = """\
apiVersion: v2
name: jupyterhub
version: 4.4.0
appVersion: "5.5.0"
description: STAND-IN for tests only; not the real JupyterHub chart
"""

VALUES_YAML = """\
hub:
  image: {name: quay.io/jupyterhub/k8s-hub, tag: "4.4.0"}
proxy:
  service: {type: LoadBalancer}
singleuser:
  image: {name: quay.io/jupyterhub/k8s-singleuser-sample, tag: "4.4.0", pullSecrets: []}
  cloudMetadata: {blockWithIptables: true}
  networkTools:
    image: {name: quay.io/jupyterhub/k8s-network-tools, tag: "4.4.0"}
prePuller:
  hook: {enabled: true}
"""

SECRET = """\
kind: Secret
apiVersion: v1
metadata:
  name: hub
  labels: {component: hub}
type: Opaque
data:
  {{- /* as z2jh: the merged values plus a subset of Chart and Release */}}
  {{- $values := merge dict .Values }}
  {{- $_ := set $values "Chart" (dict "Name" .Chart.Name "Version" .Chart.Version "AppVersion" .Chart.AppVersion) }}
  {{- $_ := set $values "Release" (pick .Release "Name" "Namespace" "Service") }}
  values.yaml: {{ toYaml $values | b64enc | quote }}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hub
  labels: {component: hub}
spec:
  replicas: 1
  selector:
    matchLabels: {component: hub}
  template:
    metadata:
      labels:
        component: hub
        {{- with .Values.hub.labels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/secret: {{ include (print $.Template.BasePath "/hub/secret.yaml") . | sha256sum }}
        {{- with .Values.hub.annotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      containers:
        - name: hub
          image: {{ .Values.hub.image.name }}:{{ .Values.hub.image.tag }}
          {{- with .Values.hub.extraEnv }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.hub.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext:
            runAsUser: 1000
            allowPrivilegeEscalation: false
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: hub}
spec:
  podSelector:
    matchLabels: {component: hub}
  policyTypes: [Ingress]
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: proxy-public}
spec:
  type: {{ .Values.proxy.service.type }}
  selector: {component: hub}
  ports: [{name: http, port: 80, targetPort: 8000}]
"""

HOOK_JOB = """\
{{- if .Values.prePuller.hook.enabled }}
apiVersion: batch/v1
kind: Job
metadata:
  name: hook-image-awaiter
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
spec:
  template:
    metadata:
      labels: {component: image-puller}
    spec:
      restartPolicy: Never
      containers:
        - name: hook-image-awaiter
          image: traefik:v3.6.12
{{- end }}
"""

CONFIGMAP = """\
{{- with .Values.hub.configMapData }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: hub
  labels: {component: hub}
data:
  {{- toYaml . | nindent 2 }}
{{- end }}
"""

PDB = """\
{{- with .Values.hub.pdb }}
{{- if .enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: hub
  labels: {component: hub}
spec:
  {{- if not (typeIs "<nil>" .maxUnavailable) }}
  maxUnavailable: {{ .maxUnavailable }}
  {{- end }}
  {{- if not (typeIs "<nil>" .minAvailable) }}
  minAvailable: {{ .minAvailable }}
  {{- end }}
  selector:
    matchLabels: {component: hub}
{{- end }}
{{- end }}
"""

USER_SCHEDULER_RBAC = """\
{{- with .Values.scheduling }}
{{- if and .userScheduler .userScheduler.enabled }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: user-scheduler
  labels: {component: user-scheduler}
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: {{ $.Release.Name }}-user-scheduler
  labels: {component: user-scheduler}
rules:
  - apiGroups: [""]
    resources: [pods, nodes]
    verbs: [get, list, watch]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: {{ $.Release.Name }}-user-scheduler
  labels: {component: user-scheduler}
subjects:
  - kind: ServiceAccount
    name: user-scheduler
    namespace: {{ $.Release.Namespace }}
roleRef:
  kind: ClusterRole
  name: {{ $.Release.Name }}-user-scheduler
  apiGroup: rbac.authorization.k8s.io
{{- end }}
{{- end }}
"""

def build_standin_chart(where: Path) -> Path:
    """Write the stand-in chart's folder under ``where`` and return it."""
    chart = where / "jupyterhub"
    (chart / "templates" / "hub").mkdir(parents=True)
    (chart / "templates" / "proxy").mkdir()
    (chart / "templates" / "image-puller").mkdir()
    (chart / "templates" / "scheduling").mkdir()
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES_YAML)
    (chart / "templates" / "hub" / "secret.yaml").write_text(SECRET)
    (chart / "templates" / "hub" / "deployment.yaml").write_text(DEPLOYMENT)
    (chart / "templates" / "proxy" / "service.yaml").write_text(SERVICE)
    (chart / "templates" / "image-puller" / "job.yaml").write_text(HOOK_JOB)
    (chart / "templates" / "hub" / "configmap.yaml").write_text(CONFIGMAP)
    (chart / "templates" / "hub" / "pdb.yaml").write_text(PDB)
    (chart / "templates" / "scheduling" / "user-scheduler.yaml").write_text(USER_SCHEDULER_RBAC)
    return chart


def package_standin_chart(helm: str, where: Path, env: dict[str, str]) -> Path:
    """``helm package`` the stand-in into ``where/jupyterhub-4.4.0.tgz``."""
    chart = build_standin_chart(where / "src")
    subprocess.run([helm, "package", str(chart), "-d", str(where)], env=env, check=True, capture_output=True)
    return where / "jupyterhub-4.4.0.tgz"
