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
    {{- $env := concat (.Values.env | default list) (.jobEnv | default list) }}
    {{- with $env }}
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
      {{- include "edvent.kafkaCaMount" . | nindent 6 }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSizeLimit }}
  {{- include "edvent.kafkaCaVolume" . | nindent 2 }}
{{- end -}}

{{/* The CA of the brokers' certificates (SASL_SSL), for pods and hook Jobs alike. */}}
{{- define "edvent.kafkaCaMount" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/edvent/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "edvent.kafkaCaVolume" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: ca.crt
{{- end }}
{{- end -}}

{{/* The migrator's database URL: its own Secret, read by the migrate Job only. */}}
{{- define "edvent.migratorSecretName" -}}
{{- .Values.migration.existingSecret | default (printf "%s-migrator" (include "edvent.fullname" .)) -}}
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
{{- if not .Values.migration.existingSecret }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "edvent.migratorSecretName" . }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
type: Opaque
stringData:
  MIGRATOR_DATABASE_URL: {{ required "migration.databaseUrl (or migration.existingSecret) is required" .Values.migration.databaseUrl | quote }}
{{- end }}
{{- /* The schema's owner runs the migrations; the service's own URL (DML only) is
       replaced for this Job alone. */}}
{{- $dbEnv := list (dict "name" (printf "%sDATABASE_URL" .Values.envPrefix) "valueFrom" (dict "secretKeyRef" (dict "name" (include "edvent.migratorSecretName" .) "key" "MIGRATOR_DATABASE_URL"))) }}
{{- $ctx := merge (dict "jobName" "migrate" "jobWeight" 0 "jobArgs" (list .Values.command "migrate") "jobEnv" $dbEnv) . }}
{{ include "edvent.hookJob" $ctx }}
{{- end }}
{{- end -}}

{{/*
The service's Kafka principal and its ACLs (libs/events/src/edvent_events/acls.py):
a Strimzi KafkaUser (SCRAM-SHA-512, the password from the service's Secret), or a
hook Job running `edvent-events acls` as the admin, or nothing ("none").
*/}}
{{- define "edvent.kafkaAcls" -}}
{{- $acls := list -}}
{{- range .Values.kafka.topics }}
{{- $acls = append $acls (dict "resource" (dict "type" "topic" "name" .name "patternType" "literal") "operations" (list "Write" "Create" "Describe")) }}
{{- end }}
{{- range .Values.kafka.consumes }}
{{- $acls = append $acls (dict "resource" (dict "type" "topic" "name" . "patternType" "literal") "operations" (list "Read" "Describe")) }}
{{- $acls = append $acls (dict "resource" (dict "type" "topic" "name" (printf "%s.dlq.%s" . $.Chart.Name) "patternType" "literal") "operations" (list "Create" "Write" "Describe")) }}
{{- $acls = append $acls (dict "resource" (dict "type" "topic" "name" (printf "%s.retry.%s" . $.Chart.Name) "patternType" "literal") "operations" (list "Create" "Read" "Describe")) }}
{{- end }}
{{- $acls = append $acls (dict "resource" (dict "type" "group" "name" .Chart.Name "patternType" "prefix") "operations" (list "Read" "Describe")) }}
{{- toJson $acls }}
{{- end -}}

{{- define "edvent.kafkaUser" -}}
{{- $passwordKey := printf "%sKAFKA_PASSWORD" .Values.envPrefix -}}
{{- if eq .Values.kafka.usersBy "strimzi" }}
---
apiVersion: {{ .Values.kafka.strimzi.apiVersion }}
kind: KafkaUser
metadata:
  name: {{ .Chart.Name }}
  namespace: {{ .Values.kafka.strimzi.namespace | default .Release.Namespace }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
    strimzi.io/cluster: {{ required "kafka.strimzi.cluster is required" .Values.kafka.strimzi.cluster }}
spec:
  authentication:
    type: scram-sha-512
    password:
      valueFrom:
        secretKeyRef:
          # The User Operator reads it in the KafkaUser's namespace: with Strimzi in
          # another namespace, keep a copy of the password there (kafka.strimzi.passwordSecret).
          name: {{ .Values.kafka.strimzi.passwordSecret | default (include "edvent.secretName" .) }}
          key: {{ $passwordKey }}
  authorization:
    type: simple
    acls:
      {{- include "edvent.kafkaAcls" . | fromJsonArray | toYaml | nindent 6 }}
{{- else if eq .Values.kafka.usersBy "job" }}
{{- $hookSecret := .Values.secrets.existingSecret | default (printf "%s-hook" (include "edvent.fullname" .)) -}}
{{- $userVar := printf "KAFKA_USER_%s_PASSWORD" (.Chart.Name | upper | replace "-" "_") }}
{{- $env := list
      (dict "name" "KAFKA_USERNAME" "valueFrom" (dict "secretKeyRef" (dict "name" .Values.kafka.adminSecret "key" "KAFKA_USERNAME")))
      (dict "name" "KAFKA_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" .Values.kafka.adminSecret "key" "KAFKA_PASSWORD")))
      (dict "name" $userVar "valueFrom" (dict "secretKeyRef" (dict "name" $hookSecret "key" $passwordKey))) }}
{{- $p := .Values.envPrefix }}
{{- $args := list "edvent-events" "--bootstrap-servers" (printf "$(%sKAFKA_BOOTSTRAP_SERVERS)" $p) "--security-protocol" (printf "$(%sKAFKA_SECURITY_PROTOCOL)" $p) "--sasl-mechanism" (printf "$(%sKAFKA_SASL_MECHANISM)" $p) }}
{{- if .Values.kafka.tls.caSecret }}
{{- $args = concat $args (list "--ssl-cafile" "/etc/edvent/kafka-ca/ca.crt") }}
{{- end }}
{{- $args = concat $args (list "acls" "--users" .Chart.Name) }}
{{- if not (or .Values.migration.enabled (eq .Values.kafka.topicsBy "job")) }}
{{- include "edvent.hookConfig" . }}
{{- end }}
{{- $ctx := merge (dict "jobName" "kafka-user" "jobWeight" -8 "jobArgs" $args "jobEnv" $env) . }}
{{ include "edvent.hookJob" $ctx }}
{{- else if ne .Values.kafka.usersBy "none" }}
{{- fail "kafka.usersBy must be strimzi, job or none" }}
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
{{- $script := printf "import asyncio, json, os\nfrom edvent_events.admin import ensure_topics\nfrom edvent_events.connection import KafkaConnection\ne, p = os.environ.get, '%s'\nkafka = KafkaConnection(e(p + 'KAFKA_BOOTSTRAP_SERVERS'), security_protocol=e(p + 'KAFKA_SECURITY_PROTOCOL', 'PLAINTEXT'), sasl_mechanism=e(p + 'KAFKA_SASL_MECHANISM', 'SCRAM-SHA-512'), username=e(p + 'KAFKA_USERNAME'), password=e(p + 'KAFKA_PASSWORD'), ssl_cafile=e(p + 'KAFKA_SSL_CAFILE'))\nasync def main():\n    for t in json.loads(os.environ['EDVENT_TOPICS']):\n        await ensure_topics(kafka, [t['name']], partitions=t['partitions'], replication=t['replicas'], configs={k: str(v) for k, v in t['config'].items()})\nasyncio.run(main())\n" .Values.envPrefix }}
{{- $ctx := merge (dict "jobName" "topics" "jobWeight" -5 "jobArgs" (list "python" "-c" $script)) . }}
{{- $ctx = merge (dict "Values" (merge (dict "env" (concat (.Values.env | default list) (list (dict "name" "EDVENT_TOPICS" "value" (toJson $spec))))) .Values)) $ctx }}
{{ include "edvent.hookJob" $ctx }}
{{- else if ne .Values.kafka.topicsBy "none" }}
{{- fail "kafka.topicsBy must be strimzi, job or none" }}
{{- end }}
{{- end -}}
