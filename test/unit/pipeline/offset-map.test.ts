import { decodeOffsetMap, encodeOffsetMap, MAX_DECODABLE_CHARS, MAX_DECODABLE_SPAN, MAX_ENCODABLE_SPAN, maxEncodableSpan, OFFSET_METADATA_MAX_CHARS } from '../../../src/pipeline/offset-map';

/** mulberry32: small, seeded and good enough that random patterns do not compress by accident. */
function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Of base+1 .. base+count, the offsets whose position (1-based) `done` picks. */
function window(base: number, count: number, done: (position: number) => boolean): number[] {
  const offsets: number[] = [];
  for (let p = 1; p <= count; p++) if (done(p)) offsets.push(base + p);
  return offsets;
}

/** Random completion whose highest completed offset is base+span−1, so its span is exactly `span`. */
function randomWindow(base: number, span: number, density: number, random: () => number): number[] {
  const offsets = window(base, span - 2, () => random() < density);
  offsets.push(base + span - 1);
  return offsets;
}

function roundTrip(base: number, offsets: number[], maxChars?: number): string | undefined {
  const metadata = encodeOffsetMap(base, offsets, maxChars);
  if (metadata !== undefined) {
    const decoded = decodeOffsetMap(base, metadata);
    // Deep equality on arrays of thousands is slow; compare by hand and only show a diff on mismatch.
    const same = decoded.problem === undefined && decoded.offsets.length === offsets.length && decoded.offsets.every((o, i) => o === offsets[i]);
    if (!same) expect(decoded).toEqual({ offsets });
  }
  return metadata;
}

function base64url(bytes: number[]): string {
  return Buffer.from(bytes).toString('base64url');
}

/** The previous release's format, written from its description: ranges relative to base, base 36. */
function legacyOf(base: number, ascending: number[]): string {
  const pieces: string[] = [];
  for (let i = 0; i < ascending.length;) {
    let j = i;
    while (j + 1 < ascending.length && ascending[j + 1] === ascending[j] + 1) j++;
    const from = (ascending[i] - base).toString(36);
    pieces.push(i === j ? from : `${from}-${(ascending[j] - base).toString(36)}`);
    i = j + 1;
  }
  return `cw1:${pieces.join(',')}`;
}

/** Decodes and asserts the outcome was quick, whatever the input. */
function timedDecode(base: number, metadata: string): ReturnType<typeof decodeOffsetMap> {
  const started = performance.now();
  const result = decodeOffsetMap(base, metadata);
  expect(performance.now() - started).toBeLessThan(200);
  return result;
}

function expectProblem(base: number, metadata: string): string {
  const result = timedDecode(base, metadata);
  expect(result.offsets).toEqual([]);
  expect(typeof result.problem).toBe('string');
  return result.problem as string;
}

describe('offset map limits', () => {
  it('stays under Kafka default offset.metadata.max.bytes', () => {
    expect(OFFSET_METADATA_MAX_CHARS).toBe(4000);
  });

  it('guarantees a span of at least 20,000 offsets: 2,996 bitset bytes in 3,995 base64 characters', () => {
    expect(MAX_ENCODABLE_SPAN).toBe(2996 * 8 + 1);
    expect(MAX_ENCODABLE_SPAN).toBeGreaterThanOrEqual(20_000);
    expect(maxEncodableSpan()).toBe(MAX_ENCODABLE_SPAN);
    expect(maxEncodableSpan(4)).toBe(0);
    expect(maxEncodableSpan(7)).toBe(9); // 2 characters carry 1 byte
    expect(maxEncodableSpan(10 * MAX_DECODABLE_CHARS)).toBe(maxEncodableSpan(MAX_DECODABLE_CHARS));
  });
});

