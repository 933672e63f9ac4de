import { topicNames } from '../../../src/config/config';
import { eventSubjects, outcomeRole, outcomeTopics, prefixedTopics, roleOf, TOPIC_CONTRACT, topicEnv, TOPIC_ROLES } from '../../../src/events/contract';
import { buildOutcome } from '../../../src/pipeline/outcomes';

describe('the event contract', () => {
  const topics = prefixedTopics('run-1');

  it('names the topics from its variables and defaults', () => {
    expect(topicNames({})).toEqual(Object.fromEntries(TOPIC_ROLES.map((role) => [role, TOPIC_CONTRACT[role].topic])));
    expect(topicNames(topicEnv(topics))).toEqual(topics);
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
    for (const status of ['S', 'F', 'U'] as const) {
      const role = outcomeRole(status);
      const outcome = buildOutcome(topics, context, { status, resultCode: 'X', resultMessage: '', local: false }, undefined);
      expect({ topic: outcome.topic, name: outcome.event.name }).toEqual({ topic: topics[role], name: TOPIC_CONTRACT[role].event });
      expect(roleOf(topics, outcome.topic)).toBe(role);
    }
    expect(outcomeTopics(topics)).toEqual(['run-1.succeeded', 'run-1.failed', 'run-1.unknown']);
  });
});
