import type { CaptureResult } from '../../../src/api/types';
import { ConcurrencyLimiter, signalOf, type CallSignal, type LimiterClock, type LimiterOptions, type Release } from '../../../src/pipeline/concurrency-limiter';

const OPTIONS: LimiterOptions = { min: 2, initial: 4, max: 64, latencyTolerance: 1.5 };

/** Time that moves only when told to, with the timers due by then. */
class FakeClock implements LimiterClock {
  private t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void }> = [];
  readonly now = (): number => this.t;
  readonly after = (ms: number, fn: () => void): void => void this.timers.push({ at: this.t + ms, fn });

  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((timer) => timer.at <= this.t);
    this.timers = this.timers.filter((timer) => timer.at > this.t);
    for (const timer of due) timer.fn();
  }
}

function limiter(options: Partial<LimiterOptions> = {}) {
  const limits: number[] = [];
  const clock = new FakeClock();
  const l = new ConcurrencyLimiter({ ...OPTIONS, ...options }, ({ limit }) => limits.push(limit), clock);
  return { l, limits, clock };
}

function take(l: ConcurrencyLimiter, n: number): Promise<Release[]> {
  return Promise.all(Array.from({ length: n }, () => l.acquire()));
}

/** One judged window (max(limit, 10) answers), sent `limit` at a time so every batch fills the limit. */
async function fullWindow(l: ConcurrencyLimiter, latencyMs: number, clock = new FakeClock()): Promise<void> {
  for (let left = Math.max(10, l.limit); left > 0;) {
    const batch = Math.min(left, l.limit);
    await answered(l, clock, batch, latencyMs);
    left -= batch;
  }
}

/** `n` calls at once (n ≤ limit), answered after `latencyMs` on the clock. */
async function answered(l: ConcurrencyLimiter, clock: FakeClock, n: number, latencyMs: number): Promise<void> {
  const releases = await take(l, n);
  clock.advance(latencyMs);
  for (const release of releases) release('ok', latencyMs);
}

/** An API answering every call `latencyMs` after it went out, on a clock moved 5 ms at a time. */
class Api {
  private readonly out: Array<{ at: number; release: Release }> = [];

  constructor(
    private readonly l: ConcurrencyLimiter,
    private readonly clock: FakeClock,
    private readonly latencyMs: number,
  ) {}

  /**
   * `calls` more calls arrive at once (and `trickle` more every 50 ms), then `forMs` pass;
   * returns when the calls that went out meanwhile did.
   */
  async serve(calls: number, forMs: number, trickle = 0): Promise<number[]> {
    const sent: number[] = [];
    const arrive = (n: number): void => {
      for (let i = 0; i < n; i++) {
        void this.l.acquire().then((release) => {
          sent.push(this.clock.now());
          this.out.push({ at: this.clock.now(), release });
        });
      }
    };
    arrive(calls);
    for (let step = 1, end = this.clock.now() + forMs; this.clock.now() < end; step++) {
      await flush();
      this.clock.advance(5);
      if (step % 10 === 0) arrive(trickle);
      for (const call of this.out.filter((c) => this.clock.now() - c.at >= this.latencyMs)) {
        this.out.splice(this.out.indexOf(call), 1);
        call.release('ok', this.latencyMs);
      }
    }
    await flush();
    return sent;
  }
}

