import { decodeOffsetMap, MAX_ENCODABLE_SPAN } from '../../../src/pipeline/offset-map';
import { PartitionProgress } from '../../../src/pipeline/partition-progress';

function progressWith(offsets: number[], start = offsets[0] ?? 0, inherited: number[] = []): PartitionProgress {
  const progress = new PartitionProgress(start, inherited);
  for (const offset of offsets) {
    expect(progress.isNew(offset)).toBe(true);
    progress.dispatch(offset);
  }
  return progress;
}

function decodeCompleted(base: number, metadata: string | undefined): Set<number> {
  const { offsets, problem } = decodeOffsetMap(base, metadata);
  expect(problem).toBeUndefined();
  return new Set(offsets);
}

describe('PartitionProgress', () => {
  it('has no commit point before anything completed', () => {
    expect(progressWith([10, 11]).commitPoint()).toBeUndefined();
    expect(new PartitionProgress(0).commitPoint()).toBeUndefined();
  });

  it('commits the offset after a contiguous completed prefix, with no metadata', () => {
    const progress = progressWith([10, 11, 12]);
    progress.complete(10);
    progress.complete(11);
    expect(progress.commitPoint()).toEqual({ offset: '12', metadata: '' });
    expect(progress.inFlight).toBe(1);
  });

  it('does not advance past an unfinished record, and records the completed ones above it', () => {
    const progress = progressWith([10, 11, 12, 13]);
    progress.complete(10);
    progress.complete(12);
    progress.complete(13);
    const point = progress.commitPoint();
    expect(point?.offset).toBe('11');
    expect(decodeCompleted(11, point?.metadata)).toEqual(new Set([12, 13]));
  });

  it('commits where reading started when only later records completed', () => {
    const progress = progressWith([10, 11, 12]);
    progress.complete(12);
    const point = progress.commitPoint();
    expect(point?.offset).toBe('10');
    expect(decodeCompleted(10, point?.metadata)).toEqual(new Set([12]));
  });

  it('advances over the whole run once the gap closes', () => {
    const progress = progressWith([10, 11, 12, 13]);
    progress.complete(11);
    progress.complete(12);
    expect(progress.commitPoint()?.offset).toBe('10');
    progress.complete(10);
    expect(progress.commitPoint()).toEqual({ offset: '13', metadata: '' });
    progress.complete(13);
    expect(progress.commitPoint()).toEqual({ offset: '14', metadata: '' });
    expect(progress.inFlight).toBe(0);
  });

  it('returns undefined when nothing moved since the last commit point', () => {
    const progress = progressWith([10, 11]);
    progress.complete(10);
    expect(progress.commitPoint()?.offset).toBe('11');
    expect(progress.commitPoint()).toBeUndefined();
  });

  it('commits past gaps in the offsets (transaction markers are never dispatched)', () => {
    // 12 and 15 are control records of committed transactions: never fetched as messages.
    const progress = progressWith([10, 11, 13, 14, 16]);
    for (const offset of [16, 14, 13]) progress.complete(offset);
    const early = progress.commitPoint();
    expect(early?.offset).toBe('10');
    expect(decodeCompleted(10, early?.metadata)).toEqual(new Set([13, 14, 16]));
    progress.complete(10);
    const mid = progress.commitPoint();
    expect(mid?.offset).toBe('11');
    expect(decodeCompleted(11, mid?.metadata)).toEqual(new Set([13, 14, 16]));
    progress.complete(11);
    expect(progress.commitPoint()).toEqual({ offset: '17', metadata: '' });
  });

  it('treats an offset at or below the highest dispatched one as not new', () => {
    const progress = progressWith([10, 11]);
    expect([progress.isNew(11), progress.isNew(10), progress.isNew(5), progress.isNew(12)]).toEqual([false, false, false, true]);
    expect(progress.inFlight).toBe(2);
  });

  it('treats a re-fetched offset as not new even after it was completed and committed', () => {
    const progress = progressWith([10]);
    progress.complete(10);
    expect(progress.commitPoint()?.offset).toBe('11');
    expect(progress.isNew(10)).toBe(false);
    expect(progress.commitPoint()).toBeUndefined();
  });

  it('reports what the previous owner completed', () => {
    const progress = new PartitionProgress(10, [12, 15]);
    expect(progress.wasCompletedBefore(12)).toBe(true);
    expect(progress.wasCompletedBefore(15)).toBe(true);
    expect(progress.wasCompletedBefore(13)).toBe(false);
    expect(new PartitionProgress(0).wasCompletedBefore(0)).toBe(false);
  });

  it('keeps every completed offset of a sparse 20,000-offset window in the metadata, nothing cut', () => {
    const offsets = Array.from({ length: 20_000 }, (_, i) => 1000 + i);
    const progress = progressWith(offsets);
    for (let i = 1; i < offsets.length; i += 2) progress.complete(offsets[i]); // every other one
    const point = progress.commitPoint()!;
    expect(point.offset).toBe('1000');
    expect(point.metadata.length).toBeLessThanOrEqual(4096);
    expect(decodeCompleted(1000, point.metadata)).toEqual(new Set(offsets.filter((_, i) => i % 2 === 1)));
  });

  it('has no room for a record beyond the encodable span above its commit point, and room again once it advances', () => {
    const progress = progressWith([0, 1]);
    expect(progress.hasRoomFor(MAX_ENCODABLE_SPAN - 1)).toBe(true);
    expect(progress.hasRoomFor(MAX_ENCODABLE_SPAN)).toBe(false);
    progress.complete(0);
    progress.commitPoint();
    expect(progress.hasRoomFor(MAX_ENCODABLE_SPAN)).toBe(true);
    expect(progress.hasRoomFor(MAX_ENCODABLE_SPAN + 1)).toBe(false);
  });

  it('still commits correctly after compacting a long history', () => {
    const progress = new PartitionProgress(0);
    for (let offset = 0; offset < 10_000; offset++) {
      progress.dispatch(offset);
      progress.complete(offset);
    }
    expect(progress.commitPoint()).toEqual({ offset: '10000', metadata: '' });
    for (let offset = 10_000; offset < 10_010; offset++) progress.dispatch(offset);
    progress.complete(10_005);
    const point = progress.commitPoint();
    expect(point?.offset).toBe('10000');
    expect(decodeCompleted(10_000, point?.metadata)).toEqual(new Set([10_005]));
    expect(progress.inFlight).toBe(10);
  });
});

