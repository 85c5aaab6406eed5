{{/* Names and labels shared by every Edvent chart. */}}

{{- define "edvent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release name when it already names the chart (`helm install identity ./identity`). */}}
{{- define "edvent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "edvent.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "edvent.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "edvent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "edvent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "edvent.labels" -}}
{{ include "edvent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: edvent
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "edvent.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The Secret the pods read: an existing one by name, or the chart's own. */}}
{{- define "edvent.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "edvent.fullname" .) -}}
{{- end -}}

{{- define "edvent.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsUser }}
fsGroup: {{ .Values.securityContext.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "edvent.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* PodDisruptionBudget and HorizontalPodAutoscaler, the same for every chart. */}}
{{- define "edvent.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "edvent.fullname" . }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
spec:
  {{- if .Values.podDisruptionBudget.maxUnavailable }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  {{- else }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "edvent.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
{{- end }}
{{- end -}}

{{- define "edvent.hpa" -}}
{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "edvent.fullname" . }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "edvent.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end -}}

{{/* One NetworkPolicy rule list: named entries (a map, so values files can change one). */}}
{{- define "edvent.egressRules" -}}
{{- if .Values.networkPolicy.allowDNS }}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
{{- range $name, $rule := .Values.networkPolicy.egress }}
{{- if $rule }}
# {{ $name }}
- to:
    {{- toYaml $rule.to | nindent 4 }}
  ports:
    {{- toYaml $rule.ports | nindent 4 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A value as an environment/config string: whole numbers from YAML (floats to
     Helm) keep their digits instead of becoming 2e+06. */}}
{{- define "edvent.string" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* OpenTelemetry's standard variables from `.Values.otel`: none while no endpoint is
set (the service then exports nothing). `env` entries come after and win. */}}
{{- define "edvent.otelEnv" -}}
{{- $otel := .Values.otel | default dict -}}
{{- if $otel.endpoint -}}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ $otel.serviceName | default .Chart.Name | quote }}
{{- with $otel.sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ . | quote }}
{{- end }}
{{- if and $otel.sampler (ne (toString $otel.samplerArg) "") }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ include "edvent.string" $otel.samplerArg | quote }}
{{- end }}
{{- with $otel.resourceAttributes }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ . | quote }}
{{- end }}
{{- else -}}
[]
{{- end -}}
{{- end -}}