/** The most calls sent in any 1-second span. */
function busiestSecond(sent: number[]): number {
  let most = 0;
  for (let first = 0, last = 0; last < sent.length; last++) {
    while (sent[last] - sent[first] >= 1000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
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
    first[0]('ok', 10);
    await flush();
    expect(fifth.release).toBeDefined();
    expect(sixth.release).toBeUndefined();
    expect(l.inUse).toBe(4);
  });

  it('a release counts once, and an ignored one only frees its slot', async () => {
    const { l } = limiter();
    const [release] = await take(l, 1);
    release('fault', 10);
    release('fault', 10);
    expect([l.inUse, l.limit]).toEqual([0, 2]);
    const [ignored] = await take(l, 1);
    ignored('ignore', 0);
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
    sentBefore[0]('fault', 5);
    expect(l.limit).toBe(16);
    for (const release of sentBefore.slice(1)) release('fault', 5);
    expect(l.limit).toBe(16);
    const [sentAfter] = await take(l, 1);
    sentAfter('fault', 5);
    expect(l.limit).toBe(8);
  });

  it('a rate-limit answer paces calls at 95% of those the vendor accepted in the last second; its refusals of the next two seconds cut nothing more', async () => {
    const { l, clock } = limiter({ initial: 32 });
    for (let i = 0; i < 10; i++) await answered(l, clock, 16, 100); // 160 accepted in the last second
    expect(l.pacePerSec).toBeUndefined();
    const refused = await take(l, 3);
    refused[0]('rate-limited', 10);
    expect(l.pacePerSec).toBe(152);
    expect(l.limit).toBe(32); // a rate, not fewer calls at a time
    clock.advance(1900);
    refused[1]('rate-limited', 10);
    expect(l.pacePerSec).toBe(152);
    clock.advance(100); // two seconds on, a refusal means the pace is still too high
    refused[2]('rate-limited', 10);
    expect(l.pacePerSec).toBe(1); // nothing was accepted in the last second: the least pace there is
  });

  it('a pace lets that many calls go in any second, and rises 2% a second while it holds calls back', async () => {
    const { l, clock } = limiter({ initial: 32 });
    for (let i = 0; i < 10; i++) await answered(l, clock, 16, 100);
    (await l.acquire())('rate-limited', 10);
    const api = new Api(l, clock, 100);
    const sent = await api.serve(600, 3000);
    expect(busiestSecond(sent.filter((t) => t < sent[0] + 1000))).toBeLessThanOrEqual(152);
    expect(l.pacePerSec).toBe(161); // 152 → 155 → 158 → 161
    expect(busiestSecond(sent)).toBeLessThanOrEqual(161);
  });

  it('shrinks in proportion when latency grows past tolerance × baseline, at most 20% a window', async () => {
    const { l } = limiter({ initial: 40 });
    await fullWindow(l, 20); // baseline 20 ms; 40 → 64 (max)
    expect(l.limit).toBe(64);
    await fullWindow(l, 30); // 1.5 × baseline: still within tolerance
    expect(l.limit).toBe(64);
    await fullWindow(l, 36); // allowed 1.5 × 20.5 ms (the 30 ms window moved the baseline a little) of 36
    expect(l.limit).toBe(54);
    await fullWindow(l, 200); // far over, or this process paused: 20% off, not 85%
    expect(l.limit).toBe(43);
    await fullWindow(l, 20);
    expect(l.limit).toBe(44); // the cuts ended slow start
  });

  it('stays within [min, max]', async () => {
    const { l } = limiter({ initial: 3, max: 5 });
    for (let i = 0; i < 5; i++) (await l.acquire())('fault', 1);
    expect(l.limit).toBe(2);
    for (let i = 0; i < 5; i++) await fullWindow(l, 20);
    expect(l.limit).toBe(5);
  });

  it('follows a latency that is higher for good: the limit stops shrinking and grows again', async () => {
    const { l, limits } = limiter({ initial: 8 });
    for (let i = 0; i < 3; i++) await fullWindow(l, 10);
    expect(l.limit).toBe(64);
    const before = limits.length;
    for (let i = 0; i < 60; i++) await fullWindow(l, 40); // four times slower from now on
    const after = limits.slice(before);
    expect(Math.min(...after)).toBe(2);
    expect(l.limit).toBeGreaterThan(10);
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

  it('after an outage calls go out at most at 1.6 × the steady rate in any second, until the backlog is gone', async () => {
    const { l, clock } = limiter({ initial: 10 });
    for (let i = 0; i < 80; i++) await answered(l, clock, 4, 100); // steady: 40 calls/s
    const outage = await take(l, 4);
    for (const release of outage) release('fault', 1);
    clock.advance(3000); // 3 s of calls wait: at 64/s they drain in 5 s
    l.restart();
    const api = new Api(l, clock, 50);
    // A pipeline that stalls leaves no call waiting and few calls going out: not drained yet.
    await api.serve(0, 1000, 2);
    const recovering = await api.serve(300, 3000);
    expect(busiestSecond(recovering)).toBeLessThanOrEqual(64);
    expect(recovering.length).toBeGreaterThanOrEqual(180); // it drains at that pace, not slower
    // Calls arriving at 60/s leave none waiting now and then, but that is still the backlog's rate, not the steady one.
    await api.serve(0, 3000, 3);
    expect(busiestSecond(await api.serve(200, 1000))).toBeLessThanOrEqual(64);
    // A second outage during the recovery keeps its pace, for as long as everything since the steady traffic takes to drain.
    l.restart();
    expect(busiestSecond(await api.serve(100, 2000))).toBeLessThanOrEqual(64);
    // The backlog gone, steady calls again (40/s): the pace ends.
    await api.serve(0, 25_000, 2);
    expect(busiestSecond(await api.serve(400, 1000))).toBeGreaterThan(150);
  });

  it('a restart of an instance that never judged a window does not pace calls', async () => {
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
