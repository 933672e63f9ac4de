/**
 * The capture API call rate as the sandbox counts it, one sample a second, and the two readings
 * the vendor cares about: the peak after an outage against the steady rate before it, and how
 * close to a rate limit the worker runs (bench/recovery.ts, bench/rate-limit.ts, and
 * test/integration/worker/rate-limit.test.ts).
 */
import type { SecondCounts } from '../../tools/sandbox/store';
import { median } from './report';
import { every } from './sampler';

/** One wall-clock second as the sandbox counted it. */
export interface RateSample {
  /** Seconds since the sampler started: the sample is the second [t, t + 1). */
  t: number;
  calls: number;
  captures: number;
  rateLimited: number;
  /** False when the sandbox did not answer in that second (down). */
  up: boolean;
  /** The worker's capture_api_concurrency_limit, when it is read. */
  limit?: number;
}

/**
 * Reads the sandbox's per-second counts every second and keeps them: a sandbox that is killed
 * and started again loses its counts, so they are collected while it lives.
 */
export class CallRateSampler {
  private readonly counts = new Map<number, SecondCounts>();
  private readonly down = new Set<number>();
  private readonly limits = new Map<number, number>();
  private readonly startSecond = Math.floor(Date.now() / 1000);
  private readonly timer: { stop(): void };

  constructor(
    private readonly read: () => Promise<SecondCounts[] | null>,
    private readonly readLimit: () => Promise<number | undefined> = () => Promise.resolve(undefined),
  ) {
    this.timer = every(1000, () => this.sample());
  }

  /** Seconds since the sampler started, on the samples' scale. */
  now(): number {
    return Date.now() / 1000 - this.startSecond;
  }

  /** Every complete second so far. */
  get samples(): RateSample[] {
    const samples: RateSample[] = [];
    for (let second = this.startSecond; second < Math.floor(Date.now() / 1000); second++) {
      const counts = this.counts.get(second);
      const limit = this.limits.get(second);
      samples.push({
        t: second - this.startSecond,
        calls: counts?.calls ?? 0,
        captures: counts?.captures ?? 0,
        rateLimited: counts?.rateLimited ?? 0,
        up: !this.down.has(second),
        ...(limit !== undefined && { limit }),
      });
    }
    return samples;
  }

  stop(): void {
    this.timer.stop();
  }

  private async sample(): Promise<void> {
    const second = Math.floor(Date.now() / 1000);
    const [seconds, limit] = await Promise.all([this.read(), this.readLimit()]);
    if (!seconds) this.down.add(second);
    // A later read of a second has counted more of it.
    for (const counts of seconds ?? []) this.counts.set(counts.second, counts);
    if (limit !== undefined) this.limits.set(second, limit);
  }
}

export interface RecoveryReading {
  /** Median calls/s over the steady seconds before the outage. */
  steadyPerSec: number;
  /** Highest calls/s in the seconds after the sandbox was back, and when. */
  peakPerSec: number;
  peakAt: number;
  ratio: number;
}

/** `steady` and `after` are seconds [from, to) of the sampler. */
export function recoveryReading(samples: RateSample[], steady: [number, number], after: [number, number]): RecoveryReading {
  const within = ([from, to]: [number, number]) => samples.filter((s) => s.t >= from && s.t < to);
  const steadyPerSec = median(within(steady).map((s) => s.calls));
  const peak = within(after).reduce<Pick<RateSample, 't' | 'calls'>>((m, s) => (s.calls > m.calls ? s : m), { t: NaN, calls: 0 });
  return { steadyPerSec, peakPerSec: peak.calls, peakAt: peak.t, ratio: peak.calls / steadyPerSec };
}

export interface RateLimitReading {
  seconds: number;
  callsPerSec: number;
  capturesPerSec: number;
  /** Rate-limited answers among all calls. */
  rateLimitedShare: number;
  /** Captures per second over the capacity. */
  ofCapacity: number;
}

/** Over the sampler's seconds [from, to), against a capacity in calls per second. */
export function rateLimitReading(samples: RateSample[], [from, to]: [number, number], capacityPerSec: number): RateLimitReading {
  const within = samples.filter((s) => s.t >= from && s.t < to);
  const mean = (key: 'calls' | 'captures' | 'rateLimited'): number => within.reduce((total, s) => total + s[key], 0) / within.length;
  return {
    seconds: within.length,
    callsPerSec: mean('calls'),
    capturesPerSec: mean('captures'),
    rateLimitedShare: mean('rateLimited') / mean('calls'),
    ofCapacity: mean('captures') / capacityPerSec,
  };
}

/** The per-second table, as lines. */
export function rateLines(samples: RateSample[], [from, to]: [number, number] = [-Infinity, Infinity]): string[] {
  const lines = ['    t s  sandbox  calls/s  captures/s  rate-limited/s  concurrency limit'];
  for (const s of samples.filter((x) => x.t >= from && x.t <= to)) {
    lines.push(
      `  ${String(s.t).padStart(5)}  ${(s.up ? 'up' : 'DOWN').padEnd(7)}  ${String(s.calls).padStart(7)}  ${String(s.captures).padStart(10)}  ${String(s.rateLimited).padStart(14)}  ${String(s.limit ?? '–').padStart(17)}`,
    );
  }
  return lines;
}
