/**
 * Retry tiers: one delay topic per backoff step (`<TOPIC_RETRY>.<label>`, e.g. `.5s`). A retry is
 * written to the tier nearest its backoff delay and is due that tier's delay after it was written
 * (plus a little jitter), so each tier partition holds its records in (nearly) due order: the
 * worker reads a tier partition only up to its first record not yet due and waits there, holding
 * nothing in memory, and a 1 s retry never waits behind a 5 min one.
 */
export interface RetryTier {
  label: string;
  delayMs: number;
  topic: string;
}

/** Spread within a tier, so an outage's burst of unknowns does not come back in one instant. */
export const TIER_JITTER = 0.1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1s,5s,30s,2m,5m` → tiers on `<retryTopic>.<label>`, ascending; throws with one message listing every problem. */
export function parseTiers(spec: string, retryTopic: string): RetryTier[] {
  const problems: string[] = [];
  const tiers: RetryTier[] = [];
  for (const label of spec.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(ms|s|m|h)$/.exec(label);
    const delayMs = m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
    if (!m || !(delayMs > 0)) problems.push(`"${label}" is not a delay like 500ms, 5s, 2m or 1h`);
    else tiers.push({ label, delayMs, topic: `${retryTopic}.${label}` });
  }
  for (let i = 1; i < tiers.length; i++) {
    if (tiers[i].delayMs <= tiers[i - 1].delayMs) problems.push(`tiers must be strictly ascending (${tiers[i - 1].label} then ${tiers[i].label})`);
  }
  if (tiers.length === 0 && problems.length === 0) problems.push('at least one tier is needed');
  if (problems.length > 0) throw new Error(problems.join('; '));
  return tiers;
}

/** The tier nearest `delayMs` on a log scale (a 3 s backoff goes to 5 s rather than 1 s). */
export function tierFor(tiers: readonly RetryTier[], delayMs: number): RetryTier {
  let best = tiers[0];
  for (const tier of tiers) {
    if (Math.abs(Math.log(tier.delayMs / Math.max(1, delayMs))) < Math.abs(Math.log(best.delayMs / Math.max(1, delayMs)))) best = tier;
  }
  return best;
}

/** Where and when a retry wanted at `desiredAt` goes: its tier, and its due time in that tier. */
export function placeRetry(tiers: readonly RetryTier[], desiredAt: number, now: number, random: () => number = Math.random): { tier: RetryTier; dueAt: number } {
  const tier = tierFor(tiers, desiredAt - now);
  return { tier, dueAt: now + Math.round(tier.delayMs * (1 + TIER_JITTER * random())) };
}

/** Latest a record read from `tier` may be due and still wait there: anything later was not written as this tier writes. */
export function latestDueIn(tier: RetryTier, now: number): number {
  return now + Math.ceil(tier.delayMs * (1 + TIER_JITTER)) + 1000;
}

/** The shortest tier a record due in `remainingMs` can wait in (the longest when none can: it then hops through it). */
export function tierCovering(tiers: readonly RetryTier[], remainingMs: number): RetryTier {
  return tiers.find((tier) => latestDueIn(tier, 0) >= remainingMs) ?? tiers[tiers.length - 1];
}
