/**
 * The capture API call rate as the sandbox counts it, one sample a second, and the two readings
 * the vendor cares about: the peak after an outage against the steady rate before it, and how
 * close to a rate limit the worker runs (bench/recovery.ts, bench/rate-limit.ts, and
 * test/integration/worker/rate-limit.test.ts).
 */
import type { SandboxTotals } from '../../src/sandbox/store';

/** Per second, over the interval since the sample before (about a second; longer on a busy machine). */
export interface RateSample {
  /** Seconds since the sampler started, at the end of the interval. */
  t: number;
  calls: number;
  captures: number;
  rateLimited: number;
  /** False while the sandbox did not answer (down). */
  up: boolean;
}

type Counters = Pick<SandboxTotals, 'calls' | 'captures' | 'rateLimited'>;

/** Samples `read` every second; a restarted sandbox (counters back near 0) is counted from 0. */
export class CallRateSampler {
  readonly samples: RateSample[] = [];
  private previous: Counters = { calls: 0, captures: 0, rateLimited: 0 };
  private readonly startedAt = Date.now();
  private previousAt = this.startedAt;
  private readonly timer: NodeJS.Timeout;
  private reading = false;

  constructor(private readonly read: () => Promise<Counters | null>) {
    this.timer = setInterval(() => void this.sample(), 1000);
  }

  /** Seconds since the sampler started. */
  now(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const current = await this.read();
      const at = Date.now();
      const t = Math.round((at - this.startedAt) / 100) / 10;
      const seconds = (at - this.previousAt) / 1000;
      this.previousAt = at;
      if (!current) {
        this.samples.push({ t, calls: 0, captures: 0, rateLimited: 0, up: false });
        return;
      }
      const restarted = current.calls < this.previous.calls;
      const perSec = (key: keyof Counters): number => Math.round((current[key] - (restarted ? 0 : this.previous[key])) / seconds);
      this.samples.push({ t, calls: perSec('calls'), captures: perSec('captures'), rateLimited: perSec('rateLimited'), up: true });
      this.previous = current;
    } finally {
      this.reading = false;
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
}

export interface RecoveryReading {
  /** Median calls/s over the steady seconds before the outage. */
  steadyPerSec: number;
  /** Highest calls/s in the seconds after the sandbox was back, and when. */
  peakPerSec: number;
  peakAt: number;
  ratio: number;
}

/** `steady` and `after` are [from, to] in sampler seconds. */
export function recoveryReading(samples: RateSample[], steady: [number, number], after: [number, number]): RecoveryReading {
  const within = ([from, to]: [number, number]) => samples.filter((s) => s.t > from && s.t <= to);
  const steadyPerSec = median(within(steady).map((s) => s.calls));
  const peak = within(after).reduce((m, s) => (s.calls > m.calls ? s : m), { t: NaN, calls: 0 } as Pick<RateSample, 't' | 'calls'>);
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

/** The seconds (from, to] in sampler seconds, against a capacity in calls per second. */
export function rateLimitReading(samples: RateSample[], [from, to]: [number, number], capacityPerSec: number): RateLimitReading {
  const within = samples.filter((s) => s.t > from && s.t <= to);
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
  const lines = ['    t s  sandbox  calls/s  captures/s  rate-limited/s'];
  for (const s of samples.filter((x) => x.t >= from && x.t <= to)) {
    lines.push(`  ${s.t.toFixed(1).padStart(5)}  ${(s.up ? 'up' : 'DOWN').padEnd(7)}  ${String(s.calls).padStart(7)}  ${String(s.captures).padStart(10)}  ${String(s.rateLimited).padStart(14)}`);
  }
  return lines;
}
