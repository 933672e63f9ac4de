import { nextAttemptAt, type RetryPolicy } from '../../../src/retry/backoff';

const policy: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 10, deadlineMs: 24 * 3600_000 };
const T0 = 1_700_000_000_000;
const low = () => 0;
const high = () => 1;
const mid = () => 0.5;

describe('nextAttemptAt', () => {
  it('doubles the step each attempt, with half of it fixed and half random', () => {
    // step for attempt n is base * 2^(n-1); delay in [step/2, step]
    for (let attempt = 1; attempt <= 6; attempt++) {
      const step = 1000 * 2 ** (attempt - 1);
      expect(nextAttemptAt(policy, attempt, T0, T0, low)).toBe(T0 + step / 2);
      expect(nextAttemptAt(policy, attempt, T0, T0, high)).toBe(T0 + step);
      expect(nextAttemptAt(policy, attempt, T0, T0, mid)).toBe(T0 + Math.round((3 * step) / 4));
    }
  });

  it('counts from now, not from the first attempt', () => {
    expect(nextAttemptAt(policy, 2, T0, T0 + 5000, low)).toBe(T0 + 5000 + 1000);
  });

  it('caps the step at maxDelayMs', () => {
    expect(nextAttemptAt(policy, 7, T0, T0, high)).toBe(T0 + 60_000); // 64 s capped
    expect(nextAttemptAt(policy, 9, T0, T0, low)).toBe(T0 + 30_000);
    expect(nextAttemptAt({ ...policy, maxAttempts: 1000 }, 500, T0, T0, high)).toBe(T0 + 60_000);
  });

  it('stays within [step/2, step] with the real random source', () => {
    for (let i = 0; i < 200; i++) {
      const due = nextAttemptAt(policy, 3, T0, T0)!;
      expect(due - T0).toBeGreaterThanOrEqual(2000);
      expect(due - T0).toBeLessThanOrEqual(4000);
    }
  });

  it('returns integers', () => {
    const due = nextAttemptAt({ ...policy, baseDelayMs: 333 }, 1, T0, T0, () => 0.123);
    expect(Number.isInteger(due)).toBe(true);
  });

  it('is undefined once maxAttempts calls were made', () => {
    expect(nextAttemptAt(policy, 9, T0, T0, low)).toBeDefined();
    expect(nextAttemptAt(policy, 10, T0, T0, low)).toBeUndefined();
    expect(nextAttemptAt(policy, 11, T0, T0, low)).toBeUndefined();
    expect(nextAttemptAt({ ...policy, maxAttempts: 1 }, 1, T0, T0, low)).toBeUndefined();
  });

  it('is undefined when the next attempt would start past the deadline', () => {
    const p = { ...policy, deadlineMs: 10_000 };
    // now = T0 + 9000, step 1000 → due T0 + 9500..10000: within the deadline
    expect(nextAttemptAt(p, 1, T0, T0 + 9000, low)).toBe(T0 + 9500);
    expect(nextAttemptAt(p, 1, T0, T0 + 9000, high)).toBe(T0 + 10_000);
    // due T0 + 10001 is past it
    expect(nextAttemptAt(p, 1, T0, T0 + 9001, high)).toBeUndefined();
    expect(nextAttemptAt(p, 2, T0, T0 + 20_000, low)).toBeUndefined();
  });
});
