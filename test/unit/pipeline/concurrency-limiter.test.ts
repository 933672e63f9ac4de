import type { CaptureResult } from '../../../src/api/types';
import { ConcurrencyLimiter, signalOf, type CallSignal, type LimiterOptions, type Release } from '../../../src/pipeline/concurrency-limiter';

const OPTIONS: LimiterOptions = { min: 2, initial: 4, max: 64, latencyTolerance: 1.5 };

function limiter(options: Partial<LimiterOptions> = {}) {
  const limits: number[] = [];
  const clock = { now: 1_000_000 };
  const l = new ConcurrencyLimiter({ ...OPTIONS, ...options }, (limit) => limits.push(limit), () => clock.now);
  return { l, limits, clock };
}

function take(l: ConcurrencyLimiter, n: number): Promise<Release[]> {
  return Promise.all(Array.from({ length: n }, () => l.acquire()));
}

/** One judged window (max(limit, 10) answers), sent `limit` at a time so every batch fills the limit. */
async function fullWindow(l: ConcurrencyLimiter, latencyMs: number, clock = { now: 0 }): Promise<void> {
  for (let left = Math.max(10, l.limit); left > 0; ) {
    const batch = Math.min(left, l.limit);
    await answered(l, clock, batch, latencyMs);
    left -= batch;
  }
}

/** `n` calls at once (n ≤ limit), answered after `latencyMs` on the clock. */
async function answered(l: ConcurrencyLimiter, clock: { now: number }, n: number, latencyMs: number): Promise<void> {
  const releases = await take(l, n);
  clock.now += latencyMs;
  for (const release of releases) release('ok', latencyMs);
}

