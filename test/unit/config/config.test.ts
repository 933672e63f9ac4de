import { ConfigError, loadConfig, loadTopicSettings } from '../../../src/config/config';
import { prefixedTopics, topicEnv } from '../../../src/events/contract';
import { valid } from './valid-env';

describe('loadConfig', () => {
  it('applies the contract defaults and parses lists and numbers', () => {
    const config = loadConfig({ ...valid, MAX_IN_FLIGHT: '800' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(config.topics).toEqual({
      requested: 'payments.capture.requested',
      succeeded: 'payments.capture.succeeded',
      failed: 'payments.capture.failed',
      unknown: 'payments.capture.unknown',
      retry: 'payments.capture.retry',
      dlq: 'payments.capture.dlq',
    });
    expect(config.maxInFlight).toBe(800);
    expect(config.api.privateKey).toEqual({ name: 'ANTOM_PRIVATE_KEY_FILE', file: '/keys/merchant-private.pem' });
    expect(config.api.vendorPublicKey.name).toBe('ANTOM_PUBLIC_KEY');
  });

  it("reads the event contract's TOPIC_* variables as the CLIs do", () => {
    const topics = prefixedTopics('run-1');
    expect(loadConfig({ ...valid, ...topicEnv(topics) }).topics).toEqual(topics);
    expect(loadTopicSettings(topicEnv(topics)).topics).toEqual(topics);
    expect(loadConfig(valid).topics).toEqual(loadTopicSettings({}).topics);
  });

  it('honours renamed topics', () => {
    expect(loadConfig({ ...valid, TOPIC_DLQ: 'team.dlq' }).topics.dlq).toBe('team.dlq');
  });

  it('lists every problem at once, by variable, without echoing values', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ KAFKA_BROKERS: 'nohostport', SCHEMA_REGISTRY_URL: 'ftp://x', ANTOM_CLIENT_ID: 'c', MAX_IN_FLIGHT: '-3', ANTOM_PRIVATE_KEY: 'SECRET-KEY-MATERIAL' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = error!.message;
    for (const variable of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'ANTOM_BASE_URL: required', 'MAX_IN_FLIGHT', 'ANTOM_PUBLIC_KEY_FILE: required']) {
      expect(message).toContain(variable);
    }
    expect(message).not.toContain('ANTOM_PRIVATE_KEY_FILE: required');
    expect(message).not.toContain('SECRET-KEY-MATERIAL');
    expect(error!.problems.length).toBe(5);
  });

  it('refuses an http:// vendor URL unless ANTOM_SANDBOX=true says it is the sandbox', () => {
    const production = { ...valid, ANTOM_SANDBOX: undefined };
    expect(() => loadConfig(production)).toThrow('ANTOM_BASE_URL: the vendor API is https; http:// is only for the capture sandbox, with ANTOM_SANDBOX=true');
    expect(loadConfig({ ...production, ANTOM_BASE_URL: 'https://open-na-global.alipay.com' }).api.sandbox).toBe(false);
    expect(loadConfig(valid).api.sandbox).toBe(true);
  });

  it.each([
    ['TOPIC_RETRY = TOPIC_REQUESTED', { TOPIC_RETRY: 'payments.capture.requested' }, 'TOPIC_REQUESTED, TOPIC_RETRY: all name topic payments.capture.requested'],
    ['TOPIC_DLQ = TOPIC_FAILED', { TOPIC_DLQ: 'x', TOPIC_FAILED: 'x' }, 'TOPIC_FAILED, TOPIC_DLQ: all name topic x'],
    ['a tier topic = TOPIC_UNKNOWN', { TOPIC_UNKNOWN: 'payments.capture.retry.5s' }, 'TOPIC_UNKNOWN, RETRY_TIERS (5s): all name topic payments.capture.retry.5s'],
  ])('refuses one topic for two roles: %s', (_name, topics, message) => {
    expect(() => loadConfig({ ...valid, ...topics })).toThrow(message);
  });

  it('bounds the adaptive API concurrency by MAX_IN_FLIGHT', () => {
    expect(loadConfig(valid).concurrency).toEqual({ min: 2, initial: 10, latencyTolerance: 2 });
    expect(loadConfig({ ...valid, MAX_IN_FLIGHT: '6', API_CONCURRENCY_MIN: '3', API_CONCURRENCY_INITIAL: '8', API_LATENCY_TOLERANCE: '2' }).concurrency).toEqual({
      min: 3,
      initial: 6,
      latencyTolerance: 2,
    });
    expect(() => loadConfig({ ...valid, API_CONCURRENCY_MIN: '20', API_CONCURRENCY_INITIAL: '5' })).toThrow('API_CONCURRENCY_INITIAL: must be at least API_CONCURRENCY_MIN');
    expect(() => loadConfig({ ...valid, API_CONCURRENCY_MIN: '0', API_LATENCY_TOLERANCE: '1' })).toThrow(/API_CONCURRENCY_MIN[\s\S]*API_LATENCY_TOLERANCE/);
  });

  it('rejects a max retry delay below the base delay', () => {
    expect(() => loadConfig({ ...valid, RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '100' })).toThrow('RETRY_MAX_DELAY_MS');
  });
});
