// Validate the chart's custom resources, which the core Kubernetes schemas do not cover.
//
// Two layers, both must pass:
//  1. Upstream CRD schemas as packaged by @kubernetes-models/prometheus-operator (ServiceMonitor,
//     PrometheusRule, monitoring.coreos.com/v1) and @kubernetes-models/keda (ScaledObject, keda.sh/v1alpha1):
//     types, required fields, enums, patterns. Those generated validators accept unknown fields.
//  2. A strict allow-list (below) of the fields this chart may use, every name taken from those
//     same CRDs: a misspelled field fails here, as `kubernetes-validate --strict` does for core
//     kinds. The Kafka trigger's metadata keys are KEDA's documented Kafka scaler parameters.
//
// Usage: node validate-crds.mjs crds.json   (a JSON array of rendered objects)
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';

const strict = (properties, required = []) => ({ type: 'object', additionalProperties: false, properties, required });
const str = { type: 'string' };
const strMap = { type: 'object', additionalProperties: { type: 'string' } };
const metadata = strict({ name: str, namespace: str, labels: strMap, annotations: strMap }, ['name']);
const labelSelector = strict({ matchLabels: strMap, matchExpressions: { type: 'array' } });
const relabel = {
  type: 'array',
  items: strict({
    sourceLabels: { type: 'array', items: str }, separator: str, targetLabel: str, regex: str,
    modulus: { type: 'integer' }, replacement: str, action: str,
  }),
};

const schemas = {
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    schema: strict({
      apiVersion: { const: 'monitoring.coreos.com/v1' }, kind: { const: 'ServiceMonitor' }, metadata,
      spec: strict({
        selector: labelSelector,
        namespaceSelector: strict({ any: { type: 'boolean' }, matchNames: { type: 'array', items: str } }),
        jobLabel: str,
        endpoints: {
          type: 'array', minItems: 1,
          items: strict({
            port: str, path: str, scheme: str, interval: str, scrapeTimeout: str, honorLabels: { type: 'boolean' },
            relabelings: relabel, metricRelabelings: relabel,
          }),
        },
      }, ['selector', 'endpoints']),
    }, ['apiVersion', 'kind', 'metadata', 'spec']),
  },
  'keda.sh/v1alpha1/ScaledObject': {
    model: ScaledObject,
    schema: strict({
      apiVersion: { const: 'keda.sh/v1alpha1' }, kind: { const: 'ScaledObject' }, metadata,
      spec: strict({
        scaleTargetRef: strict({ apiVersion: str, kind: str, name: str, envSourceContainerName: str }, ['name']),
        minReplicaCount: { type: 'integer' }, maxReplicaCount: { type: 'integer' }, idleReplicaCount: { type: 'integer' },
        pollingInterval: { type: 'integer' }, cooldownPeriod: { type: 'integer' }, initialCooldownPeriod: { type: 'integer' },
        advanced: strict({
          restoreToOriginalReplicaCount: { type: 'boolean' },
          horizontalPodAutoscalerConfig: strict({ name: str, behavior: strict({ scaleUp: { type: 'object' }, scaleDown: { type: 'object' } }) }),
        }),
        triggers: {
          type: 'array', minItems: 1,
          items: {
            oneOf: [
              strict({
                type: { const: 'kafka' }, name: str, useCachedMetrics: { type: 'boolean' },
                metricType: { enum: ['AverageValue', 'Value'] },
                authenticationRef: strict({ name: str, kind: { enum: ['TriggerAuthentication', 'ClusterTriggerAuthentication'] } }, ['name']),
                metadata: strict(Object.fromEntries([
                  'bootstrapServers', 'consumerGroup', 'topic', 'lagThreshold', 'activationLagThreshold',
                  'offsetResetPolicy', 'allowIdleConsumers', 'excludePersistentLag', 'scaleToZeroOnInvalidOffset',
                  'limitToPartitionsWithLag', 'partitionLimitation', 'version', 'sasl', 'tls',
                ].map((k) => [k, str])), ['bootstrapServers', 'consumerGroup']),
              }, ['type', 'metadata']),
              strict({
                type: { const: 'cpu' }, name: str, metricType: { enum: ['Utilization', 'AverageValue'] },
                metadata: strict({ value: str, containerName: str }, ['value']),
              }, ['type', 'metricType', 'metadata']),
            ],
          },
        },
      }, ['scaleTargetRef', 'triggers']),
    }, ['apiVersion', 'kind', 'metadata', 'spec']),
  },
};

