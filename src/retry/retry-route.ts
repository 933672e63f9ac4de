import type { KafkaMessage } from 'kafkajs';
import type { RetryPolicy } from './backoff';
import { readRetrySchedule } from './retry-headers';
import { latestDueIn, tierCovering, type RetryTier } from './tiers';

/** What to do with a record read from a retry topic, now. */
export type RetryRoute =
  /** Due: call again, as this attempt. */
  | { kind: 'call'; attempt: number; firstAttemptAt: number; dueAt: number }
  /** A tier's record not due yet: nothing behind it is due sooner, so the partition waits. */
  | { kind: 'wait'; dueAt: number }
  /** Not due and not where it can wait: move it to the tier it belongs in. */
  | { kind: 'forward'; tier: RetryTier }
  | { kind: 'invalid' };

/**
 * `tier` is the tier the record was read from, undefined for the single retry topic of earlier
 * releases (whose records are in no due order, so none may wait there). A record due later than
 * its tier can hold (the single topic's, or one beyond the longest tier) is held for one tier
 * delay from when it was written, in log order like the rest, then moved on. A due time beyond
 * the retry deadline is held to the deadline: no record pins its partition for longer.
 */
export function routeRetry(
  message: Pick<KafkaMessage, 'headers' | 'timestamp'>,
  tier: RetryTier | undefined,
  policy: Pick<RetryPolicy, 'deadlineMs'>,
  tiers: readonly RetryTier[],
  now: number,
): RetryRoute {
  const schedule = readRetrySchedule(message.headers);
  if (!schedule) return { kind: 'invalid' };
  const dueAt = Math.min(schedule.dueAt, schedule.firstAttemptAt + policy.deadlineMs);
  if (dueAt <= now) return { kind: 'call', attempt: schedule.attempt, firstAttemptAt: schedule.firstAttemptAt, dueAt };
  if (tier && dueAt <= latestDueIn(tier, now)) return { kind: 'wait', dueAt };
  const heldUntil = Number(message.timestamp) + (tier?.delayMs ?? 0);
  if (tier && heldUntil > now) return { kind: 'wait', dueAt: heldUntil };
  return { kind: 'forward', tier: tierCovering(tiers, dueAt - now) };
}
