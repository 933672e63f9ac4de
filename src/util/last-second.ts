/**
 * The events of the last second (a sliding 1-second window): the worker's pace while it is
 * rate-limited or recovering, and its count of accepted calls.
 */
export class LastSecond {
  private readonly at: number[] = [];
  private head = 0;

  constructor(private readonly now: () => number = Date.now) {}

  record(): void {
    this.at.push(this.now());
    this.expire();
  }

  count(): number {
    this.expire();
    return this.at.length - this.head;
  }

  /** Records one more event if fewer than `perSecond` happened in the last second. */
  tryAdmit(perSecond: number): boolean {
    if (this.count() >= perSecond) return false;
    this.record();
    return true;
  }

  /** When one more event fits `perSecond`: now, or when enough of the last second's have aged out. */
  nextAdmitAt(perSecond: number): number {
    const count = this.count();
    return count < perSecond ? this.now() : this.at[this.head + count - Math.max(1, Math.floor(perSecond))] + 1000;
  }

  private expire(): void {
    const horizon = this.now() - 1000;
    while (this.head < this.at.length && this.at[this.head] <= horizon) this.head++;
    // Compact now and then instead of shifting on every expiry.
    if (this.head > 1024 && this.head * 2 > this.at.length) {
      this.at.splice(0, this.head);
      this.head = 0;
    }
  }
}
