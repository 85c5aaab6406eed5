{{/*
Everything one Edvent service needs, from its values (see identity/values.yaml for
the documented keys). A service chart's only template is:
  {{ include "edvent.service" . }}
*/}}
{{- define "edvent.service" -}}
{{- $fullname := include "edvent.fullname" . -}}
{{- $command := required "command (e.g. edvent-identity) is required" .Values.command -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# The services never call the Kubernetes API.
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
data:
  {{- range $key, $value := .Values.config }}
  {{ $key }}: {{ include "edvent.string" $value | quote }}
  {{- end }}
{{- if not .Values.secrets.existingSecret }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
type: Opaque
stringData:
  {{- range $key, $value := .Values.secrets.values }}
  {{ $key }}: {{ include "edvent.string" $value | quote }}
  {{- end }}
{{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "edvent.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ .Values.revisionHistoryLimit }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # A new pod is ready before an old one goes: capacity never drops in a rollout.
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "edvent.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "edvent.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # New settings or secrets roll the pods.
        checksum/config: {{ toJson .Values.config | sha256sum }}
        checksum/secret: {{ toJson .Values.secrets | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $fullname }}
      automountServiceAccountToken: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "edvent.podSecurityContext" . | nindent 8 }}
      # uvicorn lets in-flight requests finish for 20 s after SIGTERM, then the
      # consumers, the relay and the pool stop; preStop first waits for the endpoints
      # to drop this pod. Keep it above preStopSeconds + 20 + that shutdown.
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      containers:
        - name: {{ include "edvent.name" . }}
          image: {{ include "edvent.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: [{{ $command | quote }}, "serve", "--host", "0.0.0.0", "--port", {{ .Values.containerPort | quote }}]
          ports:
            - name: http
              containerPort: {{ .Values.containerPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $fullname }}
            - secretRef:
                name: {{ include "edvent.secretName" . }}
          {{- $otel := include "edvent.otelEnv" . | fromYamlArray }}
          {{- with concat $otel .Values.env }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          # Ready = its database and Kafka answer (and S3 where it uses one).
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          # Alive = the event loop answers; never depends on PostgreSQL or Kafka, so an
          # outage of those does not restart every pod.
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          lifecycle:
            preStop:
              sleep:
                seconds: {{ .Values.preStopSeconds }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "edvent.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- include "edvent.kafkaCaMount" . | nindent 12 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- include "edvent.kafkaCaVolume" . | nindent 8 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- with (include "edvent.pdb" .) }}
---
{{ . }}
{{- end }}
{{- with (include "edvent.hpa" .) }}
---
{{ . }}
{{- end }}
{{- if .Values.networkPolicy.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edvent.labels" . | nindent 4 }}
spec:
  # The server pods and the migration/topic Jobs of this release.
  podSelector:
    matchLabels:
      {{- include "edvent.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress", "Egress"]
  ingress:
    - from:
        {{- toYaml .Values.networkPolicy.ingressFrom | nindent 8 }}
      ports:
        - port: http
          protocol: TCP
  egress:
    {{- include "edvent.egressRules" . | trim | nindent 4 }}
{{- end }}
{{ include "edvent.migrationJob" . }}
{{ include "edvent.topics" . }}
{{ include "edvent.kafkaUser" . }}
{{- end -}}
