/**
 * Completed offsets above a partition's committed offset, packed into the offset-commit metadata
 * string so that whoever takes the partition over skips them instead of publishing their outcomes
 * twice.
 *
 * Format `cw2:` + tag + unpadded base64url, where offset `base + 1 + i` is position i (the record at
 * `base` itself is never done: it is the next to read):
 * - tag `b`, bitset: bit i (byte i >> 3, least significant bit first) set when position i is done.
 *   Never ends with a zero byte. Its size depends only on the span, so it bounds the worst case.
 * - tag `r`, run-length: unsigned LEB128 varints giving alternating run lengths, starting with the
 *   not-done run at position 0 (may be 0) followed by a done run, then not-done, done, ... each of
 *   those at least 1, always ending with a done run. Wins when completions are clustered.
 * The shorter of the two is written. Deflate is not used: on the patterns that decide the capacity
 * (random completion) it cannot beat the bitset, and it would add a decompression bomb to guard.
 *
 * Decoding also reads the previous release's `cw1:` ranges. Metadata is read from Kafka, where
 * anything may have written it, so decoding never throws and never allocates beyond fixed caps.
 */

export const OFFSET_METADATA_MAX_CHARS = 4000; // under Kafka's default offset.metadata.max.bytes (4096)

/** Longer metadata is refused unread (Kafka's default cap is 4096; this leaves room for raised caps). */
export const MAX_DECODABLE_CHARS = 64 * 1024;
/** Largest span (highest completed offset − base + 1) either side accepts: bounds the decoded array. */
export const MAX_DECODABLE_SPAN = 1_000_000;

const PREFIX = 'cw2:';
const LEGACY_PREFIX = 'cw1:';
const BITSET = 'b';
const RUN_LENGTH = 'r';
const HEADER_CHARS = PREFIX.length + 1;

/** Most payload bytes whose base64 fits in `maxChars` after the header. */
function payloadBytesWithin(maxChars: number): number {
  const chars = Math.min(maxChars, MAX_DECODABLE_CHARS) - HEADER_CHARS;
  if (!(chars >= 2)) return 0;
  // Unpadded base64: 4 chars carry 3 bytes, a trailing 2 or 3 chars carry 1 or 2 more.
  return Math.floor(chars / 4) * 3 + [0, 0, 1, 2][chars % 4];
}

/** Largest span whose bitset, hence whichever encoding is written, fits in `maxChars` for any pattern. */
export function maxEncodableSpan(maxChars: number = OFFSET_METADATA_MAX_CHARS): number {
  const bytes = payloadBytesWithin(maxChars);
  // The bitset covers base+1 .. highest: span − 1 bits.
  return bytes === 0 ? 0 : Math.min(bytes * 8 + 1, MAX_DECODABLE_SPAN);
}

/** 23,969 with the defaults: 2,996 bitset bytes = 3,995 base64 characters after the 5-character header. */
export const MAX_ENCODABLE_SPAN: number = maxEncodableSpan(OFFSET_METADATA_MAX_CHARS);

/**
 * Metadata recording `completedAscending` above the committed offset `base`; '' when there are none,
 * undefined when it cannot fit in `maxChars` (never the case for spans up to MAX_ENCODABLE_SPAN) or
 * spans more than MAX_DECODABLE_SPAN, which the reader would refuse. `maxChars` above
 * MAX_DECODABLE_CHARS is lowered to it for the same reason.
 * Offsets <= base are ignored: the commit already covers them. Throws RangeError for a base or offset
 * that is not a non-negative safe integer, and for offsets that are not ascending and distinct, since
 * metadata built from such input would make the next owner skip the wrong records.
 */