describe('encodeOffsetMap', () => {
  it('writes empty metadata when nothing above the base is done', () => {
    expect(encodeOffsetMap(10, [])).toBe('');
    expect(encodeOffsetMap(10, [3, 9, 10])).toBe('');
  });

  it('ignores offsets at or below the base, which the commit already covers', () => {
    expect(encodeOffsetMap(10, [8, 10, 12])).toBe(encodeOffsetMap(10, [12]));
    expect(decodeOffsetMap(10, encodeOffsetMap(10, [8, 10, 12]))).toEqual({ offsets: [12] });
  });

  it('writes a bitset from base+1, least significant bit first', () => {
    // base+1 and base+3 → bits 0 and 2 → 0x05.
    expect(encodeOffsetMap(100, [101, 103])).toBe(`cw2:b${base64url([0x05])}`);
    // base+9 → byte 1, bit 0.
    expect(encodeOffsetMap(100, [101, 109])).toBe(`cw2:b${base64url([0x01, 0x01])}`);
  });

  it('writes run lengths when shorter: not-done run then done run, LEB128', () => {
    // 999 not done (0xe7 0x07), then 2 done.
    expect(encodeOffsetMap(0, [1000, 1001])).toBe(`cw2:r${base64url([0xe7, 0x07, 0x02])}`);
    // Starts with an empty not-done run when base+1 is done.
    expect(
      encodeOffsetMap(
        5,
        window(5, 100, (p) => p <= 40 || p > 90),
      ),
    ).toBe(`cw2:r${base64url([0, 40, 50, 10])}`);
  });

  it('keeps the shorter of the two encodings', () => {
    const random = prng(11);
    for (let i = 0; i < 200; i++) {
      const span = 2 + Math.floor(random() * 3000);
      const offsets = randomWindow(7, span, random() < 0.5 ? random() : random() * 0.02, random);
      const metadata = encodeOffsetMap(7, offsets) as string;
      const bitsetChars = 5 + Math.ceil((Math.ceil((span - 1) / 8) * 4) / 3);
      expect(metadata.length).toBeLessThanOrEqual(Math.max(bitsetChars, 'cw2:bAQ'.length));
    }
  });

  it('rejects input that would record the wrong records', () => {
    expect(() => encodeOffsetMap(10, [12, 11])).toThrow(RangeError);
    expect(() => encodeOffsetMap(10, [12, 12])).toThrow(RangeError);
    expect(() => encodeOffsetMap(10, [11.5])).toThrow(RangeError);
    expect(() => encodeOffsetMap(10, [-1, 11])).toThrow(RangeError);
    expect(() => encodeOffsetMap(10, [Number.NaN])).toThrow(RangeError);
    expect(() => encodeOffsetMap(-1, [11])).toThrow(RangeError);
    expect(() => encodeOffsetMap(2 ** 53, [])).toThrow(RangeError);
    expect(() => encodeOffsetMap(10, [11], Number.NaN)).toThrow(RangeError);
  });
});

describe('round trip', () => {
  it('decodes what it encoded for random patterns, bases up to 2^40 and spans up to the guarantee', () => {
    const random = prng(20240601);
    // Each pattern keeps its highest completed offset below base + span.
    const patterns: Array<(span: number, base: number) => number[]> = [
      (span, base) => randomWindow(base, span, random() * 0.05, random), // sparse
      (span, base) => randomWindow(base, span, 0.95 + random() * 0.05, random), // dense
      (span, base) => randomWindow(base, span, random(), random),
      (span, base) => window(base, span - 1, (p) => p % 2 === 0), // alternating
      (span, base) => window(base, span - 1, (p) => p % 2 === 1),
      (span, base) => {
        // clustered: runs of random lengths, some longer than one varint byte
        const offsets: number[] = [];
        let p = 1 + Math.floor(random() * 300);
        while (p < span) {
          const run = 1 + Math.floor(random() * (random() < 0.5 ? 5 : 400));
          for (let k = 0; k < run && p < span; k++) offsets.push(base + p++);
          p += 1 + Math.floor(random() * (random() < 0.5 ? 5 : 400));
        }
        return offsets;
      },
    ];
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const base = Math.floor(random() * 2 ** 40);
      const span = 2 + Math.floor(random() * ((random() < 0.8 ? 300 : MAX_ENCODABLE_SPAN) - 1));
      const offsets = patterns[i % patterns.length](span, base);
      if (offsets.length === 0) continue;
      expect(offsets[offsets.length - 1] - base + 1).toBeLessThanOrEqual(MAX_ENCODABLE_SPAN);
      const metadata = roundTrip(base, offsets);
      expect(metadata).toBeDefined();
      expect((metadata as string).length).toBeLessThanOrEqual(OFFSET_METADATA_MAX_CHARS);
      checked++;
    }
    expect(checked).toBeGreaterThan(1200);
  }, 60_000);

  it('decodes what it encoded under small character limits, or reports that it does not fit', () => {
    const random = prng(5);
    for (let i = 0; i < 1000; i++) {
      const base = Math.floor(random() * 2 ** 40);
      const maxChars = 5 + Math.floor(random() * 60);
      const offsets = randomWindow(base, 2 + Math.floor(random() * 600), random(), random);
      const metadata = roundTrip(base, offsets, maxChars);
      if (metadata !== undefined) expect(metadata.length).toBeLessThanOrEqual(maxChars);
      if (offsets[offsets.length - 1] - base + 1 <= maxEncodableSpan(maxChars)) expect(metadata).toBeDefined();
    }
  }, 60_000);

  it('handles single offsets at the edges', () => {
    for (const base of [0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER - MAX_DECODABLE_SPAN]) {
      roundTrip(base, [base + 1]);
      roundTrip(base, [base + 8]);
      roundTrip(base, [base + 9]);
      roundTrip(base, [base + MAX_ENCODABLE_SPAN - 1]);
    }
  });
});

