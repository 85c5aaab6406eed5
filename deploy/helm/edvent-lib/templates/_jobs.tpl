{{/*
The migration runs as a pre-install/pre-upgrade hook: Helm waits for it before it
touches the Deployment, and a failed migration stops the upgrade with the old pods
still serving. Hooks run before the release's own ConfigMap and Secret exist, so the
Job gets hook copies of both (or reads the existing Secret directly).
*/}}
{{- define "edvent.hookPod" -}}
{{- $fullname := include "edvent.fullname" . -}}
{{- $hookSecret := .Values.secrets.existingSecret | default (printf "%s-hook" $fullname) -}}
restartPolicy: Never
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "edvent.podSecurityContext" . | nindent 2 }}
containers:
  - name: {{ .jobName }}
    image: {{ include "edvent.image" . | quote }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      {{- toYaml .jobArgs | nindent 6 }}
    envFrom:
      - configMapRef:
          name: {{ $fullname }}-hook
      - secretRef:
          name: {{ $hookSecret }}
    {{- with .Values.env }}
    env:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    resources:
      {{- toYaml .Values.migration.resources | nindent 6 }}
    securityContext:
      {{- include "edvent.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}

{{- define "edvent.hookConfig" -}}
{{- $fullname := include "edvent.fullname" . -}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $fullname }}-hook
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
data:
  {{- range $key, $value := .Values.config }}
  {{ $key }}: {{ include "edvent.string" $value | quote }}
  {{- end }}
{{- if not .Values.secrets.existingSecret }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ $fullname }}-hook
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
type: Opaque
stringData:
  {{- range $key, $value := .Values.secrets.values }}
  {{ $key }}: {{ include "edvent.string" $value | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "edvent.hookJob" -}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "edvent.fullname" . }}-{{ .jobName }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
    app.kubernetes.io/component: {{ .jobName }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: {{ .jobWeight | quote }}
    # Kept when it fails, so `kubectl logs job/...` shows why.
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .Values.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "edvent.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: {{ .jobName }}
    spec:
      {{- include "edvent.hookPod" . | nindent 6 }}
{{- end -}}

{{- define "edvent.migrationJob" -}}
{{- if or .Values.migration.enabled (eq .Values.kafka.topicsBy "job") }}
{{- include "edvent.hookConfig" . }}
{{- end }}
{{- if .Values.migration.enabled }}
{{- $ctx := merge (dict "jobName" "migrate" "jobWeight" 0 "jobArgs" (list .Values.command "migrate")) . }}
{{ include "edvent.hookJob" $ctx }}
{{- end }}
{{- end -}}

{{/*
The service's Kafka topics: declared as Strimzi KafkaTopic resources, or created by
a hook Job with the service's own image (edvent_events.admin.ensure_topics: creates
missing topics, leaves existing ones alone), or left to whoever runs Kafka ("none").
*/}}
{{- define "edvent.topicList" -}}
{{- $topics := list -}}
{{- range .Values.kafka.topics }}
{{- $topics = append $topics . }}
{{- end }}
{{- /* What the consumer would create itself: per consumed topic a dead-letter topic
       (room for the original message plus our headers) and a redrive topic. */}}
{{- range .Values.kafka.consumes }}
{{- $topics = append $topics (dict "name" (printf "%s.dlq.%s" . $.Chart.Name) "config" (dict "max.message.bytes" $.Values.kafka.dlqMaxMessageBytes)) }}
{{- $topics = append $topics (dict "name" (printf "%s.retry.%s" . $.Chart.Name)) }}
{{- end }}
{{- toJson $topics }}
{{- end -}}

{{- define "edvent.topics" -}}
{{- $topics := include "edvent.topicList" . | fromJsonArray -}}
{{- if eq .Values.kafka.topicsBy "strimzi" }}
{{- range $topics }}
---
apiVersion: {{ $.Values.kafka.strimzi.apiVersion }}
kind: KafkaTopic
metadata:
  # Kubernetes names allow no dots or underscores; spec.topicName keeps the real one.
  name: {{ .name | replace "." "-" | replace "_" "-" | lower | trunc 63 | trimSuffix "-" }}
  namespace: {{ $.Values.kafka.strimzi.namespace | default $.Release.Namespace }}
  labels:
    {{- include "edvent.labels" $ | nindent 4 }}
    strimzi.io/cluster: {{ required "kafka.strimzi.cluster is required" $.Values.kafka.strimzi.cluster }}
  annotations:
    # Topics hold other teams' data: uninstalling the service must not delete them.
    helm.sh/resource-policy: keep
spec:
  topicName: {{ .name }}
  partitions: {{ .partitions | default $.Values.kafka.partitions }}
  replicas: {{ .replicas | default $.Values.kafka.replicas }}
  {{- with (merge (dict) (.config | default dict) $.Values.kafka.topicConfig) }}
  config:
    {{- range $key, $value := . }}
    {{ $key }}: {{ include "edvent.string" $value | quote }}
    {{- end }}
  {{- end }}
{{- end }}
{{- else if eq .Values.kafka.topicsBy "job" }}
{{- $spec := list -}}
{{- range $topics }}
{{- $spec = append $spec (dict "name" .name "partitions" (.partitions | default $.Values.kafka.partitions) "replicas" (.replicas | default $.Values.kafka.replicas) "config" (merge (dict) (.config | default dict) $.Values.kafka.topicConfig)) }}
{{- end }}
{{- $script := printf "import asyncio, json, os\nfrom edvent_events.admin import ensure_topics\nasync def main():\n    for t in json.loads(os.environ['EDVENT_TOPICS']):\n        await ensure_topics(os.environ['%sKAFKA_BOOTSTRAP_SERVERS'], [t['name']], partitions=t['partitions'], replication=t['replicas'], configs={k: str(v) for k, v in t['config'].items()})\nasyncio.run(main())\n" .Values.envPrefix }}
{{- $ctx := merge (dict "jobName" "topics" "jobWeight" -5 "jobArgs" (list "python" "-c" $script)) . }}
{{- $ctx = merge (dict "Values" (merge (dict "env" (concat (.Values.env | default list) (list (dict "name" "EDVENT_TOPICS" "value" (toJson $spec))))) .Values)) $ctx }}
{{ include "edvent.hookJob" $ctx }}
{{- else if ne .Values.kafka.topicsBy "none" }}
{{- fail "kafka.topicsBy must be strimzi, job or none" }}
{{- end }}
{{- end -}}
