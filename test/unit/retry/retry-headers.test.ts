import type { IHeaders } from 'kafkajs';
import { readRetrySchedule, RETRY_HEADERS, retryHeaders, type RetrySchedule } from '../../../src/retry/retry-headers';

const schedule: RetrySchedule = { attempt: 3, dueAt: 1_700_000_060_000, firstAttemptAt: 1_700_000_000_000 };

describe('retry headers', () => {
  it('writes the three headers as decimal strings', () => {
    expect(retryHeaders(schedule)).toEqual({
      'capture-attempt': '3',
      'capture-due-at': '1700000060000',
      'capture-first-attempt-at': '1700000000000',
    });
    expect(Object.keys(retryHeaders(schedule)).sort()).toEqual(Object.values(RETRY_HEADERS).sort());
  });

  it('round-trips as strings and as Buffers (as kafkajs delivers them)', () => {
    const written = retryHeaders(schedule);
    expect(readRetrySchedule(written)).toEqual(schedule);
    const asBuffers: IHeaders = Object.fromEntries(Object.entries(written).map(([k, v]) => [k, Buffer.from(v)]));
    expect(readRetrySchedule(asBuffers)).toEqual(schedule);
  });

  it('ignores unrelated headers', () => {
    expect(readRetrySchedule({ ...retryHeaders(schedule), traceparent: 'x', other: Buffer.from('y') })).toEqual(schedule);
  });

  it('is undefined for numbers the outcome could not carry: attempts from 2^31, times from 2^53', () => {
    expect(readRetrySchedule(retryHeaders({ ...schedule, attempt: 2 ** 31 }))).toBeUndefined();
    expect(readRetrySchedule(retryHeaders({ ...schedule, attempt: 2 ** 31 - 1 }))?.attempt).toBe(2 ** 31 - 1);
    expect(readRetrySchedule({ ...retryHeaders(schedule), 'capture-due-at': String(2 ** 53) })).toBeUndefined();
    expect(readRetrySchedule({ ...retryHeaders(schedule), 'capture-first-attempt-at': '9'.repeat(30) })).toBeUndefined();
  });

  it('is undefined without headers', () => {
    expect(readRetrySchedule(undefined)).toBeUndefined();
    expect(readRetrySchedule({})).toBeUndefined();
  });

  it.each(Object.values(RETRY_HEADERS))('is undefined when %s is missing', (name) => {
    const { [name]: _missing, ...headers }: IHeaders = retryHeaders(schedule);
    expect(readRetrySchedule(headers)).toBeUndefined();
  });

  it.each([
    ['attempt not a number', { [RETRY_HEADERS.attempt]: 'three' }],
    ['attempt fractional', { [RETRY_HEADERS.attempt]: '2.5' }],
    ['attempt 1 (a retry is at least the 2nd attempt)', { [RETRY_HEADERS.attempt]: '1' }],
    ['attempt 0', { [RETRY_HEADERS.attempt]: '0' }],
    ['attempt negative', { [RETRY_HEADERS.attempt]: '-4' }],
    ['dueAt not a number', { [RETRY_HEADERS.dueAt]: 'soon' }],
    ['dueAt Infinity', { [RETRY_HEADERS.dueAt]: 'Infinity' }],
    ['firstAttemptAt not a number', { [RETRY_HEADERS.firstAttemptAt]: '12:00' }],
    ['firstAttemptAt garbage bytes', { [RETRY_HEADERS.firstAttemptAt]: Buffer.from([0xff, 0x00]) }],
  ])('is undefined with %s', (_name, change) => {
    expect(readRetrySchedule({ ...retryHeaders(schedule), ...change })).toBeUndefined();
  });
});

describe('readRetrySchedule with empty headers', () => {
  it('treats an empty due time as missing, not as zero', () => {
    expect(readRetrySchedule({ 'capture-attempt': '2', 'capture-due-at': '', 'capture-first-attempt-at': '1' })).toBeUndefined();
  });
});
