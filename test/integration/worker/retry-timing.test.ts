import { retryHeaders } from '../../../src/retry/retry-headers';
import { request, WorkerHarness } from '../../support/worker-harness';

describe('worker: retries fire on time, without head-of-line blocking', () => {
  const h = new WorkerHarness('retrytiming', 1);

  beforeAll(async () => {
    await h.setup();
    await h.startWorker();
  });
  afterAll(() => h.teardown());

  it('a retry due in about a second is never held behind one due in minutes on the same partition', async () => {
    const now = Date.now();
    const producer = h.kafka.producer();
    await producer.connect();
    const retry = (key: string, dueAt: number) => ({ key, value: h.codec.encode('CaptureRequested', request(`pay-${key}`)), headers: retryHeaders({ attempt: 2, dueAt, firstAttemptAt: now }), partition: 0 });
    const short = Array.from({ length: 30 }, (_, i) => retry(`short-${i}`, now + 1500 + (i % 5) * 300));
    await producer.send({ topic: h.topics.retry, messages: [retry('long-1', now + 10 * 60_000), retry('long-2', now + 5 * 60_000), ...short] });
    await producer.disconnect();

    const outcomes = await h.outcomes((all) => short.every((s) => all.some((o) => o.key === s.key)), 30_000);
    for (const s of short) {
      const outcome = outcomes.find((o) => o.key === s.key)!;
      const dueAt = Number(s.headers['capture-due-at']);
      expect(outcome.event.attempt).toBe(2);
      // Fired no earlier than due, and within a second of it (the call itself takes a few ms).
      expect(outcome.event.completedAt).toBeGreaterThanOrEqual(dueAt);
      expect(outcome.event.completedAt - dueAt).toBeLessThan(1000);
    }
    expect(outcomes.some((o) => o.key.startsWith('long-'))).toBe(false);
    expect(h.sandbox.requestStats('long-1').calls).toBe(0);
  });
});
