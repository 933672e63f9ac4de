import type { CaptureResult } from '../../../src/api/types';
import { ConcurrencyLimiter, signalOf, type CallSignal, type LimiterOptions, type Release } from '../../../src/pipeline/concurrency-limiter';

const OPTIONS: LimiterOptions = { min: 2, initial: 4, max: 64, latencyTolerance: 1.5 };

function limiter(options: Partial<LimiterOptions> = {}) {
  const limits: number[] = [];
  const l = new ConcurrencyLimiter({ ...OPTIONS, ...options }, (limit) => limits.push(limit));
  return { l, limits };
}

function take(l: ConcurrencyLimiter, n: number): Promise<Release[]> {
  return Promise.all(Array.from({ length: n }, () => l.acquire()));
}

/** One judged window (max(limit, 10) answers), sent `limit` at a time so every batch fills the limit. */
async function fullWindow(l: ConcurrencyLimiter, latencyMs: number): Promise<void> {
  for (let left = Math.max(10, l.limit); left > 0; ) {
    const batch = Math.min(left, l.limit);
    for (const release of await take(l, batch)) release('ok', latencyMs);
    left -= batch;
  }
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

  it('a rate-limit answer takes 10% off and ends slow start: then +1 per full window', async () => {
    const { l } = limiter({ initial: 40 });
    const [release] = await take(l, 1);
    release!('rate-limited', 20);
    expect(l.limit).toBe(36);
    await fullWindow(l, 20);
    expect(l.limit).toBe(37);
    await fullWindow(l, 20);
    expect(l.limit).toBe(38);
  });

  it('shrinks in proportion when latency grows past tolerance × baseline, never below half', async () => {
    const { l } = limiter({ initial: 40 });
    await fullWindow(l, 20); // baseline 20 ms; 40 → 64 (max)
    expect(l.limit).toBe(64);
    await fullWindow(l, 30); // 1.5 × baseline: still within tolerance
    expect(l.limit).toBe(64);
    await fullWindow(l, 40); // allowed 30 ms / 40 ms
    expect(l.limit).toBe(48);
    await fullWindow(l, 200); // far over: halved, not cut to 15%
    expect(l.limit).toBe(24);
    await fullWindow(l, 20);
    expect(l.limit).toBe(25); // the cuts ended slow start
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
    await fullWindow(l, 50); // cut to the minimum
    expect(l.limit).toBe(2);
    await fullWindow(l, 50); // as slow at the minimum: 50 ms is the API's latency now
    expect(l.limit).toBe(2);
    await fullWindow(l, 50);
    expect(l.limit).toBe(3);
  });

  it('restart() returns to slow start at the initial window and lets waiting calls go only that many at a time', async () => {
    const { l } = limiter({ initial: 4 });
    await fullWindow(l, 20);
    await fullWindow(l, 20);
    expect(l.limit).toBe(16);
    const before = await take(l, 16);
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
