import { exactlyOnce, request, terminal, WorkerHarness } from '../../support/worker-harness';

describe('worker: rebalances lose nothing', () => {
  const h = new WorkerHarness('rebalance', 6);

  beforeAll(() => h.setup({ latencyMs: 30, jitterMs: 30 }));
  afterAll(() => h.teardown());

  it('a second instance joining and then leaving mid-stream leaves every request with exactly one terminal outcome', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => `rb-${i}`);
    await h.produce(keys.map((key, i) => ({ key, value: request(i % 8 === 0 ? `unknown-1-${key}` : `pay-${key}`) })));
    const watcher = await h.watchOutcomes();
    try {
      const first = await h.startWorker({ MAX_IN_FLIGHT: '50' });
      await watcher.until((w) => w.outcomes.length >= 100, 60_000);
      const second = await h.startWorker({ MAX_IN_FLIGHT: '50' });
      await watcher.until((w) => w.outcomes.length >= 300, 60_000);
      await second.stop();
      await watcher.allTerminal(keys, 120_000);
      await first.stop();
    } finally {
      await watcher.close();
    }

    // Both instances have stopped: the outcome topics are final.
    const outcomes = await h.allOutcomes();
    expect(exactlyOnce(outcomes, keys)).toEqual({ missing: [], duplicates: [], unexpected: [] });
    expect(terminal(outcomes).filter((o) => o.topic !== 'succeeded')).toEqual([]);
    // Every capture the vendor made has its outcome, and none was made twice.
    expect(h.sandbox.stats().captures).toBe(keys.length);
  });
});