describe('capacity', () => {
  const base = 123_456_789_012;
  const random = prng(99);
  const windows: Array<[string, number[]]> = [
    ['every other offset', window(base, 20_000, (p) => p % 2 === 0)],
    ['every other offset from base+1', window(base, 20_000, (p) => p % 2 === 1)],
    ['random 50%', window(base, 20_000, () => random() < 0.5)],
    ['random 10%', window(base, 20_000, () => random() < 0.1)],
    ['random 90%', window(base, 20_000, () => random() < 0.9)],
    ['gaps of 128 (two-byte varints)', window(base, 20_000, (p) => p % 129 === 0)],
    ['mostly done, holes of one', window(base, 20_000, (p) => p % 3 !== 0)],
  ];

  it.each(windows)('encodes a 20,000-offset window, %s, within 4,096 characters', (_, offsets) => {
    const metadata = roundTrip(base, offsets) as string;
    expect(metadata.length).toBeLessThanOrEqual(OFFSET_METADATA_MAX_CHARS);
    expect(metadata.length).toBeLessThanOrEqual(4096);
  });

  it('fits a span of MAX_ENCODABLE_SPAN whatever the pattern', () => {
    for (const density of [0.5, 0.3, 0.7, 0.02]) {
      const metadata = roundTrip(base, randomWindow(base, MAX_ENCODABLE_SPAN, density, random));
      expect(metadata?.length).toBeLessThanOrEqual(OFFSET_METADATA_MAX_CHARS);
    }
    // Every other offset up to base + MAX_ENCODABLE_SPAN − 1: the bitset fills the 4,000 characters exactly.
    expect(
      roundTrip(
        base,
        window(base, MAX_ENCODABLE_SPAN - 1, (p) => p % 2 === 0),
      )?.length,
    ).toBe(OFFSET_METADATA_MAX_CHARS);
  });

  it('returns undefined for a pattern that cannot fit', () => {
    // Random completion over one more offset: the bitset needs a 2,997th byte, run lengths far more.
    expect(encodeOffsetMap(base, randomWindow(base, MAX_ENCODABLE_SPAN + 1, 0.5, random))).toBeUndefined();
    expect(
      encodeOffsetMap(
        base,
        window(base, 40_000, (p) => p % 2 === 1),
      ),
    ).toBeUndefined();
    expect(encodeOffsetMap(base, [base + 1, base + 1000], 6)).toBeUndefined();
  });

  it('still fits wide spans whose runs are few', () => {
    expect(roundTrip(base, [base + 900_000, base + 900_001])?.length).toBeLessThan(20);
  });

  it('refuses spans beyond what any reader accepts', () => {
    expect(encodeOffsetMap(base, [base + MAX_DECODABLE_SPAN - 1])).toBeDefined();
    expect(encodeOffsetMap(base, [base + MAX_DECODABLE_SPAN])).toBeUndefined();
  });
});

