import { encodeOffsetMap, MAX_ENCODABLE_SPAN } from './offset-map';

/**
 * Commit bookkeeping for one owned partition. Records complete out of order (different keys run
 * concurrently), but the committed offset only advances past a contiguous run of completed records.
 * Completed records above that point are written into the commit's metadata, so whoever owns the
 * partition next skips them instead of publishing their outcomes twice.
 */
export class PartitionProgress {
  private readonly pending: number[] = [];
  private head = 0;
  private readonly done = new Set<number>();
  /** `done` in ascending order from `doneStart`, kept sorted on insert so commits never sort. */
  private readonly doneSorted: number[] = [];
  private doneStart = 0;
  private readonly inheritedDone: ReadonlySet<number>;
  private readonly inherited: readonly number[];
  private nextToCommit: number | undefined;
  private highest: number;

  constructor(
    /** The committed offset when this owner took over (next to read): records below it are done. */
    readonly startOffset: number,
    /** Completed above the committed offset, as recorded by the previous owner (ascending). */
    inherited: readonly number[] = [],
  ) {
    this.highest = startOffset - 1;
    // Anything the previous owner recorded beyond the encodable span could never be carried on.
    this.inherited = inherited.filter((offset) => offset >= startOffset && offset < startOffset + MAX_ENCODABLE_SPAN);
    this.inheritedDone = new Set(this.inherited);
  }

  /** False for records already taken (a re-fetch after a rejoin) or below the start: skip them. */
  isNew(offset: number): boolean {
    return offset > this.highest;
  }

  /**
   * Whether the record fits the window the commit metadata can describe. Beyond it the partition
   * waits (backpressure) instead of committing a map that would have to be cut and replayed.
   */
  hasRoomFor(offset: number): boolean {
    return offset - this.base() < MAX_ENCODABLE_SPAN;
  }

  dispatch(offset: number): void {
    this.highest = offset;
    this.pending.push(offset);
  }

  wasCompletedBefore(offset: number): boolean {
    return this.inheritedDone.has(offset);
  }

  complete(offset: number): void {
    if (this.done.has(offset)) return;
    this.done.add(offset);
    const sorted = this.doneSorted;
    // Request records mostly complete in order (append); retries complete in due order (insert).
    if (sorted.length === this.doneStart || sorted[sorted.length - 1] < offset) sorted.push(offset);
    else sorted.splice(lowerBound(sorted, offset, this.doneStart), 0, offset);
  }

  /** The offset to commit (next to read) with the map of completed offsets above it; undefined when nothing moved. */
  commitPoint(): { offset: string; metadata: string } | undefined {
    const before = this.nextToCommit;
    while (this.head < this.pending.length && this.done.has(this.pending[this.head])) {
      const offset = this.pending[this.head++];
      // The contiguous prefix is always made of the smallest completed offsets.
      this.done.delete(offset);
      this.doneStart++;
      this.nextToCommit = offset + 1;
    }
    this.compact();
    if (this.nextToCommit === before && this.done.size === 0) return undefined;
    const base = this.base();
    const metadata = encodeOffsetMap(base, this.completedAbove());
    // hasRoomFor keeps every window encodable; reaching this is a bug, not bad input.
    if (metadata === undefined) throw new Error(`completed-offset map above ${base} does not fit the commit metadata`);
    return { offset: String(base), metadata };
  }

  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /**
   * Where a commit would point now: after the contiguous completed prefix, and past records the
   * previous owner completed (the map only describes offsets above the commit point, so one of
   * them left as the point would be replayed after a crash).
   */
  private base(): number {
    let base = this.nextToCommit ?? this.pending.at(this.head) ?? this.startOffset;
    while (this.inheritedDone.has(base)) base++;
    return base;
  }

  /** Ours, plus the previous owner's that this owner has not reached yet (both must survive a crash), ascending. */
  private completedAbove(): number[] {
    const ours = this.doneSorted;
    const out: number[] = [];
    let i = this.doneStart;
    let j = lowerBound(this.inherited, this.highest + 1, 0);
    while (i < ours.length || j < this.inherited.length) {
      if (j >= this.inherited.length || (i < ours.length && ours[i] < this.inherited[j])) out.push(ours[i++]);
      else out.push(this.inherited[j++]);
    }
    return out;
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    if (this.doneStart > 4096 && this.doneStart * 2 > this.doneSorted.length) {
      this.doneSorted.splice(0, this.doneStart);
      this.doneStart = 0;
    }
  }
}

/** First index at or after `from` whose value is >= `value`, in an ascending array. */
function lowerBound(sorted: readonly number[], value: number, from: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
