{{- define "bench.autoHTTPS" -}}
{{- if and .Values.proxy.https.enabled (eq .Values.proxy.https.type "letsencrypt") }}true{{ end }}
{{- end }}

{{- /*
  Traefik's static configuration (traefik.yaml), merged with extraStaticConfig. Like
  upstream, the merge writes into .Values (no deepCopy), so Secret/hub's values.yaml
  carries both traefik configurations, as in a real render.
*/}}
{{- define "bench.traefikStatic" -}}
{{- $config := dict
  "entryPoints" (dict
    "http" (dict "address" ":8080")
    "https" (dict "address" ":8443" "transport" (dict "respondingTimeouts" (dict "idleTimeout" "10m0s"))))
  "log" (dict "level" "WARN")
  "accessLog" (dict
    "filters" (dict "statusCodes" (list "500-599"))
    "fields" (dict "headers" (dict "names" (dict "Authorization" "redacted" "Cookie" "redacted" "Set-Cookie" "redacted" "X-Xsrftoken" "redacted"))))
  "providers" (dict "file" (dict "filename" "/etc/traefik/dynamic.yaml"))
  "certificatesResolvers" (dict "default" (dict "acme" (dict
    "caServer" .Values.proxy.https.letsencrypt.acmeServer
    "email" .Values.proxy.https.letsencrypt.contactEmail
    "httpChallenge" (dict "entryPoint" "http")
    "storage" "/etc/acme/acme.json")))
}}
{{- merge .Values.proxy.traefik.extraStaticConfig $config | toYaml }}
{{- end }}

{{- /* Traefik's dynamic configuration (dynamic.yaml), merged with extraDynamicConfig (into .Values, as above). */}}
{{- define "bench.traefikDynamic" -}}
{{- $hsts := .Values.proxy.traefik.hsts }}
{{- $domains := list }}
{{- range .Values.proxy.https.hosts }}{{ $domains = append $domains (dict "main" .) }}{{ end }}
{{- $ciphers := list "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" }}
{{- $config := dict
  "http" (dict
    "routers" (dict
      "default" (dict "entrypoints" (list "https") "middlewares" (list "hsts" "scheme") "rule" "PathPrefix(`/`)" "service" "default"
        "tls" (dict "certResolver" "default" "domains" $domains "options" "default"))
      "insecure" (dict "entrypoints" (list "http") "middlewares" (list "redirect") "rule" "PathPrefix(`/`)" "service" "default"))
    "services" (dict "default" (dict "loadBalancer" (dict "servers" (list (dict "url" "http://proxy-http:8000/")))))
    "middlewares" (dict
      "hsts" (dict "headers" (dict "stsIncludeSubdomains" $hsts.includeSubdomains "stsPreload" $hsts.preload "stsSeconds" $hsts.maxAge))
      "redirect" (dict "redirectScheme" (dict "permanent" true "scheme" "https"))
      "scheme" (dict "headers" (dict "customRequestHeaders" (dict "X-Scheme" "https")))))
  "tls" (dict "options" (dict "default" (dict "minVersion" "VersionTLS12" "sniStrict" true "cipherSuites" $ciphers)))
}}
{{- merge .Values.proxy.traefik.extraDynamicConfig $config | toYaml }}
{{- end }}