describe('legacy cw1 metadata', () => {
  it('reads single offsets and ranges relative to the base, base 36', () => {
    expect(decodeOffsetMap(10, 'cw1:1')).toEqual({ offsets: [11] });
    expect(decodeOffsetMap(100, 'cw1:3-5,9')).toEqual({ offsets: [103, 104, 105, 109] });
    // a=10, c=12, z=35, 10=36, 1a=46
    expect(decodeOffsetMap(1000, 'cw1:a-c,z,10-11,1a')).toEqual({ offsets: [1010, 1011, 1012, 1035, 1036, 1037, 1046] });
    expect(decodeOffsetMap(2 ** 40, 'cw1:2,4')).toEqual({ offsets: [2 ** 40 + 2, 2 ** 40 + 4] });
  });

  it('reads a long cw1 string as the old encoder cut it', () => {
    // Every other offset, as ranges of one, up to 4,000 characters.
    let metadata = 'cw1:';
    const expected: number[] = [];
    for (let relative = 1; ; relative += 2) {
      const next = `${metadata}${metadata === 'cw1:' ? '' : ','}${relative.toString(36)}`;
      if (next.length > 4000) break;
      metadata = next;
      expected.push(500 + relative);
    }
    expect(timedDecode(500, metadata)).toEqual({ offsets: expected });
  });

  it('reads random patterns written in the cw1 format', () => {
    const random = prng(17);
    for (let i = 0; i < 200; i++) {
      const base = Math.floor(random() * 2 ** 40);
      const offsets = randomWindow(base, 2 + Math.floor(random() * 3000), random(), random);
      const decoded = decodeOffsetMap(base, legacyOf(base, offsets));
      expect(decoded.problem).toBeUndefined();
      expect(decoded.offsets.length === offsets.length && decoded.offsets.every((o, k) => o === offsets[k])).toBe(true);
    }
  });

  it.each([
    ['cw1:', 'no ranges'],
    ['cw1:3-', 'open range'],
    ['cw1:5,3', 'descending'],
    ['cw1:3-5,5', 'overlapping'],
    ['cw1:5-3', 'reversed range'],
    ['cw1:0', 'the base itself'],
    ['cw1:-3', 'negative'],
    ['cw1:1.5', 'fraction'],
    ['cw1:A', 'upper case'],
    ['cw1:1,,2', 'empty piece'],
    ['cw1:1-zzzzzzz', 'huge range'],
    ['cw1:1-zzzzzzzzzzzzzzzzz', 'overlong number'],
  ])('reports %s (%s)', (metadata) => {
    expectProblem(10, metadata);
  });
});