/** Starts an acquire and tracks whether it was granted. */
function acquiring(l: ConcurrencyLimiter) {
  const tracker = { release: undefined as Release | undefined };
  void l.acquire().then((release) => (tracker.release = release));
  return tracker;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimiter', () => {
  it('starts with the initial window, queues the calls beyond it and serves them in arrival order', async () => {
    const { l, limits } = limiter();
    expect(l.limit).toBe(4);
    expect(limits).toEqual([4]);
    const first = await take(l, 4);
    const fifth = acquiring(l);
    const sixth = acquiring(l);
    await flush();
    expect([l.inUse, l.waiting, fifth.release, sixth.release]).toEqual([4, 2, undefined, undefined]);
    first[0]!('ok', 10);
    await flush();
    expect(fifth.release).toBeDefined();
    expect(sixth.release).toBeUndefined();
    expect(l.inUse).toBe(4);
  });

  it('a release counts once, and an ignored one only frees its slot', async () => {
    const { l } = limiter();
    const [release] = await take(l, 1);
    release!('fault', 10);
    release!('fault', 10);
    expect([l.inUse, l.limit]).toEqual([0, 2]);
    const [ignored] = await take(l, 1);
    ignored!('ignore', 0);
    expect([l.inUse, l.limit]).toEqual([0, 2]);
  });

  it('slow start doubles the limit per full window while latency stays near the baseline', async () => {
    const { l } = limiter();
    for (const expected of [8, 16, 32, 64, 64]) {
      await fullWindow(l, 20);
      expect(l.limit).toBe(expected);
    }
  });

  it('does not grow a limit the calls never filled', async () => {
    const { l } = limiter();
    for (let i = 0; i < 30; i++) (await l.acquire())('ok', 20);
    expect(l.limit).toBe(4);
  });

  it('a transport fault halves the limit once: answers of calls sent before the cut do not cut again', async () => {
    const { l } = limiter({ initial: 32 });
    const sentBefore = await take(l, 32);
    sentBefore[0]!('fault', 5);
    expect(l.limit).toBe(16);
    for (const release of sentBefore.slice(1)) release('fault', 5);
    expect(l.limit).toBe(16);
    const [sentAfter] = await take(l, 1);
    sentAfter!('fault', 5);
    expect(l.limit).toBe(8);
  });

  it('a rate-limit answer sets the limit to the concurrency the vendor accepted in the last second, less 5%; the refusals that follow do not cut again', async () => {
    const { l, clock } = limiter({ initial: 32 });
    for (let i = 0; i < 10; i++) await answered(l, clock, 16, 100); // it carried 16 calls at a time
    expect(l.limit).toBe(32); // never filled, so never grown
    const refused = await take(l, 3);
    refused[0]!('rate-limited', 10);
    expect(l.limit).toBe(15); // 0.95 × 16
    refused[1]!('rate-limited', 10);
    refused[2]!('rate-limited', 10);
    expect(l.limit).toBe(15);
  });

  it('after a rate-limit answer the limit grows at most once a second', async () => {
    const { l, clock } = limiter({ initial: 32 });
    for (let i = 0; i < 10; i++) await answered(l, clock, 16, 100);
    (await l.acquire())('rate-limited', 10);
    for (let i = 0; i < 9; i++) await answered(l, clock, 15, 100); // full windows for 0.9 s
    expect(l.limit).toBe(15);
    await answered(l, clock, 15, 100); // a second after the refusal
    expect(l.limit).toBe(16);
    for (let i = 0; i < 5; i++) await answered(l, clock, 16, 100);
    expect(l.limit).toBe(16);
  });

  it('after a rate-limit answer a cut below what the vendor accepted grows back at the usual pace', async () => {
    const { l, clock } = limiter({ initial: 32 });
    for (let i = 0; i < 10; i++) await answered(l, clock, 16, 100); // the vendor accepted 16 at a time
    (await l.acquire())('rate-limited', 10);
    await fullWindow(l, 250, clock); // a slow round trip: 20% off
    expect(l.limit).toBe(12);
    for (let i = 0; i < 3; i++) await fullWindow(l, 100, clock);
    expect(l.limit).toBe(15); // +1 a round trip up to what the vendor accepted
    await fullWindow(l, 100, clock);
    expect(l.limit).toBe(15); // beyond it, once a second
  });

  it('shrinks in proportion when latency grows past tolerance × baseline, at most 20% a window', async () => {
    const { l } = limiter({ initial: 40 });
    await fullWindow(l, 20); // baseline 20 ms; 40 → 64 (max)
    expect(l.limit).toBe(64);
    await fullWindow(l, 30); // 1.5 × baseline: still within tolerance
    expect(l.limit).toBe(64);
    await fullWindow(l, 36); // allowed 30 ms of 36
    expect(l.limit).toBe(53);
    await fullWindow(l, 200); // far over, or this process paused: 20% off, not 85%
    expect(l.limit).toBe(42);
    await fullWindow(l, 20);
    expect(l.limit).toBe(43); // the cuts ended slow start
  });

  it('stays within [min, max]', async () => {
    const { l } = limiter({ initial: 3, max: 5 });
    for (let i = 0; i < 5; i++) (await l.acquire())('fault', 1);
    expect(l.limit).toBe(2);
    for (let i = 0; i < 5; i++) await fullWindow(l, 20);
    expect(l.limit).toBe(5);
  });

  it('at the minimum, a window still too slow becomes the baseline and the limit grows again', async () => {
    const { l } = limiter({ initial: 2 });
    await fullWindow(l, 10); // baseline 10 ms; 2 → 4
    await fullWindow(l, 50);
    await fullWindow(l, 50); // 4 → 3.2 → 2.56: the minimum
    expect(l.limit).toBe(2);
    await fullWindow(l, 50); // as slow at the minimum: 50 ms is the API's latency now
    expect(l.limit).toBe(2);
    await fullWindow(l, 50);
    expect(l.limit).toBe(3);
  });

  it('restart() returns to slow start at the initial window and lets waiting calls go only that many at a time', async () => {
    const { l, clock } = limiter({ initial: 4 });
    await fullWindow(l, 20, clock);
    await fullWindow(l, 20, clock);
    for (let i = 0; i < 30; i++) await answered(l, clock, 16, 20); // it carried 16 at a time: its recovery cap is above 4
    const before = await take(l, l.limit);
    const waiting = Array.from({ length: 10 }, () => acquiring(l));
    l.restart();
    expect(l.limit).toBe(4);
    // Calls sent before the restart free their slots but say nothing about the API any more.
    for (const release of before) release('fault', 5);
    await flush();
    expect(l.limit).toBe(4);
    expect(waiting.filter((w) => w.release).length).toBe(4);
    expect(l.waiting).toBe(6);
    for (const w of waiting.filter((x) => x.release)) w.release!('ok', 20);
    await flush();
    expect(waiting.filter((w) => w.release).length).toBe(8);
  });

  it('after an outage the limit stays within 1.8 × the concurrency carried before it, until the backlog is gone', async () => {
    const { l, clock } = limiter({ initial: 10 });
    for (let i = 0; i < 60; i++) await answered(l, clock, 5, 100); // steady: 5 calls at a time
    expect(l.limit).toBe(10);
    const outage = await take(l, 10);
    for (const release of outage) release('fault', 1);
    l.restart();
    expect(l.limit).toBe(8); // 1.8 × 5 = 9, just under: the average of the windows still converging
    for (let i = 0; i < 20; i++) await fullWindow(l, 100, clock); // the backlog: always full
    expect(l.limit).toBe(8);
    // A second outage during the recovery keeps its cap rather than taking twice the recovery's rate.
    l.restart();
    for (let i = 0; i < 5; i++) await fullWindow(l, 100, clock);
    expect(l.limit).toBe(8);
    for (let i = 0; i < 4; i++) await answered(l, clock, 3, 100); // a window the calls no longer fill: drained
    await fullWindow(l, 100, clock);
    expect(l.limit).toBe(17); // slow start again from the cap: 2 × 8.9
  });

  it('a restart of an instance that never judged a window has no recovery cap', async () => {
    const { l } = limiter({ initial: 4 });
    l.restart();
    for (let i = 0; i < 5; i++) await fullWindow(l, 20);
    expect(l.limit).toBe(64);
  });
});

describe('signalOf', () => {
  const result = (status: CaptureResult['status'], resultCode: string, local: boolean): CaptureResult => ({ status, resultCode, resultMessage: '', local });

  it.each<[string, CallSignal, CaptureResult | undefined]>([
    ['a transport fault (status U decided locally)', 'fault', result('U', 'LOCAL_TIMEOUT', true)],
    ['an HTTP 5xx', 'fault', result('U', 'LOCAL_HTTP_5XX', true)],
    ['the vendor rate-limit answer', 'rate-limited', result('U', 'REQUEST_TRAFFIC_EXCEED_LIMIT', false)],
    ['a vendor unknown', 'ok', result('U', 'UNKNOWN_EXCEPTION', false)],
    ['a vendor failure', 'ok', result('F', 'RISK_REJECT', false)],
    ['a success', 'ok', result('S', 'SUCCESS', false)],
    ['no result (nothing was sent)', 'ignore', undefined],
  ])('%s → %s', (_name, signal, r) => {
    expect(signalOf(r)).toBe(signal);
  });
});
