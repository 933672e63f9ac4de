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

// A transport fault is a strong signal: the API is down or drowning.
const FAULT_BACKOFF = 0.5;
// A latency cut is proportional to the overshoot but at most 20% a window, so a pause of this
// process (GC, a busy CPU) that slows one window does not halve the limit.
const LATENCY_BACKOFF_FLOOR = 0.8;
// After a rate-limit answer the limit is what the accepted calls of the last second used, less this margin.
const RATE_LIMIT_MARGIN = 0.95;
// The vendor counts calls per second: a probe beyond what it accepted, sooner than that, cannot be judged yet.
const RATE_LIMIT_PROBE_MS = 1000;
// Fewer samples than this make a latency mean too noisy to act on.
const MIN_WINDOW = 10;
// After an outage the backlog drains at up to this multiple of the rate before it: below 2, so
// that a second with more calls than its neighbours stays under twice the steady rate.
const RECOVERY_FACTOR = 1.8;
// The newest judged window's weight in the steady concurrency: an average of about the last five.
const CARRIED_SMOOTHING = 0.2;

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
 * - A transport fault halves the limit at once. Every decision starts a new epoch, and only
 *   calls sent in the current epoch count: the answers of calls sent under the old, larger limit
 *   cannot cut it again (one cut per round trip, as TCP).
 * - A rate-limit answer sets the limit to the concurrency the vendor accepted over the last
 *   second (Little's law: the latencies of the calls it answered in that second, summed, per
 *   second), less 5%. It is an estimate, not a factor, so the refusals the vendor still sends
 *   for an overshoot it counted do not cut again and again. Beyond that concurrency the limit
 *   then grows at most once a second (below it, as usual: CUBIC's fast return to its last maximum).
 * - Otherwise the limit is judged once per window of max(limit, 10) answered calls, about one
 *   round trip: if their mean latency exceeds tolerance × baseline, the limit is scaled by
 *   (tolerance × baseline) / mean, at most 20% off. The baseline is the lowest window mean seen;
 *   a window still too slow at the minimum limit becomes the baseline (the API is that slow at
 *   any load).
 * - A window within tolerance grows the limit if the window filled it (an idle limit proves
 *   nothing): doubling per window in slow start, +1 per window once a cut set ssthresh.
 * - A new instance, and restart() after an outage, begin in slow start at the initial window,
 *   so the calls waiting for the circuit go out a few at a time instead of all at once. After a
 *   restart the limit is also held within 1.8 × the concurrency the API carried before the
 *   outage, until a judged window no longer fills it (the backlog is gone): a vendor that has
 *   just come back gets the backlog at under twice the steady rate, whether or not it shows its
 *   load (as the slow-start windows of Envoy and AWS load balancers do for a recovered host).
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
  /** Set once rate-limited (until restart): the concurrency the vendor accepted then, and when the limit may grow beyond it next. */
  private rateLimit: { accepted: number; nextProbeAt: number } | undefined;
  /** The concurrency the API carried in steady operation (smoothed over judged windows), and the cap while recovering from an outage. */
  private carried: number | undefined;
  private recoveryCap: number | undefined;
  private readonly accepted = new LastSecond();
  private readonly queue: Array<(release: Release) => void> = [];

  constructor(
    private readonly o: LimiterOptions,
    private readonly onLimit: (limit: number) => void = () => undefined,
    private readonly now: () => number = Date.now,
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
    // A second outage during a recovery keeps its cap. A new instance knows no steady rate: no cap.
    if (this.recoveryCap === undefined && this.carried !== undefined) this.recoveryCap = RECOVERY_FACTOR * this.carried;
    this.value = this.clamp(this.o.initial);
    this.ssthresh = Infinity;
    this.rateLimit = undefined;
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
      if (signal === 'ok') this.accepted.add(this.now(), latencyMs);
      if (signal === 'rate-limited') this.rateLimited();
      else if (signal !== 'ignore' && epoch === this.epoch) this.observe(signal, latencyMs);
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.limit) this.queue.shift()!(this.grant());
  }

  private rateLimited(): void {
    const now = this.now();
    const accepted = this.accepted.sum(now) / 1000;
    this.rateLimit = { accepted, nextProbeAt: now + RATE_LIMIT_PROBE_MS };
    if (accepted * RATE_LIMIT_MARGIN < this.value) this.cut((accepted * RATE_LIMIT_MARGIN) / this.value);
  }

  private observe(signal: 'ok' | 'fault', latencyMs: number): void {
    if (signal === 'fault') return this.cut(FAULT_BACKOFF);
    const w = this.window;
    w.answered++;
    w.latencyMs += latencyMs;
    if (w.answered < Math.max(MIN_WINDOW, this.limit)) return;
    const mean = w.latencyMs / w.answered;
    this.baselineMs = Math.min(this.baselineMs, mean);
    if (w.peak < this.limit) this.recoveryCap = undefined;
    if (this.recoveryCap === undefined) {
      const carried = this.accepted.sum(this.now()) / 1000;
      this.carried = this.carried === undefined ? carried : this.carried + CARRIED_SMOOTHING * (carried - this.carried);
    }
    const allowed = this.baselineMs * this.o.latencyTolerance;
    if (mean > allowed) {
      if (this.limit > this.o.min) return this.cut(Math.max(LATENCY_BACKOFF_FLOOR, allowed / mean));
      this.baselineMs = mean;
    } else if (w.peak >= this.limit && this.mayProbe()) {
      this.value = this.clamp(this.value < this.ssthresh ? Math.min(this.value * 2, this.ssthresh) : this.value + 1);
    }
    this.decided();
  }

  private mayProbe(): boolean {
    if (this.rateLimit === undefined || this.value + 1 <= this.rateLimit.accepted) return true;
    const now = this.now();
    if (now < this.rateLimit.nextProbeAt) return false;
    this.rateLimit.nextProbeAt = now + RATE_LIMIT_PROBE_MS;
    return true;
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
    return Math.max(this.o.min, Math.min(this.o.max, this.recoveryCap ?? Infinity, value));
  }
}

/** The latencies of the calls answered in the last second, summed. */
class LastSecond {
  private readonly at: number[] = [];
  private readonly latencyMs: number[] = [];
  private head = 0;
  private total = 0;

  add(now: number, latencyMs: number): void {
    this.at.push(now);
    this.latencyMs.push(latencyMs);
    this.total += latencyMs;
    this.expire(now);
  }

  sum(now: number): number {
    this.expire(now);
    return this.total;
  }

  private expire(now: number): void {
    while (this.head < this.at.length && this.at[this.head]! <= now - 1000) this.total -= this.latencyMs[this.head++]!;
    // Compact now and then instead of shifting on every expiry.
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at.splice(0, this.head);
      this.latencyMs.splice(0, this.head);
      this.head = 0;
    }
  }
}
