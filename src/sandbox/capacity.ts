/**
 * A vendor's per-merchant rate limit: at most `perSecond` calls admitted in any 1-second span.
 * A ring of the last `perSecond` admission times: a call is admitted when the oldest of them is
 * a second old, so a steady caller above the limit gets exactly the limit, spread as it sent.
 */
export class CapacityWindow {
  private readonly admitted: number[];
  private next = 0;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new Error('capacity must be a positive integer per second');
    this.admitted = new Array<number>(perSecond).fill(-Infinity);
  }

  tryAdmit(): boolean {
    const t = this.now();
    if (t - this.admitted[this.next]! < 1000) return false;
    this.admitted[this.next] = t;
    this.next = (this.next + 1) % this.admitted.length;
    return true;
  }
}
