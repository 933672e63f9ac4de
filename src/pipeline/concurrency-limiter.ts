import type { CaptureResult } from '../api/types';

/** The vendor's common answer for a merchant calling faster than its limit (status U). */
export const RATE_LIMIT_CODE = 'REQUEST_TRAFFIC_EXCEED_LIMIT';

/** What a finished call says about the API's load; `ignore` releases the slot and says nothing. */
export type CallSignal = 'ok' | 'fault' | 'rate-limited' | 'ignore';

/** Hands a slot back with what the call said and how long the call itself took (not the wait before it). */
export type Release = (signal: CallSignal, latencyMs: number) => void;

export interface LimiterOptions {
  min: number;
  /** The window of a new instance, and after the circuit closes again. */
  initial: number;
  max: number;
  /** A window's mean latency may reach this multiple of the baseline before the limit shrinks. */
  latencyTolerance: number;
}

// A transport fault is a strong signal (the API is down or drowning); a rate-limit answer says
// only "a little slower"; a latency cut is proportional to the overshoot, never below half.
const FAULT_BACKOFF = 0.5;
const RATE_LIMIT_BACKOFF = 0.9;
// Fewer samples than this make a latency mean too noisy to act on.
const MIN_WINDOW = 10;

/** Status U decided locally is a refused or reset connection, a timeout, a 5xx or an unreadable answer. */
export function signalOf(result: CaptureResult | undefined): CallSignal {
  if (result === undefined) return 'ignore'; // nothing was sent: the request could not be signed
  if (result.status === 'U' && result.local) return 'fault';
  return result.resultCode === RATE_LIMIT_CODE ? 'rate-limited' : 'ok';
}

/**
 * An adaptive limit on concurrent API calls: AIMD with a latency gradient, after TCP congestion
 * control and in the spirit of Netflix's concurrency-limits and Envoy's adaptive concurrency.
 *
 * - A transport fault halves the limit and a rate-limit answer takes 10% off, at once. Every
 *   decision starts a new epoch, and only calls sent in the current epoch count: the answers of
 *   calls sent under the old, larger limit cannot cut it again (one cut per round trip, as TCP).
 * - Otherwise the limit is judged once per window of max(limit, 10) answered calls, about one
 *   round trip: if their mean latency exceeds tolerance × baseline, the limit is scaled by
 *   (tolerance × baseline) / mean. The baseline is the lowest window mean seen; a window still
 *   too slow at the minimum limit becomes the baseline (the API is that slow at any load).
 * - A window within tolerance grows the limit if the window filled it (an idle limit proves
 *   nothing): doubling per window in slow start, +1 per window once a cut set ssthresh.
 * - A new instance, and restart() after an outage, begin in slow start at the initial window,
 *   so the calls waiting for the circuit go out a few at a time instead of all at once.
 *
 * Waiting calls are served in arrival order. The limit stays within [min, max].
 */
export class ConcurrencyLimiter {
  private value: number;
  private ssthresh = Infinity;
  private inFlight = 0;
  private epoch = 0;
  private window = { answered: 0, latencyMs: 0, peak: 0 };
  private baselineMs = Infinity;
  private readonly queue: Array<(release: Release) => void> = [];

  constructor(
    private readonly o: LimiterOptions,
    private readonly onLimit: (limit: number) => void = () => undefined,
  ) {
    this.value = this.clamp(o.initial);
    onLimit(this.limit);
  }

  get limit(): number {
    return Math.floor(this.value);
  }

  get inUse(): number {
    return this.inFlight;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with the slot's release once a call may go out. */
  acquire(): Promise<Release> {
    if (this.queue.length === 0 && this.inFlight < this.limit) return Promise.resolve(this.grant());
    return new Promise((resolve) => this.queue.push(resolve));
  }

  /** Back to slow start at the initial window; answers of calls already out no longer count. */
  restart(): void {
    this.value = this.clamp(this.o.initial);
    this.ssthresh = Infinity;
    this.decided();
    this.drain();
  }

  private grant(): Release {
    this.inFlight++;
    this.window.peak = Math.max(this.window.peak, this.inFlight);
    const epoch = this.epoch;
    let released = false;
    return (signal, latencyMs) => {
      if (released) return;
      released = true;
      this.inFlight--;
      if (signal !== 'ignore' && epoch === this.epoch) this.observe(signal, latencyMs);
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.limit) this.queue.shift()!(this.grant());
  }

  private observe(signal: Exclude<CallSignal, 'ignore'>, latencyMs: number): void {
    if (signal !== 'ok') return this.cut(signal === 'fault' ? FAULT_BACKOFF : RATE_LIMIT_BACKOFF);
    const w = this.window;
    w.answered++;
    w.latencyMs += latencyMs;
    if (w.answered < Math.max(MIN_WINDOW, this.limit)) return;
    const mean = w.latencyMs / w.answered;
    this.baselineMs = Math.min(this.baselineMs, mean);
    const allowed = this.baselineMs * this.o.latencyTolerance;
    if (mean > allowed) {
      if (this.limit > this.o.min) return this.cut(Math.max(FAULT_BACKOFF, allowed / mean));
      this.baselineMs = mean;
    } else if (w.peak >= this.limit) {
      this.value = this.clamp(this.value < this.ssthresh ? Math.min(this.value * 2, this.ssthresh) : this.value + 1);
    }
    this.decided();
  }

  private cut(factor: number): void {
    this.value = this.clamp(this.value * factor);
    this.ssthresh = this.value;
    this.decided();
  }

  private decided(): void {
    this.epoch++;
    this.window = { answered: 0, latencyMs: 0, peak: this.inFlight };
    this.onLimit(this.limit);
  }

  private clamp(value: number): number {
    return Math.min(this.o.max, Math.max(this.o.min, value));
  }
}