export function encodeOffsetMap(base: number, completedAscending: readonly number[], maxChars: number = OFFSET_METADATA_MAX_CHARS): string | undefined {
  if (!isOffset(base)) throw new RangeError(`base must be a non-negative safe integer, got ${base}`);
  if (!(maxChars >= 0)) throw new RangeError(`maxChars must be a non-negative number, got ${maxChars}`);
  let first = 0;
  let previous = -1;
  for (let i = 0; i < completedAscending.length; i++) {
    const offset = completedAscending[i];
    if (!isOffset(offset)) rejectOffset(offset);
    if (offset <= previous) rejectOrder(offset, previous);
    previous = offset;
    if (offset <= base) first = i + 1;
  }
  if (first === completedAscending.length) return '';
  const highest = completedAscending[completedAscending.length - 1];
  if (highest - base + 1 > MAX_DECODABLE_SPAN) return undefined;

  const room = payloadBytesWithin(maxChars);
  const bitsetBytes = Math.ceil((highest - base) / 8);
  // Run-length is only built while it stays shorter than the bitset and within the room.
  const runs = runLengthBytes(base, completedAscending, first, Math.min(bitsetBytes - 1, room));
  if (runs !== undefined) return PREFIX + RUN_LENGTH + base64url(runs);
  if (bitsetBytes > room) return undefined;
  return PREFIX + BITSET + base64url(bitsetOf(base, completedAscending, first, bitsetBytes));
}

// Thrown out of line: template literals over the loop's numbers inside the loop slow it many times over in V8.
function rejectOffset(offset: number): never {
  throw new RangeError(`offset must be a non-negative safe integer, got ${offset}`);
}

function rejectOrder(offset: number, previous: number): never {
  throw new RangeError(`offsets must be ascending and distinct: ${offset} after ${previous}`);
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

function bitsetOf(base: number, ascending: readonly number[], first: number, bytes: number): Uint8Array {
  const bits = new Uint8Array(bytes);
  for (let i = first; i < ascending.length; i++) {
    const position = ascending[i] - base - 1;
    bits[position >>> 3] |= 1 << (position & 7);
  }
  return bits;
}

/** The run-length bytes, or undefined as soon as they would exceed `maxBytes`. */
function runLengthBytes(base: number, ascending: readonly number[], first: number, maxBytes: number): Uint8Array | undefined {
  if (maxBytes <= 0) return undefined;
  const out = new Uint8Array(maxBytes);
  let length = 0;
  const put = (value: number): boolean => {
    // Run lengths are below MAX_DECODABLE_SPAN, so 32-bit shifts are safe.
    do {
      if (length >= maxBytes) return false;
      const low = value & 0x7f;
      value >>>= 7;
      out[length++] = value === 0 ? low : low | 0x80;
    } while (value !== 0);
    return true;
  };
  let next = base + 1; // first position not yet described
  let i = first;
  while (i < ascending.length) {
    const start = ascending[i];
    let end = start;
    while (i + 1 < ascending.length && ascending[i + 1] === end + 1) end = ascending[++i];
    i++;
    if (!put(start - next) || !put(end - start + 1)) return undefined;
    next = end + 1;
  }
  return out.subarray(0, length);
}

export interface DecodedOffsetMap {
  /** Completed offsets above base, ascending. */
  offsets: number[];
  /** Why metadata in one of our formats was not used; absent when it decoded or was not ours. */
  problem?: string;
}

/** The completed offsets above `base` recorded in commit metadata; never throws. */
export function decodeOffsetMap(base: number, metadata: string | null | undefined): DecodedOffsetMap {
  if (typeof metadata !== 'string' || metadata === '') return { offsets: [] };
  const legacy = metadata.startsWith(LEGACY_PREFIX);
  if (!legacy && !metadata.startsWith(PREFIX)) {
    // Another release of ours (cw3: ...) is worth a mention; other tools' metadata is not.
    const other = /^cw\d{1,6}:/.exec(metadata);
    return other !== null ? failed(`metadata format ${other[0]} is not supported`) : { offsets: [] };
  }
  if (metadata.length > MAX_DECODABLE_CHARS) return failed(`metadata of ${metadata.length} characters is over the ${MAX_DECODABLE_CHARS}-character limit`);
  if (!isOffset(base)) return failed(`base ${base} is not a non-negative safe integer`);
  // Spans are capped, so base + position stays a safe integer only if base leaves room for the cap.
  if (base > Number.MAX_SAFE_INTEGER - MAX_DECODABLE_SPAN) return failed(`base ${base} is too large`);
  return legacy ? decodeLegacy(base, metadata.slice(LEGACY_PREFIX.length)) : decodeCurrent(base, metadata.slice(PREFIX.length));
}

function failed(problem: string): DecodedOffsetMap {
  return { offsets: [], problem };
}

function decodeCurrent(base: number, body: string): DecodedOffsetMap {
  const tag = body.charAt(0);
  const text = body.slice(1);
  // Node's decoder skips characters outside the alphabet; insist on the exact canonical text instead.
  if (text === '' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return failed('metadata is not valid base64url');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return failed('metadata is not canonical base64url');
  if (tag === BITSET) return decodeBitset(base, bytes);
  if (tag === RUN_LENGTH) return decodeRuns(base, bytes);
  return failed(`metadata encoding tag ${JSON.stringify(tag)} is unknown`);
}

function decodeBitset(base: number, bytes: Uint8Array): DecodedOffsetMap {
  if (bytes[bytes.length - 1] === 0) return failed('bitset metadata ends with a zero byte');
  // Highest done position from the last byte's top bit; span = position + 2 (base and base+1+position).
  const span = (bytes.length - 1) * 8 + (31 - Math.clz32(bytes[bytes.length - 1])) + 2;
  if (span > MAX_DECODABLE_SPAN) return failed(`bitset metadata spans more than ${MAX_DECODABLE_SPAN} offsets`);
  const offsets: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) offsets.push(base + 1 + i * 8 + bit);
  }
  return { offsets };
}

