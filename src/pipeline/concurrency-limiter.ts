import type { CaptureResult } from '../api/types';
import { LastSecond } from '../util/last-second';

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

/** What the limiter lets through: calls at a time, and calls per second when it paces them. */
export interface LimiterState {
  limit: number;
  pacePerSec: number | undefined;
}

/** Time, and a timer for the calls a pace holds back (injected in tests). */
export interface LimiterClock {
  now(): number;
  after(ms: number, fn: () => void): void;
}

const systemClock: LimiterClock = {
  now: Date.now,
  after: (ms, fn) => void setTimeout(fn, ms).unref(),
};

// A transport fault is a strong signal: the API is down or drowning.
const FAULT_BACKOFF = 0.5;
// A latency cut is proportional to the overshoot but at most 20% a window, so a pause of this
// process (GC, a busy CPU) that slows one window does not halve the limit.
const LATENCY_BACKOFF_FLOOR = 0.8;
// The latency baseline is an average over about the last twenty windows: it follows a host or a
// vendor that is slower for good, so only latency that grows faster than that cuts the limit.
const BASELINE_SMOOTHING = 0.05;
// A rate-limit answer paces calls at this share of what the vendor accepted in the last second.
const RATE_LIMIT_MARGIN = 0.95;
// The vendor counts calls per second: for two seconds after a cut its refusals are of calls
// sent before it (in flight, or retried), and a pace holding calls back rises this much a second.
const RATE_LIMIT_ECHO_MS = 2000;
const PACE_PROBE = 1.02;
const PACE_PROBE_MS = 1000;
// Fewer samples than this make a latency mean too noisy to act on.
const MIN_WINDOW = 10;
// After an outage the backlog drains at up to this multiple of the call rate before it: well
// under 2, as a busy host bunches paced calls into some seconds (by up to 15% measured). An
// outage of d seconds left d seconds of calls, which take d / (factor - 1) seconds to drain;
// after that the backlog is gone when no call waits and the calls of the last second are back
// under RECOVERED × that rate (a pipeline that stalls for a moment leaves none waiting too).
const RECOVERY_FACTOR = 1.6;
const RECOVERED = 1.2;
// The newest judged window's weight in the steady call rate: an average of about the last five.
const STEADY_SMOOTHING = 0.2;

/** Status U decided locally is a refused or reset connection, a timeout, a 5xx or an unreadable answer. */
export function signalOf(result: CaptureResult | undefined): CallSignal {
  if (result === undefined) return 'ignore'; // nothing was sent: the request could not be signed
  if (result.status === 'U' && result.local) return 'fault';
  return result.resultCode === RATE_LIMIT_CODE ? 'rate-limited' : 'ok';
}

/**
 * An adaptive limit on concurrent API calls, AIMD with a latency gradient after TCP congestion
 * control, Netflix's concurrency-limits (Gradient2) and Envoy's adaptive concurrency, plus a pace
 * in calls per second where the vendor's limit is a rate.
 *
 * - A transport fault halves the limit at once. Every decision starts a new epoch, and only
 *   calls sent in the current epoch count: the answers of calls sent under the old, larger limit
 *   cannot cut it again (one cut per round trip, as TCP).
 * - Otherwise the limit is judged once per window of max(limit, 10) answered calls, about one
 *   round trip: if their mean latency exceeds tolerance × baseline, the limit is scaled by
 *   (tolerance × baseline) / mean, at most 20% off. The baseline is a long average of the window
 *   means (each counted at most at tolerance × baseline, so one stall cannot drag it up).
 * - A window within tolerance grows the limit if the window filled it (an idle limit proves
 *   nothing): doubling per window in slow start, +1 per window once a cut set ssthresh.
 * - A rate-limit answer paces calls at 95% of those the vendor accepted in the last second (a
 *   rate, so latency that swings does not make the calls swing around the vendor's limit), and
 *   a refusal while paced lowers the pace by 5%. The refusals of the next two seconds are of
 *   calls sent before the cut and cut nothing; while the pace holds calls back it rises 2% a
 *   second, to find the limit again if it was raised.
 * - A new instance, and restart() after an outage, begin in slow start at the initial window,
 *   so the calls waiting for the circuit go out a few at a time instead of all at once. After a
 *   restart calls are also paced at 1.6 × the call rate before the outage until the backlog is
 *   gone (the time it takes at that pace has passed, no call waits, and the rate is back near the
 *   steady one): a vendor that has just come back gets the backlog at under twice the steady
 *   rate, whether or not it shows its load (as the slow-start windows of Envoy and AWS load
 *   balancers do for a recovered host).
 *
 * Waiting calls are served in arrival order. The limit stays within [min, max].
 */
export class ConcurrencyLimiter {
  private value: number;
  private ssthresh = Infinity;
  private inFlight = 0;
  private epoch = 0;
  private window = { answered: 0, latencyMs: 0, peak: 0 };
  private baselineMs: number | undefined;
  /** Calls answered per second in steady operation (smoothed over judged windows), and when the last such window was judged. */
  private steadyPerSec: number | undefined;
  private steadyAt = 0;
  private recovery: { perSec: number; until: number } | undefined;
  private vendorPace: { perSec: number; cutAt: number; probeAt: number } | undefined;
  private wakeScheduled = false;
  private readonly sent: LastSecond;
  private readonly accepted: LastSecond;
  private readonly queue: Array<(release: Release) => void> = [];