describe('PartitionProgress keeps what the previous owner completed', () => {
  it('carries inherited completions it has not reached yet into its own commit metadata', () => {
    const progress = new PartitionProgress(10, [...decodeCompleted(10, 'cw1:2,5')]);
    for (const offset of [10, 11, 12]) {
      progress.dispatch(offset);
      progress.complete(offset);
    }
    const point = progress.commitPoint()!;
    expect(point.offset).toBe('13');
    expect(decodeCompleted(13, point.metadata)).toEqual(new Set([15]));
  });
});

describe('PartitionProgress commit point next to inherited completions', () => {
  it('points past a record the previous owner completed, so a crash does not replay it', () => {
    const progress = new PartitionProgress(10, [11, 12, 14]);
    progress.dispatch(10);
    progress.complete(10);
    const point = progress.commitPoint()!;
    expect(point.offset).toBe('13');
    expect(decodeCompleted(13, point.metadata)).toEqual(new Set([14]));
  });
});

describe('PartitionProgress taking over at a committed offset', () => {
  it('skips records below the committed offset that a stale fetch returns', () => {
    const progress = new PartitionProgress(20);
    expect([progress.isNew(18), progress.isNew(19), progress.isNew(20)]).toEqual([false, false, true]);
  });
});

describe('PartitionProgress under random completion order', () => {
  it('always commits the first unfinished offset and records exactly the completed ones above it', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const progress = new PartitionProgress(0);
    const offsets = Array.from({ length: 2000 }, (_, i) => i * 2); // gaps, as transaction markers leave
    for (const o of offsets) progress.dispatch(o);
    const order = [...offsets].sort(() => random() - 0.5);
    const completed = new Set<number>();
    for (let i = 0; i < order.length; i += 37) {
      for (const o of order.slice(i, i + 37)) {
        progress.complete(o);
        completed.add(o);
      }
      const point = progress.commitPoint()!;
      const firstOpen = offsets.find((o) => !completed.has(o));
      const base = Number(point.offset);
      if (firstOpen === undefined) expect(base).toBe(offsets[offsets.length - 1] + 1);
      else expect(base).toBe(firstOpen === offsets[0] ? firstOpen : offsets[offsets.indexOf(firstOpen) - 1] + 1);
      expect(decodeCompleted(base, point.metadata)).toEqual(new Set([...completed].filter((o) => o >= base)));
    }
  });
});
