{{- /*
  Helpers of the benchmark chart. Labels, selectors, scheduling and security contexts are
  laid out the way the upstream chart lays them out, so the post-renderer's selector
  matching (NetworkPolicy, PodDisruptionBudget) and pod-spec walks meet the real shapes.
*/}}

{{- /* Labels of every object: dict with "root" and "component". */}}
{{- define "bench.labels" -}}
component: {{ .component }}
app.kubernetes.io/component: {{ .component }}
{{ include "bench.commonLabels" .root }}
chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
heritage: {{ .root.Release.Service }}
{{ include "bench.nameLabels" .root }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "bench.commonLabels" -}}
app: {{ .Chart.Name | quote }}
release: {{ .Release.Name | quote }}
{{- end }}

{{- define "bench.nameLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- /* Selector of a component's pods: dict with "root" and "component". */}}
{{- define "bench.matchLabels" -}}
component: {{ .component }}
{{ include "bench.commonLabels" .root }}
{{- end }}

{{- /* Labels of a component's pod template: dict with "root" and "component". */}}
{{- define "bench.podLabels" -}}
component: {{ .component }}
app.kubernetes.io/component: {{ .component }}
{{ include "bench.commonLabels" .root }}
{{ include "bench.nameLabels" .root }}
{{- end }}

{{- /* The labels and annotations of a pre-install hook: dict with "root", "component", "weight". */}}
{{- define "bench.hookMetadata" -}}
labels:
  {{- include "bench.labels" . | nindent 2 }}
  hub.jupyter.org/deletable: "true"
annotations:
  "helm.sh/hook": pre-install,pre-upgrade
  "helm.sh/hook-delete-policy": before-hook-creation,hook-succeeded
  "helm.sh/hook-weight": {{ .weight | quote }}
{{- end }}

{{- /* An image reference from {name, tag}. */}}
{{- define "bench.image" -}}
{{ .name }}{{ if .tag }}:{{ .tag }}{{ end }}
{{- end }}

{{- /* imagePullSecrets of a pod spec: the global list plus the image's own. */}}
{{- define "bench.imagePullSecrets" -}}
{{- $secrets := concat (.root.Values.imagePullSecrets | default list) (.image.pullSecrets | default list) | uniq }}
{{- if $secrets }}
imagePullSecrets:
  {{- range $secrets }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{- /* Tolerations of core or user pods: dict with "root", "kind" (core|user), "extra". */}}
{{- define "bench.tolerations" -}}
{{- $tolerations := ternary .root.Values.scheduling.corePods.tolerations .root.Values.scheduling.userPods.tolerations (eq .kind "core") }}
{{- $all := concat $tolerations (.extra | default list) }}
{{- if $all }}
tolerations:
  {{- toYaml $all | nindent 2 }}
{{- end }}
{{- end }}

{{- /* Node affinity towards core or user nodes: dict with "root", "kind". */}}
{{- define "bench.affinity" -}}
{{- $purpose := ternary .root.Values.scheduling.corePods.nodeAffinity.matchNodePurpose .root.Values.scheduling.userPods.nodeAffinity.matchNodePurpose (eq .kind "core") }}
{{- if eq $purpose "prefer" }}
affinity:
  nodeAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          matchExpressions:
            - key: hub.jupyter.org/node-purpose
              operator: In
              values: [{{ .kind }}]
{{- else if eq $purpose "require" }}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions:
            - key: hub.jupyter.org/node-purpose
              operator: In
              values: [{{ .kind }}]
{{- end }}
{{- end }}

{{- define "bench.priorityClassName" -}}
{{- if .Values.scheduling.podPriority.enabled }}
priorityClassName: {{ .Release.Name }}-default-priority
{{- end }}
{{- end }}

{{- /* securityContext and resources of a container, when set. */}}
{{- define "bench.containerExtras" -}}
{{- with .resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- /* Every image a user server may run: what the image pullers pull. */}}
{{- define "bench.userImages" -}}
{{- $images := list }}
{{- if .Values.singleuser.cloudMetadata.blockWithIptables }}
{{- $images = append $images (dict "name" "image-pull-metadata-block" "image" (include "bench.image" .Values.singleuser.networkTools.image)) }}
{{- end }}
{{- $images = append $images (dict "name" "image-pull-singleuser" "image" (include "bench.image" .Values.singleuser.image)) }}
{{- range $i, $c := concat .Values.singleuser.initContainers .Values.singleuser.extraContainers }}
{{- $images = append $images (dict "name" (printf "image-pull-singleuser-init-and-extra-containers-%d" $i) "image" $c.image) }}
{{- end }}
{{- if .Values.prePuller.pullProfileListImages }}
{{- range $i, $p := .Values.singleuser.profileList }}
{{- with $p.kubespawner_override }}{{ with .image }}
{{- $images = append $images (dict "name" (printf "image-pull-singleuser-profilelist-%d" $i) "image" .) }}
{{- end }}{{ end }}
{{- end }}
{{- end }}
{{- range $name, $image := .Values.prePuller.extraImages }}
{{- $images = append $images (dict "name" (printf "image-pull-%s" $name) "image" (include "bench.image" $image)) }}
{{- end }}
{{- toJson $images }}
{{- end }}

{{- /* The spec of an image-puller DaemonSet: dict with "root", "component", "serviceAccount". */}}
{{- define "bench.imagePullerSpec" -}}
{{- $root := .root }}
selector:
  matchLabels:
    {{- include "bench.matchLabels" . | nindent 4 }}
updateStrategy:
  type: RollingUpdate
  rollingUpdate:
    maxUnavailable: 100%
{{- with $root.Values.prePuller.revisionHistoryLimit }}
revisionHistoryLimit: {{ . }}
{{- end }}
template:
  metadata:
    labels:
      {{- include "bench.podLabels" . | nindent 6 }}
      {{- with $root.Values.prePuller.labels }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with $root.Values.prePuller.annotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  spec:
    {{- if $root.Values.scheduling.podPriority.enabled }}
    priorityClassName: {{ $root.Release.Name }}-image-puller-priority
    {{- end }}
    {{- include "bench.tolerations" (dict "root" $root "kind" "user" "extra" $root.Values.prePuller.extraTolerations) | nindent 4 }}
    terminationGracePeriodSeconds: 0
    serviceAccountName: {{ .serviceAccount }}
    automountServiceAccountToken: false
    {{- include "bench.imagePullSecrets" (dict "root" $root "image" $root.Values.singleuser.image) | nindent 4 }}
    initContainers:
      {{- range include "bench.userImages" $root | fromJsonArray }}
      - name: {{ .name }}
        image: {{ .image }}
        command:
          - /bin/sh
          - -c
          - echo "Pulling complete"
        {{- include "bench.containerExtras" (dict "resources" $root.Values.prePuller.resources "securityContext" $root.Values.prePuller.containerSecurityContext) | nindent 8 }}
      {{- end }}
    containers:
      - name: pause
        image: {{ include "bench.image" $root.Values.prePuller.pause.image }}
        {{- include "bench.containerExtras" (dict "resources" $root.Values.prePuller.resources "securityContext" $root.Values.prePuller.pause.containerSecurityContext) | nindent 8 }}
{{- end }}

{{- /*
  A NetworkPolicy of one component: dict with "root", "name", "component" (selected pods),
  "config" (the component's networkPolicy values), "ingress" and "egress" (the component's
  own rules, YAML text). The egressAllowRules blocks are the same for every component.
*/}}
{{- define "bench.netpol" -}}
{{- $root := .root }}
{{- $np := .config }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  labels:
    {{- include "bench.labels" (dict "root" $root "component" .name) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "bench.matchLabels" (dict "root" $root "component" .component) | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress

  # NOTE: the "from" rules of ingress and the "to" rules of egress need close
  # attention to detail. In short:
  #
  # 1. A "from"/"to" rule can give access to all ports or to a subset of the ports,
  #    listed in the rule's "ports".
  # 2. A "from"/"to" rule can list any number of sources/destinations, each of one
  #    of four kinds:
  #    - podSelector                        - pods with a label, in the namespace of the NetworkPolicy itself
  #    - namespaceSelector                  - every pod in any namespace that has a label
  #    - namespaceSelector and podSelector  - pods with a label, in namespaces that have a label
  #    - ipBlock                            - traffic from or to a set of IP address ranges (CIDR)
  #
  # More in the Kubernetes documentation: https://kubernetes.io/docs/concepts/services-networking/network-policies/
  #
  ingress:
    {{- with $np.allowedIngressPorts }}
    # traffic to these ports is allowed from any source
    - ports:
      {{- range . }}
      - port: {{ . }}
      {{- end }}
    {{- end }}
    {{- .ingress | nindent 4 }}
    {{- with $np.ingress }}
    # the chart user's own ingress rules
    {{- toYaml . | nindent 4 }}
    {{- end }}

  egress:
    {{- .egress | nindent 4 }}
    {{- $rules := $np.egressAllowRules }}
    {{- if or $rules.dnsPortsCloudMetadataServer $rules.dnsPortsKubeSystemNamespace $rules.dnsPortsPrivateIPs }}
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
      to:
        {{- if $rules.dnsPortsCloudMetadataServer }}
        # DNS on the cloud metadata server
        - ipBlock:
            cidr: {{ $root.Values.singleuser.cloudMetadata.ip }}/32
        {{- end }}
        {{- if $rules.dnsPortsKubeSystemNamespace }}
        # DNS on pods in the kube-system namespace
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
        {{- end }}
        {{- if $rules.dnsPortsPrivateIPs }}
        # DNS on destinations in the private IP ranges
        - ipBlock:
            cidr: 10.0.0.0/8
        - ipBlock:
            cidr: 172.16.0.0/12
        - ipBlock:
            cidr: 192.168.0.0/16
        {{- end }}
    {{- end }}
    {{- if $rules.nonPrivateIPs }}
    # every non-private IP range
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except:
              # as part of this rule, not the private IP ranges
              - 10.0.0.0/8
              - 172.16.0.0/12
              - 192.168.0.0/16
              # and not the cloud metadata server
              - {{ $root.Values.singleuser.cloudMetadata.ip }}/32
    {{- end }}
    {{- if $rules.privateIPs }}
    # the private IP ranges
    - to:
        - ipBlock:
            cidr: 10.0.0.0/8
        - ipBlock:
            cidr: 172.16.0.0/12
        - ipBlock:
            cidr: 192.168.0.0/16
    {{- end }}
    {{- if $rules.cloudMetadataServer }}
    # the cloud metadata server
    - to:
        - ipBlock:
            cidr: {{ $root.Values.singleuser.cloudMetadata.ip }}/32
    {{- end }}
    {{- with $np.egress }}
    # the chart user's own egress rules
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