describe('decodeOffsetMap on metadata from elsewhere', () => {
  it('treats absent, empty and foreign metadata as nothing recorded', () => {
    for (const metadata of [undefined, null, '', 'hello', '{"committedBy":"tool"}', 'cw', 'CW2:bAQ', ' cw2:bAQ']) {
      expect(decodeOffsetMap(10, metadata)).toEqual({ offsets: [] });
    }
    expect(timedDecode(10, 'x'.repeat(1_000_000))).toEqual({ offsets: [] });
  });

  it('reports a format version it does not know', () => {
    expect(expectProblem(10, 'cw3:bAQ')).toMatch(/cw3:/);
  });

  it.each([
    ['cw2:b', 'no payload'],
    ['cw2:b!!!!', 'not base64url'],
    ['cw2:bAQ==', 'padded'],
    ['cw2:bA/Q+', 'plain base64 alphabet'],
    ['cw2:bA', 'a dangling character'],
    ['cw2:bAR', 'non-canonical trailing bits'],
    ['cw2:b A Q', 'whitespace'],
    [`cw2:x${base64url([1])}`, 'unknown tag'],
    [`cw2:${base64url([1])}`, 'missing tag'],
    [`cw2:b${base64url([1, 0])}`, 'bitset ending with a zero byte'],
    [`cw2:r${base64url([0x80])}`, 'truncated varint'],
    [`cw2:r${base64url([0, 2, 0x85])}`, 'truncated varint after runs'],
    [`cw2:r${base64url([0x81, 0x00, 1])}`, 'varint with a padding byte'],
    [`cw2:r${base64url([0x80, 0x80, 0x80, 0x01, 1])}`, 'four-byte varint'],
    [`cw2:r${base64url([0xff, 0xff, 0x7f, 1])}`, 'run over the span cap'],
    // 492,064 (0xa0 0x84 0x1e) three times: each run is under the cap, their sum is not.
    [`cw2:r${base64url([0xa0, 0x84, 0x1e, 1, 0xa0, 0x84, 0x1e, 1, 0xa0, 0x84, 0x1e, 1])}`, 'runs adding up over the span cap'],
    [`cw2:r${base64url([0, 1, 0, 1])}`, 'empty run'],
    [`cw2:r${base64url([0, 1, 5])}`, 'ending with a not-done run'],
    [`cw2:r${base64url([5])}`, 'only a not-done run'],
  ])('reports %s (%s)', (metadata) => {
    expectProblem(10, metadata);
  });

  it('reports oversized metadata of ours without reading it', () => {
    expect(expectProblem(10, `cw2:b${'A'.repeat(1_000_000)}`)).toMatch(/limit/);
    expect(expectProblem(10, `cw1:${'1,'.repeat(500_000)}1`)).toMatch(/limit/);
    expect(expectProblem(10, `cw2:r${Buffer.alloc(800_000, 0xff).toString('base64url')}`)).toMatch(/limit/);
  });

  it('decodes the largest accepted metadata within bounds', () => {
    const bytes = Math.floor(((MAX_DECODABLE_CHARS - 5) / 4) * 3);
    const result = timedDecode(10, `cw2:b${Buffer.alloc(bytes, 0xff).toString('base64url')}`);
    expect(result.problem).toBeUndefined();
    expect(result.offsets.length).toBe(bytes * 8);
    expect(result.offsets.length).toBeLessThan(MAX_DECODABLE_SPAN);
    // Runs of 999,998 not done and 1 done: the widest span accepted.
    expect(timedDecode(0, `cw2:r${base64url([0xbe, 0x84, 0x3d, 1])}`)).toEqual({ offsets: [999_999] });
    expectProblem(0, `cw2:r${base64url([0xbf, 0x84, 0x3d, 1])}`);
  });

  it('reports a base that is not a usable offset', () => {
    for (const base of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER]) {
      expectProblem(base, 'cw2:bAQ');
      expectProblem(base, 'cw1:1');
    }
  });

  it('never throws on random or mutated metadata, and what it returns is ascending above the base', () => {
    const random = prng(3);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_,:+/=!';
    let slowest = 0;
    for (let i = 0; i < 2000; i++) {
      const base = Math.floor(random() * 2 ** 40);
      let metadata: string;
      if (i % 3 !== 2) {
        // A valid encoding, current or legacy, with one character replaced or removed.
        const offsets = randomWindow(base, 2 + Math.floor(random() * 2000), random(), random);
        const valid = i % 3 === 0 ? (encodeOffsetMap(base, offsets) as string) : legacyOf(base, offsets);
        const at = Math.floor(random() * valid.length);
        const replacement = random() < 0.3 ? '' : alphabet[Math.floor(random() * alphabet.length)];
        metadata = valid.slice(0, at) + replacement + valid.slice(at + 1);
      } else {
        const prefix = ['cw2:b', 'cw2:r', 'cw1:', 'cw2:'][Math.floor(random() * 4)];
        let body = '';
        const length = Math.floor(random() * 40);
        for (let k = 0; k < length; k++) body += alphabet[Math.floor(random() * alphabet.length)];
        metadata = prefix + body;
      }
      const started = performance.now();
      const result = decodeOffsetMap(base, metadata);
      slowest = Math.max(slowest, performance.now() - started);
      if (result.problem !== undefined) expect(result.offsets).toEqual([]);
      // A plain loop: one expect per offset would dominate the run time.
      let previous = base;
      let ascending = true;
      for (const offset of result.offsets) {
        if (!(Number.isSafeInteger(offset) && offset > previous)) ascending = false;
        previous = offset;
      }
      expect(ascending).toBe(true);
      expect(previous - base).toBeLessThan(MAX_DECODABLE_SPAN);
    }
    expect(slowest).toBeLessThan(200);
  }, 60_000);
});
