export type CircuitState = 'closed' | 'open' | 'half-open' | 'halted';

export interface CircuitBreakerOptions {
  /** How many recent calls are judged. */
  windowSize: number;
  /** No verdict before this many calls in the window. */
  minCalls: number;
  /** Open when at least this share of the window were unknown. */
  faultRatio: number;
  openMs: number;
  maxOpenMs: number;
  /** How long a halt (the vendor refusing the merchant's configuration) waits before each probe. */
  haltProbeMs: number;
}

/**
 * Stops calling an API that answers mostly "unknown" (refused connections, timeouts, 5xx): calls
 * wait while the circuit is open instead of failing, one probe goes through when it half-opens,
 * and each failed probe doubles the pause. Waiting calls hold their in-flight slots, so the
 * consumer stops fetching too: the outage slows the whole pipeline down rather than hammering.
 *
 * Halted is the same wait for a different cause: the vendor refused the merchant's credentials,
 * so every call would get the same answer. It probes at a fixed interval (a fix is a deployment,
 * not a recovery to back off from), and the probe's ordinary answer closes it.
 */
export class CircuitBreaker {
  private readonly window: boolean[] = [];
  private faults = 0;
  private current: CircuitState = 'closed';
  private openFor: number;
  private probing = false;
  /** Set from a halt until the circuit closes: a failed probe continues the halt, it does not start one. */
  private halting = false;
  private disposed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
  ) {
    this.openFor = options.openMs;
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Resolves when a call may go out: true when that call is the half-open probe. */
  async admit(): Promise<boolean> {
    while (!this.disposed && (this.current === 'open' || this.current === 'halted' || (this.current === 'half-open' && this.probing))) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.current !== 'half-open' || this.disposed) return false;
    this.probing = true;
    return true;
  }

  /** Only the probe's own result decides a half-open circuit; late results of older calls do not. */
  record(fault: boolean, probe = false): void {
    if (probe) {
      this.probing = false;
      if (fault) this.open(Math.min(this.openFor * 2, this.options.maxOpenMs));
      else this.close();
      return;
    }
    // Answers to calls sent before a halt say nothing about the configuration being fixed.
    if (this.current === 'halted') return;
    this.window.push(fault);
    if (fault) this.faults++;
    if (this.window.length > this.options.windowSize && this.window.shift()) this.faults--;
    if (this.current === 'closed' && this.window.length >= this.options.minCalls && this.faults / this.window.length >= this.options.faultRatio) {
      this.open(this.options.openMs);
    }
  }

  /** The probe's call was not made (its record was given up): the next waiting call probes instead. */
  returnProbe(): void {
    this.probing = false;
    this.wakeAll();
  }

  /** The vendor refused the configuration; true when this starts the halt (not a failed probe or a late answer). */
  halt(probe = false): boolean {
    if (probe) this.probing = false;
    const started = !this.halting;
    this.halting = true;
    this.window.length = 0;
    this.faults = 0;
    this.transition('halted');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.transition('half-open');
      this.wakeAll();
    }, this.options.haltProbeMs);
    this.timer.unref();
    return started;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.wakeAll();
  }

  private open(forMs: number): void {
    this.openFor = forMs;
    this.transition('open');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.transition('half-open');
      this.wakeAll();
    }, forMs);
    this.timer.unref();
  }

  private close(): void {
    this.halting = false;
    this.window.length = 0;
    this.faults = 0;
    this.openFor = this.options.openMs;
    this.transition('closed');
    this.wakeAll();
  }

  private transition(state: CircuitState): void {
    if (this.current === state) return;
    this.current = state;
    this.onChange(state);
  }

  private wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
