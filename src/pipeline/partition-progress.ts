/**
 * Commit bookkeeping for one assigned partition. Records complete out of order (different keys run
 * concurrently), but the committed offset only advances past a contiguous run of completed records.
 * Completed records above that point are written into the commit's metadata, so a consumer that
 * takes the partition over after a crash skips them instead of publishing their outcomes twice.
 */
export class PartitionProgress {
  private readonly pending: number[] = [];
  private head = 0;
  private readonly done = new Set<number>();
  /** `done` in ascending order from `doneStart`, kept sorted on insert so commits never sort. */
  private readonly doneSorted: number[] = [];
  private doneStart = 0;
  private readonly inherited: number[];
  private nextToCommit: number | undefined;
  private highest = -1;
  /** Set when the partition is taken away by a rebalance: its results must not be committed. */
  revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Completed above the committed offset, as recorded by the previous owner. */
    private readonly alreadyDone: ReadonlySet<number> = new Set(),
    /** The committed offset when this owner took over: records below it are already done. */
    committedOffset?: number,
  ) {
    if (committedOffset !== undefined && committedOffset > 0) this.highest = committedOffset - 1;
    this.inherited = Array.from(alreadyDone).sort((a, b) => a - b);
  }

  /** False for records this owner has already taken (a re-fetch after a rejoin): skip them. */
  dispatch(offset: number): boolean {
    if (offset <= this.highest) return false;
    this.highest = offset;
    this.pending.push(offset);
    return true;
  }

  wasCompletedBefore(offset: number): boolean {
    return this.alreadyDone.has(offset);
  }

  complete(offset: number): void {
    if (this.done.has(offset)) return;
    this.done.add(offset);
    const sorted = this.doneSorted;
    // Request records mostly complete in order (append); retries complete in due order (insert).
    if (sorted.length === this.doneStart || sorted[sorted.length - 1] < offset) sorted.push(offset);
    else sorted.splice(lowerBound(sorted, offset, this.doneStart), 0, offset);
  }

  /** The offset to commit (next to read) and metadata listing completed offsets above it, or undefined when nothing moved. */
  commitPoint(maxMetadataChars = 4000): { offset: string; metadata: string } | undefined {
    const before = this.nextToCommit;
    while (this.head < this.pending.length && this.done.has(this.pending[this.head])) {
      const offset = this.pending[this.head++];
      // The contiguous prefix is always made of the smallest completed offsets.
      this.done.delete(offset);
      this.doneStart++;
      this.nextToCommit = offset + 1;
    }
    if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    if (this.doneStart > 4096 && this.doneStart * 2 > this.doneSorted.length) {
      this.doneSorted.splice(0, this.doneStart);
      this.doneStart = 0;
    }
    if (this.nextToCommit === before && this.done.size === 0) return undefined;
    // Nothing contiguous yet: commit where reading started, so the completed ones are still recorded.
    const base = this.nextToCommit ?? this.pending[this.head];
    return { offset: String(base), metadata: encodeCompleted(base, this.completedAbove(), maxMetadataChars) };
  }

  /** Ours, plus the previous owner's that this owner has not reached yet (both must survive a crash), ascending. */
  private *completedAbove(): Generator<number> {
    const ours = this.doneSorted;
    let i = this.doneStart;
    let j = lowerBound(this.inherited, this.highest + 1, 0);
    while (i < ours.length || j < this.inherited.length) {
      if (j >= this.inherited.length || (i < ours.length && ours[i] < this.inherited[j])) yield ours[i++];
      else yield this.inherited[j++];
    }
  }

  get inFlight(): number {
    return this.pending.length - this.head;
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

const FORMAT = 'cw1:';

/**
 * Completed offsets as ranges relative to the commit point, base 36: `cw1:3-5,9` means
 * base+3..base+5 and base+9. Cut at `maxChars`; what is cut is replayed (idempotently) instead.
 */
export function encodeCompleted(base: number, ascending: Iterable<number>, maxChars: number): string {
  let out = '';
  let start = NaN;
  let end = NaN;
  // Appends the range start..end; false once the cap is reached.
  const append = (): boolean => {
    const piece = start === end ? (start - base).toString(36) : `${(start - base).toString(36)}-${(end - base).toString(36)}`;
    const next = out === '' ? FORMAT + piece : `${out},${piece}`;
    if (next.length > maxChars) return false;
    out = next;
    return true;
  };
  for (const offset of ascending) {
    if (offset === end + 1) end = offset;
    else {
      if (!Number.isNaN(start) && !append()) return out;
      start = end = offset;
    }
  }
  if (!Number.isNaN(start)) append();
  return out;
}

export function decodeCompleted(base: number, metadata: string | null | undefined): Set<number> {
  const offsets = new Set<number>();
  if (!metadata?.startsWith(FORMAT)) return offsets;
  for (const piece of metadata.slice(FORMAT.length).split(',')) {
    const [from, to] = piece.split('-').map((n) => parseInt(n, 36));
    if (Number.isNaN(from)) continue;
    for (let o = from; o <= (Number.isNaN(to) || to === undefined ? from : to); o++) offsets.add(base + o);
  }
  return offsets;
}
