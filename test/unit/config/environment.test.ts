import { loadConfig, loadTopicSettings } from '../../../src/config/config';
import { toEnv, unknownVariables } from '../../../src/config/environment';
import { valid } from './valid-env';

describe('unknownVariables', () => {
  it('names a misspelt setting and the setting it is close to', () => {
    expect(unknownVariables({ MAX_INFLIGHT: '800', RETRY_MAX_ATTEMPT: '3' })).toEqual([
      'MAX_INFLIGHT: not a setting of capture-worker, ignored (did you mean MAX_IN_FLIGHT?)',
      'RETRY_MAX_ATTEMPT: not a setting of capture-worker, ignored (did you mean RETRY_MAX_ATTEMPTS?)',
    ]);
  });

  it("flags a product prefix even when no setting's name is close", () => {
    expect(unknownVariables({ ANTOM_REGION: 'na' })).toEqual(['ANTOM_REGION: not a setting of capture-worker, ignored']);
  });

  it('accepts settings, their _FILE forms, and what the platform and the SDKs set', () => {
    const env = {
      ...valid,
      KAFKA_SASL_PASSWORD_FILE: '/run/secrets/p',
      ANTOM_PRIVATE_KEY_FILE: '/keys/k.pem',
      // Kubernetes' service links for a Service named "kafka" and one named "api".
      KAFKA_PORT: 'tcp://10.0.0.1:9092',
      KAFKA_SERVICE_HOST: '10.0.0.1',
      KAFKA_PORT_9092_TCP_ADDR: '10.0.0.1',
      API_SERVICE_PORT_HTTP: '80',
      OTEL_EXPORTER_OTLP_HEADERS: 'x=y',
      HOME: '/home/node',
      PATH: '/usr/bin',
      HTTP_PROXY: 'http://proxy:3128',
    };
    expect(unknownVariables(env)).toEqual([]);
  });

  it('reaches the worker configuration as warnings, not problems', () => {
    expect(loadConfig({ ...valid, GROUP_ID: 'g', GROUPID: 'x' }).warnings).toEqual(['GROUPID: not a setting of capture-worker, ignored (did you mean GROUP_ID?)']);
  });
});

describe('toEnv', () => {
  it('writes typed settings as variables, lists joined, undefined left out', () => {
    expect(toEnv({ KAFKA_BROKERS: ['a:1', 'b:2'], MAX_IN_FLIGHT: 50, ANTOM_SANDBOX: true, GROUP_ID: undefined })).toEqual({ KAFKA_BROKERS: 'a:1,b:2', MAX_IN_FLIGHT: '50', ANTOM_SANDBOX: 'true' });
  });

  it('round-trips through the validation', () => {
    const config = loadConfig(toEnv({ ...valid, MAX_IN_FLIGHT: 50, BREAKER_WINDOW: 40, KAFKA_SESSION_TIMEOUT_MS: 30_000 }));
    expect(config.maxInFlight).toBe(50);
    expect(config.breaker.windowSize).toBe(40);
    expect(config.kafka.consumer.sessionTimeoutMs).toBe(30_000);
  });
});

describe('loadTopicSettings', () => {
  it("gives the CLIs the worker's topic names, tiers and layout", () => {
    const { topics, tiers, layout } = loadTopicSettings({ TOPIC_RETRY: 'r', RETRY_TIERS: '1s,1m' });
    expect(topics.requested).toBe('payments.capture.requested');
    expect(tiers.map((tier) => tier.topic)).toEqual(['r.1s', 'r.1m']);
    expect(layout).toEqual({ partitions: 12, replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('refuses what the worker refuses, by variable', () => {
    expect(() => loadTopicSettings({ TOPIC_PARTITIONS: '0' })).toThrow('TOPIC_PARTITIONS: ');
    expect(() => loadTopicSettings({ RETRY_TIERS: 'soon', TOPIC_DLQ: 'payments.capture.failed' })).toThrow(/RETRY_TIERS: .*\n.*TOPIC_FAILED, TOPIC_DLQ: all name topic payments.capture.failed/);
  });
});

describe('behaviour-defining Kafka and breaker settings', () => {
  it('defaults to a 10 s session, 1 s heartbeats, 16 partitions at once and a 50-call breaker window', () => {
    const config = loadConfig(valid);
    expect(config.kafka.consumer).toEqual({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, fetchMaxWaitMs: 50, partitionsConcurrency: 16 });
    expect(config.breaker).toEqual({ windowSize: 50, minCalls: 20, faultRatio: 0.5, openMs: 1_000, maxOpenMs: 30_000 });
  });

  it.each([
    [{ KAFKA_HEARTBEAT_INTERVAL_MS: '5000' }, 'KAFKA_HEARTBEAT_INTERVAL_MS: must be at most a third of KAFKA_SESSION_TIMEOUT_MS'],
    [{ BREAKER_MIN_CALLS: '60' }, 'BREAKER_MIN_CALLS: must be at most BREAKER_WINDOW'],
    [{ BREAKER_OPEN_MS: '5000', BREAKER_MAX_OPEN_MS: '1000' }, 'BREAKER_MAX_OPEN_MS: must be at least BREAKER_OPEN_MS'],
  ])('refuses %p', (extra, message) => {
    expect(() => loadConfig({ ...valid, ...extra })).toThrow(message);
  });
});
