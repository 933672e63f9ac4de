/**
 * A vendor's per-merchant rate limit: at most `perSecond` calls admitted in each wall-clock
 * second, the rest refused (a QPS counter, as gateways keep them).
 */
export class PerSecondCapacity {
  private second = -Infinity;
  private admitted = 0;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new Error('capacity must be a positive integer per second');
  }

  tryAdmit(): boolean {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.admitted = 0;
    }
    if (this.admitted >= this.perSecond) return false;
    this.admitted++;
    return true;
  }
}