  constructor(
    private readonly o: LimiterOptions,
    private readonly onChange: (state: LimiterState) => void = () => undefined,
    private readonly clock: LimiterClock = systemClock,
  ) {
    this.sent = new LastSecond(() => clock.now());
    this.accepted = new LastSecond(() => clock.now());
    this.value = this.clamp(o.initial);
    this.changed();
  }

  get limit(): number {
    return Math.floor(this.value);
  }

  /** Calls per second, when calls are paced. */
  get pacePerSec(): number | undefined {
    const paces = [this.recovery?.perSec, this.vendorPace?.perSec].filter((p) => p !== undefined);
    return paces.length ? Math.min(...paces) : undefined;
  }

  get inUse(): number {
    return this.inFlight;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with the slot's release once a call may go out. */
  acquire(): Promise<Release> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.drain();
    });
  }

  /** Back to slow start at the initial window; answers of calls already out no longer count. */
  restart(): void {
    // A second outage during a recovery keeps its pace. A new instance knows no steady rate: no pace.
    if (this.steadyPerSec !== undefined) {
      const now = this.clock.now();
      const until = now + (now - this.steadyAt) / (RECOVERY_FACTOR - 1);
      this.recovery = { perSec: this.recovery?.perSec ?? Math.max(1, Math.floor(RECOVERY_FACTOR * this.steadyPerSec)), until: Math.max(until, this.recovery?.until ?? 0) };
    }
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
      if (signal === 'ok') this.accepted.record();
      if (signal === 'rate-limited') this.rateLimited();
      else if (signal !== 'ignore' && epoch === this.epoch) this.observe(signal, latencyMs);
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.limit) {
      const pace = this.pacePerSec;
      if (!this.sent.tryAdmit(pace ?? Infinity)) return this.held(pace!);
      this.queue.shift()!(this.grant());
    }
  }

  /** The pace holds calls back: it may rise, and a timer lets the next one go when it is due. */
  private held(pace: number): void {
    const now = this.clock.now();
    if (this.vendorPace && pace === this.vendorPace.perSec && now >= this.vendorPace.probeAt) {
      this.vendorPace.perSec = Math.max(this.vendorPace.perSec + 1, Math.floor(this.vendorPace.perSec * PACE_PROBE));
      this.vendorPace.probeAt = now + PACE_PROBE_MS;
      this.changed();
    }
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    this.clock.after(Math.max(1, this.sent.nextAdmitAt(pace) - now), () => {
      this.wakeScheduled = false;
      this.drain();
    });
  }

  private rateLimited(): void {
    const now = this.clock.now();
    if (this.vendorPace && now < this.vendorPace.cutAt + RATE_LIMIT_ECHO_MS) return;
    // Refused while paced, the pace was too high, however many answers this process took in at once.
    const accepted = Math.min(this.accepted.count(), this.vendorPace?.perSec ?? Infinity);
    this.vendorPace = { perSec: Math.max(1, Math.floor(RATE_LIMIT_MARGIN * accepted)), cutAt: now, probeAt: now + PACE_PROBE_MS };
    this.changed();
  }

  private observe(signal: 'ok' | 'fault', latencyMs: number): void {
    if (signal === 'fault') return this.cut(FAULT_BACKOFF);
    const w = this.window;
    w.answered++;
    w.latencyMs += latencyMs;
    if (w.answered < Math.max(MIN_WINDOW, this.limit)) return;
    const mean = w.latencyMs / w.answered;
    const allowed = (this.baselineMs ?? mean) * this.o.latencyTolerance;
    this.baselineMs = this.baselineMs === undefined ? mean : this.baselineMs + BASELINE_SMOOTHING * (Math.min(mean, allowed) - this.baselineMs);
    if (this.recovered()) this.recovery = undefined;
    if (!this.recovery) {
      const perSec = this.accepted.count();
      this.steadyPerSec = this.steadyPerSec === undefined ? perSec : this.steadyPerSec + STEADY_SMOOTHING * (perSec - this.steadyPerSec);
      this.steadyAt = this.clock.now();
    }
    if (mean > allowed) return this.cut(Math.max(LATENCY_BACKOFF_FLOOR, allowed / mean));
    if (w.peak >= this.limit) this.value = this.clamp(this.value < this.ssthresh ? Math.min(this.value * 2, this.ssthresh) : this.value + 1);
    this.decided();
  }

  /** The backlog of an outage is gone: drained by now, no call waits, and the calls of the last second are back near the steady rate. */
  private recovered(): boolean {
    const { recovery, steadyPerSec } = this;
    return recovery !== undefined && steadyPerSec !== undefined && this.clock.now() >= recovery.until && this.queue.length === 0 && this.sent.count() < RECOVERED * steadyPerSec;
  }

  private cut(factor: number): void {
    this.value = this.clamp(this.value * factor);
    this.ssthresh = this.value;
    this.decided();
  }

  private decided(): void {
    this.epoch++;
    this.window = { answered: 0, latencyMs: 0, peak: this.inFlight };
    this.changed();
  }

  private changed(): void {
    this.onChange({ limit: this.limit, pacePerSec: this.pacePerSec });
  }

  private clamp(value: number): number {
    return Math.max(this.o.min, Math.min(this.o.max, value));
  }
}