// Rule groups as the Prometheus Operator's RuleGroup and Rule define them; an alert needs its
// severity, summary, description and runbook_url here (the chart's convention, see files/alerts.yaml).
const duration = { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' };
const alertRule = strict({
  alert: str, expr: str, for: duration, keep_firing_for: duration,
  labels: strict({ severity: { enum: ['critical', 'warning', 'info'] } }, ['severity']),
  annotations: strict({ summary: str, description: str, runbook_url: { type: 'string', pattern: '#[a-z0-9-]+$' } }, ['summary', 'description', 'runbook_url']),
}, ['alert', 'expr', 'labels', 'annotations']);
// Labels added by prometheusRule.additionalLabels are any strings beside severity.
alertRule.properties.labels.additionalProperties = str;
const recordRule = strict({ record: str, expr: str, labels: strMap }, ['record', 'expr']);
schemas['monitoring.coreos.com/v1/PrometheusRule'] = {
  model: PrometheusRule,
  schema: strict({
    apiVersion: { const: 'monitoring.coreos.com/v1' }, kind: { const: 'PrometheusRule' }, metadata,
    spec: strict({
      groups: {
        type: 'array', minItems: 1,
        items: strict({
          name: str, interval: duration, limit: { type: 'integer' }, labels: strMap, query_offset: duration, partial_response_strategy: str,
          rules: { type: 'array', minItems: 1, items: { oneOf: [alertRule, recordRule] } },
        }, ['name', 'rules']),
      },
    }, ['groups']),
  }, ['apiVersion', 'kind', 'metadata', 'spec']),
};

schemas['keda.sh/v1alpha1/TriggerAuthentication'] = {
  model: TriggerAuthentication,
  schema: strict({
    apiVersion: { const: 'keda.sh/v1alpha1' }, kind: { const: 'TriggerAuthentication' }, metadata,
    spec: strict({
      // The Kafka scaler's authentication parameters.
      secretTargetRef: { type: 'array', minItems: 1, items: strict({ parameter: { enum: ['sasl', 'username', 'password', 'tls', 'ca', 'cert', 'key', 'keyPassword'] }, name: str, key: str }, ['parameter', 'name', 'key']) },
    }, ['secretTargetRef']),
  }, ['apiVersion', 'kind', 'metadata', 'spec']),
};

const ajv = new Ajv({ allErrors: true, strict: true });
for (const entry of Object.values(schemas)) entry.validate = ajv.compile(entry.schema);

const docs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let problems = 0;
const ok = [];
for (const doc of docs) {
  const id = `${doc.kind}/${doc.metadata?.name}`;
  const entry = schemas[`${doc.apiVersion}/${doc.kind}`];
  if (!entry) {
    console.log(`  ERROR ${id}: no CRD schema known for ${doc.apiVersion} ${doc.kind}`);
    problems++;
    continue;
  }
  try {
    new entry.model(doc).validate();
  } catch (e) {
    console.log(`  ERROR ${id}: upstream CRD schema: ${e.message}`);
    problems++;
  }
  if (!entry.validate(doc)) {
    for (const err of entry.validate.errors) {
      const extra = err.params?.additionalProperty ? ` '${err.params.additionalProperty}'` : '';
      console.log(`  ERROR ${id}: strict field list: at '${err.instancePath}': ${err.message}${extra}`);
    }
    problems++;
  }
  ok.push(id);
}
if (problems) {
  console.log(`  ${problems} custom resource problem(s)`);
  process.exit(1);
}
console.log(docs.length ? `  CRD schemas (upstream + strict field list) OK: ${ok.join(', ')}` : '  no custom resources rendered');
