export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total API calls allowed for one request, the first included. */
  maxAttempts: number;
  /** No attempt starts later than this after the first one. */
  deadlineMs: number;
}

/**
 * When the next attempt after `attempt` (1-based) is due, or undefined when attempts or the
 * deadline are used up. Exponential with "equal jitter": half the delay is fixed, half random,
 * so a burst of unknowns spreads out without any retry coming back sooner than half its step.
 */
export function nextAttemptAt(policy: RetryPolicy, attempt: number, firstAttemptAt: number, now: number, random: () => number = Math.random): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const due = now + Math.round(step / 2 + random() * (step / 2));
  return due - firstAttemptAt > policy.deadlineMs ? undefined : due;
}
