import { retryHeaders } from '../../../src/retry/retry-headers';
import type { EventTypes } from '../../../src/events/event-codec';
import { readToEnd } from '../../support/kafka';
import { request, terminal, WorkerHarness } from '../../support/worker-harness';

const TIERS = '1s,5s,5m';

/** Retry tiers against the real broker: what waits where, for how long, and what the old single retry topic becomes. */
describe('worker: retries through tiered delay topics', () => {
  const h = new WorkerHarness('tiers', 2);
  let metricsUrl = '';

  beforeAll(async () => {
    await h.setup({}, { RETRY_TIERS: TIERS });
    const worker = await h.startWorker();
    metricsUrl = `http://127.0.0.1:${worker.healthPort}/metrics`;
  });
  afterAll(() => h.teardown());

  const tier = (label: string) => `${h.topics.retry}.${label}`;
  const retry = (key: string, dueAt: number, partition: number, firstAttemptAt = Date.now()) => ({
    key,
    value: h.codec.encode('CaptureRequested', request(`pay-${key}`)),
    headers: retryHeaders({ attempt: 2, dueAt, firstAttemptAt }),
    partition,
  });
  const send = async (topic: string, messages: Array<ReturnType<typeof retry>>) => {
    const producer = h.kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages });
    await producer.disconnect();
  };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(metricsUrl)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(name))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  };
  const lateness = (outcomes: Awaited<ReturnType<WorkerHarness['allOutcomes']>>, key: string, dueAt: number) => {
    const o = outcomes.find((x) => x.key === key);
    return o ? o.event.completedAt - dueAt : undefined;
  };

  it('a 1 s retry fires on time while 5 min ones wait in their own tier on the same partition number', async () => {
    const now = Date.now();
    await send(tier('5m'), [retry('long-a', now + 300_000, 0), retry('long-b', now + 300_000, 0)]);
    const short = Array.from({ length: 20 }, (_, i) => retry(`short-${i}`, now + 1000 + i * 5, 0));
    await send(tier('1s'), short);
    await h.outcomes((all) => short.every((s) => all.some((o) => o.key === s.key)), 20_000);
    const outcomes = await h.allOutcomes();
    for (const s of short) {
      const late = lateness(outcomes, s.key, Number(s.headers['capture-due-at']))!;
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(1000);
    }
    expect(h.sandbox.requestStats('long-a').calls + h.sandbox.requestStats('long-b').calls).toBe(0);
    // The 5 min tier's partition waits for its head: paused, not polled and not held in memory.
    expect(await metric('capture_retry_partitions_waiting')).toBeGreaterThanOrEqual(1);
  });

  it('one partition of a tier waits for its head while another partition of the same tier goes on', async () => {
    const now = Date.now();
    await send(tier('5s'), [retry('p0-late', now + 4000, 0), retry('p0-behind', now + 4000, 0)]);
    await send(tier('5s'), [retry('p1-due', now, 1)]);
    const seen = await h.outcomes((all) => all.some((o) => o.key === 'p1-due'), 10_000);
    expect(seen.some((o) => o.key.startsWith('p0-'))).toBe(false);
    expect(Date.now() - now).toBeLessThan(3000);
    await h.outcomes((all) => all.filter((o) => o.key.startsWith('p0-')).length === 2, 15_000);
    const outcomes = await h.allOutcomes();
    for (const key of ['p0-late', 'p0-behind']) expect(lateness(outcomes, key, now + 4000)).toBeGreaterThanOrEqual(0);
  });

  it('records of the single retry topic of earlier releases are honoured: due ones called, later ones moved to a tier and called when due', async () => {
    const forwardedBefore = await metric('capture_retries_forwarded_total');
    const now = Date.now();
    const legacy = [retry('old-due', now - 1000, 0), retry('old-soon', now + 3000, 0), retry('old-far', now + 3_600_000, 1)];
    await send(h.topics.retry, legacy);
    await h.outcomes((all) => ['old-due', 'old-soon'].every((k) => all.some((o) => o.key === k)), 20_000);
    const outcomes = await h.allOutcomes();
    expect(lateness(outcomes, 'old-due', now - 1000)).toBeLessThan(3000);
    const soon = lateness(outcomes, 'old-soon', now + 3000)!;
    expect(soon).toBeGreaterThanOrEqual(0);
    expect(soon).toBeLessThan(1500);
    expect(h.sandbox.requestStats('old-far').calls).toBe(0);
    // old-soon went to the 5 s tier and old-far to the 5 min tier: two forwards, each once.
    expect((await metric('capture_retries_forwarded_total')) - forwardedBefore).toBe(2);
    const moved = (await readToEnd(h.kafka, [tier('5m')])).filter((r) => r.key?.toString() === 'old-far');
    expect(moved).toHaveLength(1);
    expect(moved[0].headers['capture-due-at']).toBe(String(now + 3_600_000));
  });

  it('an unknown answered every time ends as CaptureUnknown final once attempts run out, each attempt through a tier', async () => {
    const key = 'always-unknown';
    await h.produce([{ key, value: request(`unknown-99-${key}`) }]);
    // RETRY_MAX_ATTEMPTS is 6 in the harness; backoff 200 ms → 1 s caps every step at the 1 s tier.
    await h.outcomes((all) => terminal(all).some((o) => o.key === key), 30_000);
    const mine = (await h.allOutcomes()).filter((o) => o.key === key);
    const unknowns = mine.map((o) => o.event as EventTypes['CaptureUnknown']);
    expect(unknowns.map((u) => [u.attempt, u.final])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
      [6, true],
    ]);
    expect(h.sandbox.requestStats(key).calls).toBe(6);
    for (let i = 1; i < unknowns.length; i++) expect(unknowns[i].completedAt).toBeGreaterThanOrEqual(unknowns[i - 1].nextAttemptAt!);
  });
});
