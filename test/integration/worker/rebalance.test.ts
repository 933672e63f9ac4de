import { request, terminal, WorkerHarness } from '../../support/worker-harness';

describe('worker: rebalances lose nothing', () => {
  const h = new WorkerHarness('rebalance', 6);

  beforeAll(() => h.setup({ latencyMs: 30, jitterMs: 30 }));
  afterAll(() => h.teardown());

  it('a second instance joining and then leaving mid-stream leaves every request with exactly one terminal outcome', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => `rb-${i}`);
    await h.produce(keys.map((key, i) => ({ key, value: request(i % 8 === 0 ? `unknown-1-${key}` : `pay-${key}`) })));
    await h.startWorker({ MAX_IN_FLIGHT: '50' });
    await h.outcomes((all) => all.length >= 100);
    const second = await h.startWorker({ MAX_IN_FLIGHT: '50' });
    await h.outcomes((all) => all.length >= 300);
    await second.stop();

    const outcomes = await h.outcomes((all) => new Set(terminal(all).map((o) => o.key)).size >= keys.length, 120_000);
    const perKey = new Map<string, number>();
    for (const o of terminal(outcomes)) perKey.set(o.key, (perKey.get(o.key) ?? 0) + 1);
    expect(keys.filter((k) => perKey.get(k) !== 1)).toEqual([]);
    // Every capture the vendor made has its outcome, and none was made twice.
    expect(h.sandbox.stats().captures).toBe(keys.length);
  });
});
