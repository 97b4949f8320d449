{{/* Names and labels shared by every object of the chart. */}}
{{- define "sightwire.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sightwire.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "sightwire.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "sightwire.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sightwire.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "sightwire.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sightwire.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sightwire.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "sightwire.selectorLabels" . }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sightwire
{{- end -}}

{{- define "sightwire.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sightwire.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sightwire.secretName" -}}
{{- if .Values.secret.create -}}
{{- include "sightwire.fullname" . -}}
{{- else -}}
{{- required "secret.existingSecret: name the Secret holding the roles' secrets (or set secret.create)" .Values.secret.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* The bus URL every role reads as ${SIGHTWIRE_BUS_URL}; bus.kind is the switch. */}}
{{- define "sightwire.busUrl" -}}
{{- $b := .Values.bus -}}
{{- $query := printf "partitions=%d&prefix=%s" (int $b.partitions) $b.prefix -}}
{{- if eq $b.kind "nats" -}}
{{- /* ack_wait_s <= member_ttl_s (10 s, the default): a dead worker's unacked frames are
  due again when its partitions move, so the next owner gets them first, in order
  (docs/distributed.md, "Hand-over"). */ -}}
{{- printf "%s?%s&ack_wait_s=10" $b.nats.url $query -}}
{{- else if eq $b.kind "kafka" -}}
{{- printf "kafka://%s?%s" $b.kafka.bootstrapServers $query -}}
{{- else -}}
{{- fail (printf "bus.kind: nats or kafka, not %q" $b.kind) -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by every Sightwire container (roles and the migration Job). */}}
{{- define "sightwire.env" -}}
- name: SIGHTWIRE_BUS_URL
  value: {{ include "sightwire.busUrl" . | quote }}
- name: HOME
  value: /tmp
{{- range $name, $value := .Values.env }}
{{- /* An empty value is left out: boto3 refuses AWS_ENDPOINT_URL="" */}}
{{- if $value }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- $secret := include "sightwire.secretName" . }}
{{- range $name, $key := .Values.secret.env }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end -}}
