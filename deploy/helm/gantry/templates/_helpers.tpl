{{/* Names: <release> when it contains the chart's name, else <release>-gantry (63 characters at most). */}}
{{- define "gantry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gantry.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gantry.labels" -}}
{{ include "gantry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The PersistentVolumeClaim holds /data: one replica, persistence on (always so with SQLite). */}}
{{- define "gantry.persistent" -}}
{{- if and (eq (int .Values.replicas) 1) (or .Values.persistence.enabled (eq .Values.database.type "sqlite")) -}}true{{- end -}}
{{- end -}}

{{- define "gantry.claimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "gantry.fullname" .)) -}}
{{- end -}}

{{/* Every host the Ingress routes: portal, proxy, registry and the custom domains, once each. */}}
{{- define "gantry.ingressHosts" -}}
{{- $hosts := list .Values.hosts.portal .Values.hosts.proxy -}}
{{- if .Values.registry.enabled -}}{{- $hosts = append $hosts .Values.hosts.registry -}}{{- end -}}
{{- $hosts = concat $hosts .Values.ingress.customDomains -}}
{{- without ($hosts | uniq) "" | toJson -}}
{{- end -}}

{{/* GANTRY_TRUST_PROXY: as set, else one hop (the Ingress controller) when the Ingress is on. */}}
{{- define "gantry.trustProxy" -}}
{{- if .Values.trustProxy -}}{{ .Values.trustProxy }}{{- else if .Values.ingress.enabled -}}1{{- end -}}
{{- end -}}

{{/* The chart's refusals, each with what to change. */}}
{{- define "gantry.validate" -}}
{{- $replicas := int .Values.replicas -}}
{{- if and (gt $replicas 1) (ne .Values.database.type "postgresql") -}}
{{- fail (printf "replicas: %d needs PostgreSQL. The embedded SQLite database lives on one pod's /data volume and serves one replica only: set database.type=postgresql (DATABASE_URL in secrets.existingSecret), or replicas=1." $replicas) -}}
{{- end -}}
{{- if and (eq .Values.database.type "postgresql") (not .Values.secrets.existingSecret) -}}
{{- fail "database.type=postgresql needs secrets.existingSecret: a Secret with DATABASE_URL, AUTH_SECRET and GANTRY_KEKS, the same for every replica." -}}
{{- end -}}
{{- if and (gt $replicas 1) .Values.registry.enabled (not .Values.registry.backend) -}}
{{- fail (printf "replicas: %d with Gantry's own registry needs registry.backend: the embedded registry stores on one pod's /data. Run a distribution registry on shared storage (README, \"Gantry's own registry\") and set registry.backend and registry.tokenSecret, or registry.enabled=false." $replicas) -}}
{{- end -}}
{{- if and .Values.registry.enabled .Values.registry.backend (not .Values.registry.tokenSecret) -}}
{{- fail "registry.backend needs registry.tokenSecret: a kubernetes.io/tls Secret with the key Gantry signs the backend's tokens with and its certificate, which the backend trusts." -}}
{{- end -}}
{{- if and .Values.ingress.enabled (eq (len (include "gantry.ingressHosts" . | fromJsonArray)) 0) -}}
{{- fail "ingress.enabled needs host names: set hosts.portal, hosts.proxy and hosts.registry." -}}
{{- end -}}
{{- end -}}