function decodeRuns(base: number, bytes: Uint8Array): DecodedOffsetMap {
  // Validate fully before allocating: the sum of runs is checked against the cap as it is read.
  const runs: number[] = [];
  let total = 0;
  let at = 0;
  while (at < bytes.length) {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      if (at >= bytes.length) return failed('run-length metadata ends inside a number');
      if (shift > 14) return failed('run-length metadata holds a number longer than 3 bytes');
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    if (byte === 0 && shift > 7) return failed('run-length metadata holds a number with padding bytes');
    if (value === 0 && runs.length > 0) return failed('run-length metadata holds an empty run');
    total += value;
    if (total + 1 > MAX_DECODABLE_SPAN) return failed(`run-length metadata spans more than ${MAX_DECODABLE_SPAN} offsets`);
    runs.push(value);
  }
  if (runs.length % 2 === 1) return failed('run-length metadata ends with a not-done run');
  const offsets: number[] = [];
  let next = base + 1;
  for (let r = 0; r < runs.length; r += 2) {
    next += runs[r];
    for (const end = next + runs[r + 1]; next < end; next++) offsets.push(next);
  }
  return { offsets };
}

/**
 * The previous release's format: comma-separated ranges relative to base, base 36, `3-5,9` meaning
 * base+3..base+5 and base+9, ascending. Its encoder cut whole ranges at 4,000 characters, so what
 * it wrote is still well formed.
 */
function decodeLegacy(base: number, body: string): DecodedOffsetMap {
  if (body === '') return failed('cw1 metadata holds no ranges');
  const spans: number[] = [];
  let previous = 0;
  let count = 0;
  for (const piece of body.split(',')) {
    const match = /^([0-9a-z]{1,7})(?:-([0-9a-z]{1,7}))?$/.exec(piece);
    if (match === null) return failed(`cw1 metadata has a malformed range ${JSON.stringify(piece.slice(0, 20))}`);
    const from = parseInt(match[1], 36);
    const upper = match.at(2); // undefined when the optional group did not match
    const to = upper === undefined ? from : parseInt(upper, 36);
    if (from < 1 || to < from || from <= previous) return failed('cw1 metadata ranges are not ascending above the base');
    if (to + 1 > MAX_DECODABLE_SPAN) return failed(`cw1 metadata spans more than ${MAX_DECODABLE_SPAN} offsets`);
    spans.push(from, to);
    count += to - from + 1;
    previous = to;
  }
  // Ascending, disjoint and under the span cap, so count <= MAX_DECODABLE_SPAN.
  const offsets: number[] = new Array<number>(count);
  let k = 0;
  for (let s = 0; s < spans.length; s += 2) for (let o = spans[s]; o <= spans[s + 1]; o++) offsets[k++] = base + o;
  return { offsets };
}

function isOffset(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
