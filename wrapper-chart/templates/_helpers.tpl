{{/*
The post-renderer setting keys, in the order of jhub_ck8s.settings.SETTING_KEYS.
Only these keys of .Values.ck8s are rendered into the PostRenderSettings document:
anything else under ck8s (pullSecretCredentials) belongs to this chart, and the
post-renderer rejects keys it does not know.
*/}}
{{- define "jupyterhub-ck8s.settingKeys" -}}
registry registryMap keepImages pullSecret mode disable allow resources resourceOverrides userResources loadBalancer clusterScoped minimumReplicasAnnotation networkPolicy patches report pin gitops
{{- end }}

{{- define "jupyterhub-ck8s.labels" -}}
app.kubernetes.io/name: jupyterhub-ck8s
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end }}

{{/*
The registry host the pull secret authenticates against: pullSecretCredentials.registry,
else the host part of ck8s.registry. A scheme and any path are removed.
*/}}
{{- define "jupyterhub-ck8s.pullSecretRegistry" -}}
{{- $creds := .Values.ck8s.pullSecretCredentials -}}
{{- $registry := $creds.registry | default .Values.ck8s.registry | default "" -}}
{{- $registry = regexReplaceAll "^[a-zA-Z][a-zA-Z0-9+.-]*://" $registry "" -}}
{{- $host := splitList "/" $registry | first -}}
{{- required "ck8s.pullSecretCredentials.create is true: set ck8s.pullSecretCredentials.registry (your Harbor host) or ck8s.registry" $host -}}
{{- end }}
