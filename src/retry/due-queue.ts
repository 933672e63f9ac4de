/**
 * Items ordered by due time (a binary min-heap) with one timer for the earliest: a retry due in
 * one second is never held behind one due in ten minutes, whatever order they arrived in.
 */
export class DueQueue<T> {
  private readonly heap: Array<{ dueAt: number; seq: number; item: T }> = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;

  constructor(private readonly onDue: (item: T) => void, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.heap.length;
  }

  add(dueAt: number, item: T): void {
    this.heap.push({ dueAt, seq: this.seq++, item });
    this.up(this.heap.length - 1);
    this.arm();
  }

  /** Drops, without firing, the items that match (their partition was revoked); returns how many. */
  remove(matches: (item: T) => boolean): number {
    const before = this.heap.length;
    const kept = this.heap.splice(0).filter((entry) => !matches(entry.item));
    for (const entry of kept) {
      this.heap.push(entry);
      this.up(this.heap.length - 1);
    }
    this.close();
    this.arm();
    return before - kept.length;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Infinity;
  }

  private fireDue(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0].dueAt <= now) this.onDue(this.pop().item);
    this.arm();
  }

  private arm(): void {
    if (this.heap.length === 0) return this.close();
    const dueAt = this.heap[0].dueAt;
    if (dueAt >= this.timerDueAt) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    // Timers longer than 2^31-1 ms overflow to 1 ms; re-arm in steps instead.
    this.timer = setTimeout(() => this.fireDue(), Math.min(Math.max(0, dueAt - this.now()), 2 ** 31 - 1));
    this.timer.unref?.();
  }

  private pop(): { dueAt: number; seq: number; item: T } {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    return x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.seq < y.seq);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      [this.heap[i], this.heap[parent]] = [this.heap[parent], this.heap[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.less(left, smallest)) smallest = left;
      if (right < this.heap.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      [this.heap[i], this.heap[smallest]] = [this.heap[smallest], this.heap[i]];
      i = smallest;
    }
  }
}
