import { loadConfig } from '../../../src/config/config';
import { valid } from '../config/valid-env';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '../../../src/pipeline/circuit-breaker';

const OPTIONS: CircuitBreakerOptions = { windowSize: 10, minCalls: 4, faultRatio: 0.5, openMs: 1000, maxOpenMs: 5000, haltProbeMs: 3000 };

function breaker(options: CircuitBreakerOptions = OPTIONS) {
  const changes: CircuitState[] = [];
  const b = new CircuitBreaker(options, (state) => changes.push(state));
  return { b, changes };
}

/** Starts an admit and tracks whether it resolved. */
function admitting(b: CircuitBreaker) {
  const tracker = { admitted: false, promise: undefined as unknown as Promise<void> };
  tracker.promise = b.admit().then(() => {
    tracker.admitted = true;
  });
  return tracker;
}

/** Opens the breaker with minCalls faults. */
function trip(b: CircuitBreaker, options: CircuitBreakerOptions = OPTIONS): void {
  for (let i = 0; i < options.minCalls; i++) b.record(true);
}

describe('CircuitBreaker', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts closed and admits at once', async () => {
    const { b } = breaker();
    expect(b.state).toBe('closed');
    const t = admitting(b);
    await jest.advanceTimersByTimeAsync(0);
    expect(t.admitted).toBe(true);
  });

  it('has sane defaults', () => {
    const { breaker: defaults } = loadConfig(valid);
    expect(defaults.minCalls).toBeLessThanOrEqual(defaults.windowSize);
    expect(defaults.openMs).toBeLessThanOrEqual(defaults.maxOpenMs);
    expect(new CircuitBreaker({ ...defaults, haltProbeMs: 30_000 }).state).toBe('closed');
  });

  it('gives no verdict before minCalls, however many faults', () => {
    const { b, changes } = breaker();
    for (let i = 0; i < OPTIONS.minCalls - 1; i++) b.record(true);
    expect(b.state).toBe('closed');
    expect(changes).toEqual([]);
    b.record(true);
    expect(b.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('opens when the fault share reaches the ratio, not below it', () => {
    const { b } = breaker();
    b.record(false);
    b.record(false);
    b.record(true);
    b.record(false); // 1/4
    expect(b.state).toBe('closed');
    b.record(true); // 2/5 < 0.5
    expect(b.state).toBe('closed');
    b.record(true); // 3/6 = 0.5
    expect(b.state).toBe('open');
  });

  it('judges only the last windowSize calls', () => {
    const { b: sliding } = breaker({ ...OPTIONS, windowSize: 4, minCalls: 4, faultRatio: 0.75 });
    sliding.record(true);
    sliding.record(false);
    sliding.record(false);
    sliding.record(false); // [T,F,F,F] 1/4
    sliding.record(true); // [F,F,F,T] 1/4: the first fault slid out
    sliding.record(true); // [F,F,T,T] 2/4
    expect(sliding.state).toBe('closed');
    sliding.record(true); // [F,T,T,T] 3/4
    expect(sliding.state).toBe('open');
  });

  it('does not count faults that slid out of the window', () => {
    const { b } = breaker({ ...OPTIONS, windowSize: 4, minCalls: 4, faultRatio: 0.5 });
    b.record(true);
    b.record(false);
    b.record(false);
    b.record(false); // 1/4
    for (let i = 0; i < 20; i++) b.record(false);
    b.record(true); // 1/4 again: the old fault must have been forgotten
    expect(b.state).toBe('closed');
    b.record(true); // 2/4
    expect(b.state).toBe('open');
  });

  it('makes admit wait while open, then lets exactly one probe through when half-open', async () => {
    const { b, changes } = breaker();
    trip(b);
    const waiting = [admitting(b), admitting(b), admitting(b)];
    await jest.advanceTimersByTimeAsync(999);
    expect(b.state).toBe('open');
    expect(waiting.filter((t) => t.admitted)).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(b.state).toBe('half-open');
    expect(changes).toEqual(['open', 'half-open']);
    expect(waiting.filter((t) => t.admitted)).toHaveLength(1);
    expect(waiting[0].admitted).toBe(true);
    // A newcomer waits too while the probe is out.
    const late = admitting(b);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(late.admitted).toBe(false);
    expect(waiting.filter((t) => t.admitted)).toHaveLength(1);
  });

  it('closes on a successful probe and releases everyone waiting', async () => {
    const { b, changes } = breaker();
    trip(b);
    const waiting = [admitting(b), admitting(b), admitting(b)];
    await jest.advanceTimersByTimeAsync(1000);
    b.record(false, true); // the probe's result
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
    await Promise.all(waiting.map((t) => t.promise));
    expect(waiting.every((t) => t.admitted)).toBe(true);
  });

  it('starts a fresh window after closing', async () => {
    const { b } = breaker();
    trip(b);
    await jest.advanceTimersByTimeAsync(1000);
    await b.admit();
    b.record(false, true);
    expect(b.state).toBe('closed');
    // The faults from before are gone: minCalls-1 new faults give no verdict.
    for (let i = 0; i < OPTIONS.minCalls - 1; i++) b.record(true);
    expect(b.state).toBe('closed');
    b.record(true);
    expect(b.state).toBe('open');
  });

  it('reopens on a failed probe with double the pause, capped at maxOpenMs', async () => {
    const { b, changes } = breaker();
    trip(b);
    const expected = [1000, 2000, 4000, 5000, 5000];
    for (const pause of expected) {
      expect(b.state).toBe('open');
      const probe = admitting(b);
      await jest.advanceTimersByTimeAsync(pause - 1);
      expect(probe.admitted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(probe.admitted).toBe(true);
      expect(b.state).toBe('half-open');
      b.record(true, true); // probe failed
    }
    expect(b.state).toBe('open');
    expect(changes.filter((s) => s === 'open')).toHaveLength(expected.length + 1);
  });

  it('resets the pause to openMs after closing', async () => {
    const { b } = breaker();
    trip(b);
    await jest.advanceTimersByTimeAsync(1000);
    await b.admit();
    b.record(true, true); // failed probe: next pause 2000
    await jest.advanceTimersByTimeAsync(2000);
    await b.admit();
    b.record(false, true); // closes
    trip(b);
    const probe = admitting(b);
    await jest.advanceTimersByTimeAsync(1000);
    expect(probe.admitted).toBe(true);
  });

  it('dispose clears the half-open timer', () => {
    const { b } = breaker();
    trip(b);
    expect(jest.getTimerCount()).toBe(1);
    b.dispose();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('lets only the probe decide a half-open circuit; a late result of an older call does not', async () => {
    const { b } = breaker();
    trip(b);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await b.admit()).toBe(true);
    b.record(false); // a call admitted before the circuit opened answers late
    expect(b.state).toBe('half-open');
    b.record(false, true);
    expect(b.state).toBe('closed');
  });

  it('releases waiting calls on dispose', async () => {
    const { b } = breaker();
    trip(b);
    const waiting = admitting(b);
    b.dispose();
    await waiting.promise;
    expect(waiting.admitted).toBe(true);
  });

  describe('halted (the vendor refused the merchant configuration)', () => {
    it('stops every call at once, without waiting for a window of faults', async () => {
      const { b, changes } = breaker();
      expect(b.halt()).toBe(true);
      expect(changes).toEqual(['halted']);
      const waiting = admitting(b);
      await jest.advanceTimersByTimeAsync(2999);
      expect(waiting.admitted).toBe(false);
    });

    it('probes once per haltProbeMs, a refused probe halts again without starting a new halt, and a probe answered normally closes', async () => {
      const { b, changes } = breaker();
      b.halt();
      const a = admitting(b);
      const c = admitting(b);
      await jest.advanceTimersByTimeAsync(3000);
      expect(b.state).toBe('half-open');
      expect(a.admitted).toBe(true);
      expect(c.admitted).toBe(false);
      expect(b.halt(true)).toBe(false);
      expect(b.state).toBe('halted');
      await jest.advanceTimersByTimeAsync(2999);
      expect(c.admitted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(c.admitted).toBe(true);
      b.record(false, true);
      expect(b.state).toBe('closed');
      expect(changes).toEqual(['halted', 'half-open', 'halted', 'half-open', 'closed']);
      // A later refusal is a new halt (logged again).
      expect(b.halt()).toBe(true);
    });

    it('ignores late answers of calls sent before the halt', async () => {
      const { b } = breaker();
      b.halt();
      b.record(false);
      b.record(true);
      expect(b.state).toBe('halted');
    });

    it('a transport fault on the probe opens the circuit as an outage does', async () => {
      const { b } = breaker();
      b.halt();
      await jest.advanceTimersByTimeAsync(3000);
      expect(await b.admit()).toBe(true);
      b.record(true, true);
      expect(b.state).toBe('open');
    });
  });
});
