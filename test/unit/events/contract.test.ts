import { loadTopicSettings } from '../../../src/config/config';
import { eventSubjects, outcomeTopics, prefixedTopics, roleOf, topicEnv } from '../../../src/events/contract';
import { buildOutcome } from '../../../src/pipeline/outcomes';

describe('the event contract', () => {
  const topics = prefixedTopics('run-1');

  it("names the topics from its variables, with the product's documented defaults", () => {
    expect(loadTopicSettings({}).topics).toEqual({
      requested: 'payments.capture.requested',
      retry: 'payments.capture.retry',
      succeeded: 'payments.capture.succeeded',
      failed: 'payments.capture.failed',
      unknown: 'payments.capture.unknown',
      dlq: 'payments.capture.dlq',
    });
    expect(topicEnv(topics)).toEqual({
      TOPIC_REQUESTED: 'run-1.requested',
      TOPIC_RETRY: 'run-1.retry',
      TOPIC_SUCCEEDED: 'run-1.succeeded',
      TOPIC_FAILED: 'run-1.failed',
      TOPIC_UNKNOWN: 'run-1.unknown',
      TOPIC_DLQ: 'run-1.dlq',
    });
    expect(loadTopicSettings(topicEnv(topics)).topics).toEqual(topics);
  });

  it('registers one subject per topic that carries an event; the DLQ carries raw bytes', () => {
    expect(eventSubjects(topics)).toEqual([
      { subject: 'run-1.requested-value', name: 'CaptureRequested' },
      { subject: 'run-1.retry-value', name: 'CaptureRequested' },
      { subject: 'run-1.succeeded-value', name: 'CaptureSucceeded' },
      { subject: 'run-1.failed-value', name: 'CaptureFailed' },
      { subject: 'run-1.unknown-value', name: 'CaptureUnknown' },
    ]);
  });

  it('publishes each result status on its outcome topic, as the event of that topic', () => {
    const context = { captureRequestId: 'k', request: { paymentId: 'p', captureAmount: { currency: 'HKD', value: '1' }, requestedAt: 1, metadata: {} }, attempt: 1, firstAttemptAt: 1, completedAt: 2 };
    for (const [status, role, name] of [
      ['S', 'succeeded', 'CaptureSucceeded'],
      ['F', 'failed', 'CaptureFailed'],
      ['U', 'unknown', 'CaptureUnknown'],
    ] as const) {
      const outcome = buildOutcome(topics, context, { status, resultCode: 'X', resultMessage: '', local: false }, undefined);
      expect({ topic: outcome.topic, name: outcome.event.name }).toEqual({ topic: topics[role], name });
      expect(roleOf(topics, outcome.topic)).toBe(role);
    }
    expect(outcomeTopics(topics)).toEqual(['run-1.succeeded', 'run-1.failed', 'run-1.unknown']);
  });
});
