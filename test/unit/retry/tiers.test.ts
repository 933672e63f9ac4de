import { retryHeaders } from '../../../src/retry/retry-headers';
import { routeRetry } from '../../../src/retry/retry-route';
import { latestDueIn, parseTiers, placeRetry, tierCovering, tierFor } from '../../../src/retry/tiers';

const tiers = parseTiers('1s,5s,30s,2m,5m', 'p.retry');
const [t1s, t5s, t30s, t2m, t5m] = tiers;
const NOW = 1_700_000_000_000;
const policy = { deadlineMs: 24 * 3600_000 };
const record = (dueAt: number, writtenAt = NOW, firstAttemptAt = NOW - 60_000) => ({ headers: retryHeaders({ attempt: 3, dueAt, firstAttemptAt }), timestamp: String(writtenAt) });

describe('parseTiers', () => {
  it('reads units and names each tier topic after the retry topic', () => {
    expect(parseTiers('250ms,1s,2m,1h', 't.retry')).toEqual([
      { label: '250ms', delayMs: 250, topic: 't.retry.250ms' },
      { label: '1s', delayMs: 1000, topic: 't.retry.1s' },
      { label: '2m', delayMs: 120_000, topic: 't.retry.2m' },
      { label: '1h', delayMs: 3_600_000, topic: 't.retry.1h' },
    ]);
  });

  it('lists every problem at once', () => {
    expect(() => parseTiers('5s,1s,x,0s', 't')).toThrow('"x" is not a delay like 500ms, 5s, 2m or 1h; "0s" is not a delay like 500ms, 5s, 2m or 1h; tiers must be strictly ascending (5s then 1s)');
  });
});

describe('placing a retry', () => {
  it('goes to the tier nearest its backoff delay on a log scale', () => {
    expect([0.4, 1.5, 3, 12, 24, 600].map((s) => tierFor(tiers, s * 1000).label)).toEqual(['1s', '1s', '5s', '5s', '30s', '5m']);
  });

  it("is due its tier's delay after now, plus at most 10% jitter", () => {
    expect(placeRetry(tiers, NOW + 3000, NOW, () => 0)).toEqual({ tier: t5s, dueAt: NOW + 5000 });
    expect(placeRetry(tiers, NOW + 3000, NOW, () => 0.999).dueAt).toBe(NOW + 5500);
  });
});

describe('routeRetry', () => {
  it('calls a due record, with the attempt and first attempt from its headers', () => {
    expect(routeRetry(record(NOW - 5), t5s, policy, tiers, NOW)).toEqual({ kind: 'call', attempt: 3, firstAttemptAt: NOW - 60_000, dueAt: NOW - 5 });
  });

  it('waits in a tier for a record due within what the tier holds', () => {
    expect(routeRetry(record(NOW + 5400), t5s, policy, tiers, NOW)).toEqual({ kind: 'wait', dueAt: NOW + 5400 });
    expect(latestDueIn(t5s, NOW)).toBe(NOW + 6500);
  });

  it('holds a record due beyond its tier for one tier delay from when it was written, then moves it on', () => {
    const far = record(NOW + 3_600_000, NOW - 1000);
    expect(routeRetry(far, t5m, policy, tiers, NOW)).toEqual({ kind: 'wait', dueAt: NOW - 1000 + 300_000 });
    expect(routeRetry(far, t5m, policy, tiers, NOW + 299_000)).toEqual({ kind: 'forward', tier: t5m });
  });

  it('moves a not-yet-due record of the single retry topic to the shortest tier that can hold it', () => {
    expect(routeRetry(record(NOW + 1500), undefined, policy, tiers, NOW)).toEqual({ kind: 'forward', tier: t1s });
    expect(routeRetry(record(NOW + 20_000), undefined, policy, tiers, NOW)).toEqual({ kind: 'forward', tier: t30s });
    expect(routeRetry(record(NOW + 100_000), undefined, policy, tiers, NOW)).toEqual({ kind: 'forward', tier: t2m });
    expect(routeRetry(record(NOW + 10 * 3_600_000), undefined, policy, tiers, NOW)).toEqual({ kind: 'forward', tier: t5m });
  });

  it('never forwards a record to a tier that would forward it straight back', () => {
    for (let remaining = 1; remaining < 400_000; remaining += 997) {
      const tier = tierCovering(tiers, remaining);
      const again = routeRetry(record(NOW + remaining, NOW), tier, policy, tiers, NOW);
      expect(again.kind).toBe('wait');
    }
  });

  it('holds a due time past the retry deadline to the deadline', () => {
    const pinned = record(NOW + 2 ** 45, NOW, NOW - 1000);
    expect(routeRetry(pinned, t30s, { deadlineMs: 10_000 }, tiers, NOW)).toEqual({ kind: 'wait', dueAt: NOW + 9000 });
    expect(routeRetry(pinned, t30s, { deadlineMs: 10_000 }, tiers, NOW + 9000).kind).toBe('call');
  });

  it('sends a record without valid retry headers nowhere but the DLQ', () => {
    expect(routeRetry({ headers: {}, timestamp: String(NOW) }, t1s, policy, tiers, NOW)).toEqual({ kind: 'invalid' });
  });
});
