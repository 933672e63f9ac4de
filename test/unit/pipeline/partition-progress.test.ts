import { decodeCompleted, encodeCompleted, PartitionProgress } from '../../../src/pipeline/partition-progress';

function progressWith(offsets: number[], alreadyDone?: Set<number>): PartitionProgress {
  const progress = new PartitionProgress('payments.capture.requested', 3, alreadyDone);
  for (const offset of offsets) expect(progress.dispatch(offset)).toBe(true);
  return progress;
}

describe('PartitionProgress', () => {
  it('keeps topic and partition', () => {
    const progress = new PartitionProgress('t', 7);
    expect([progress.topic, progress.partition, progress.revoked]).toEqual(['t', 7, false]);
  });

  it('has no commit point before anything completed', () => {
    expect(progressWith([10, 11]).commitPoint()).toBeUndefined();
    expect(new PartitionProgress('t', 0).commitPoint()).toBeUndefined();
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

  it('refuses to dispatch an offset at or below the highest dispatched one', () => {
    const progress = progressWith([10, 11]);
    expect(progress.dispatch(11)).toBe(false);
    expect(progress.dispatch(10)).toBe(false);
    expect(progress.dispatch(5)).toBe(false);
    expect(progress.inFlight).toBe(2);
    expect(progress.dispatch(12)).toBe(true);
    expect(progress.inFlight).toBe(3);
  });

  it('refuses a re-fetched offset even after it was completed and committed', () => {
    const progress = progressWith([10]);
    progress.complete(10);
    expect(progress.commitPoint()?.offset).toBe('11');
    expect(progress.dispatch(10)).toBe(false);
    expect(progress.commitPoint()).toBeUndefined();
  });

  it('reports what the previous owner completed', () => {
    const progress = new PartitionProgress('t', 0, new Set([12, 15]));
    expect(progress.wasCompletedBefore(12)).toBe(true);
    expect(progress.wasCompletedBefore(15)).toBe(true);
    expect(progress.wasCompletedBefore(13)).toBe(false);
    expect(new PartitionProgress('t', 0).wasCompletedBefore(0)).toBe(false);
  });

  it('truncates the metadata at the given size, keeping the lowest completed offsets', () => {
    const progress = progressWith(Array.from({ length: 200 }, (_, i) => 1000 + i));
    for (let i = 2; i < 200; i += 2) progress.complete(1000 + i); // every other one: no ranges
    const point = progress.commitPoint(40);
    expect(point?.offset).toBe('1000');
    expect(point!.metadata.length).toBeLessThanOrEqual(40);
    const decoded = decodeCompleted(1000, point?.metadata);
    expect(decoded.size).toBeGreaterThan(0);
    expect(decoded.size).toBeLessThan(99);
    const sorted = Array.from(decoded).sort((a, b) => a - b);
    expect(sorted).toEqual(Array.from({ length: sorted.length }, (_, i) => 1002 + 2 * i));
  });

  it('still commits correctly after compacting a long history', () => {
    const progress = new PartitionProgress('t', 0);
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

describe('encodeCompleted / decodeCompleted', () => {
  it('is empty for nothing completed', () => {
    expect(encodeCompleted(100, [], 4000)).toBe('');
    expect(decodeCompleted(100, '')).toEqual(new Set());
  });

  it('encodes ranges relative to the base, in base 36', () => {
    expect(encodeCompleted(100, [103, 104, 105, 109], 4000)).toBe('cw1:3-5,9');
    expect(encodeCompleted(0, [36, 37], 4000)).toBe('cw1:10-11');
    expect(encodeCompleted(0, [35], 4000)).toBe('cw1:z');
  });

  it('round-trips', () => {
    const sets = [
      new Set([1]),
      new Set([1, 2, 3, 4]),
      new Set([5, 7, 9, 10, 11, 40, 1000, 1001, 99_999]),
      new Set(Array.from({ length: 300 }, (_, i) => 1 + i * 3)),
    ];
    for (const base of [0, 12345, 2 ** 40]) {
      for (const set of sets) {
        const offsets = new Set(Array.from(set, (o) => base + o));
        expect(decodeCompleted(base, encodeCompleted(base, offsets, 100_000))).toEqual(offsets);
      }
    }
  });

  it('cuts at maxChars on a piece boundary, keeping a decodable prefix', () => {
    const offsets = new Set([1, 2, 3, 10, 20, 30, 40]); // pieces: 1-3,a,k,u,14
    expect(encodeCompleted(0, offsets, 4000)).toBe('cw1:1-3,a,k,u,14');
    expect(encodeCompleted(0, offsets, 12)).toBe('cw1:1-3,a,k');
    expect(encodeCompleted(0, offsets, 10)).toBe('cw1:1-3,a');
    expect(decodeCompleted(0, encodeCompleted(0, offsets, 12))).toEqual(new Set([1, 2, 3, 10, 20]));
    for (let max = 4; max < 20; max++) expect(encodeCompleted(0, offsets, max).length).toBeLessThanOrEqual(Math.max(max, 4));
  });

  it('drops the last piece too when it does not fit', () => {
    expect(encodeCompleted(0, new Set([1, 5]), 6)).toBe('cw1:1');
  });

  it('decodes foreign or missing metadata as nothing', () => {
    expect(decodeCompleted(0, null)).toEqual(new Set());
    expect(decodeCompleted(0, undefined)).toEqual(new Set());
    expect(decodeCompleted(0, 'some other consumer')).toEqual(new Set());
    expect(decodeCompleted(0, 'cw2:1-3')).toEqual(new Set());
  });

  it('skips unreadable pieces', () => {
    expect(decodeCompleted(10, 'cw1:!,2,')).toEqual(new Set([12]));
  });
});

describe('PartitionProgress keeps what the previous owner completed', () => {
  it('carries inherited completions it has not reached yet into its own commit metadata', () => {
    const progress = new PartitionProgress('t', 0, decodeCompleted(10, 'cw1:2,5'));
    for (const offset of [10, 11, 12]) {
      progress.dispatch(offset);
      progress.complete(offset);
    }
    const point = progress.commitPoint()!;
    expect(point.offset).toBe('13');
    expect(decodeCompleted(13, point.metadata)).toEqual(new Set([15]));
  });
});

describe('PartitionProgress taking over at a committed offset', () => {
  it('skips records below the committed offset that a stale fetch returns', () => {
    const progress = new PartitionProgress('t', 0, new Set(), 20);
    expect(progress.dispatch(18)).toBe(false);
    expect(progress.dispatch(19)).toBe(false);
    expect(progress.dispatch(20)).toBe(true);
  });
});

describe('PartitionProgress under random completion order', () => {
  it('always commits the first unfinished offset and records exactly the completed ones above it', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const progress = new PartitionProgress('t', 0);
    const offsets = Array.from({ length: 2000 }, (_, i) => i * 2); // gaps, as transaction markers leave
    for (const o of offsets) progress.dispatch(o);
    const order = [...offsets].sort(() => random() - 0.5);
    const completed = new Set<number>();
    for (let i = 0; i < order.length; i += 37) {
      for (const o of order.slice(i, i + 37)) {
        progress.complete(o);
        completed.add(o);
      }
      const point = progress.commitPoint(1_000_000)!;
      const firstOpen = offsets.find((o) => !completed.has(o));
      const base = Number(point.offset);
      if (firstOpen === undefined) expect(base).toBe(offsets[offsets.length - 1] + 1);
      else expect(base).toBe(firstOpen === offsets[0] ? firstOpen : offsets[offsets.indexOf(firstOpen) - 1] + 1);
      expect(decodeCompleted(base, point.metadata)).toEqual(new Set([...completed].filter((o) => o >= base)));
    }
  });
});
