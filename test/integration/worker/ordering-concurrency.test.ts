import { request, WorkerHarness } from '../../support/worker-harness';

describe('worker: per-key order, cross-key concurrency, idempotency', () => {
  const h = new WorkerHarness('order', 3);

  beforeAll(async () => {
    await h.setup({ latencyMs: 150, jitterMs: 100 });
    await h.startWorker({ MAX_IN_FLIGHT: '400', API_TIMEOUT_MS: '5000' });
  });
  afterAll(() => h.teardown());

  it('runs far more captures at once than there are partitions, and keeps each key in offset order', async () => {
    h.sandbox.reset();
    const keys = Array.from({ length: 200 }, (_, i) => `conc-${i}`);
    const ordered = ['ordered-a', 'ordered-b'];
    const records = [
      ...keys.map((key) => ({ key, value: request(`pay-${key}`) })),
      ...ordered.flatMap((key) => [1, 2, 3, 4].map((seq) => ({ key, value: request(`pay-${key}`, '100', 'HKD', { seq: String(seq) }) }))),
    ];
    await h.produce(records);
    const outcomes = await h.outcomes((all) => all.length >= records.length, 90_000);

    expect(h.sandbox.stats().maxConcurrent).toBeGreaterThan(3 * 10);
    for (const key of keys) expect(outcomes.filter((o) => o.key === key).map((o) => o.topic)).toEqual(['succeeded']);
    for (const key of ordered) {
      const mine = outcomes.filter((o) => o.key === key);
      // One at a time, in offset order, though the sandbox answers with random latency.
      expect(mine.map((o) => o.event.metadata.seq)).toEqual(['1', '2', '3', '4']);
      expect(h.sandbox.requestStats(key).calls).toBe(4);
      // The same key with the same body is one capture at the vendor.
      expect(new Set(mine.map((o) => (o.event as { captureId: string }).captureId)).size).toBe(1);
    }
  });

  it('the same key with a different body publishes no outcome that contradicts the first capture: it goes to the DLQ as CONFLICTING_REQUEST', async () => {
    await h.produce([
      { key: 'same-key', value: request('pay-same', '300') },
      { key: 'same-key', value: request('pay-same', '301') },
    ]);
    const [dlq] = (await h.dlq(1)).filter((r) => r.key?.toString() === 'same-key');
    expect([dlq.headers['dlq-reason'], dlq.headers['dlq-vendor-result-code'], dlq.headers['dlq-vendor-result-status']]).toEqual(['CONFLICTING_REQUEST', 'REPEAT_REQ_INCONSISTENT', 'F']);
    expect((h.codec.reader('CaptureRequested').fromBuffer(dlq.value!.subarray(5)) as { captureAmount: { value: string } }).captureAmount.value).toBe('301');
    const mine = (await h.allOutcomes()).filter((o) => o.key === 'same-key');
    expect(mine.map((o) => [o.topic, o.event.result.resultCode, o.event.captureAmount.value])).toEqual([['succeeded', 'SUCCESS', '300']]);
  });
});
