import type { IHeaders } from 'kafkajs';

/**
 * A retry record is the original request record, key and value bytes untouched, plus these
 * headers: the attempt it is for, when it is due, and when the first attempt was made.
 */
export interface RetrySchedule {
  attempt: number;
  dueAt: number;
  firstAttemptAt: number;
}

export const RETRY_HEADERS = {
  attempt: 'capture-attempt',
  dueAt: 'capture-due-at',
  firstAttemptAt: 'capture-first-attempt-at',
} as const;

export function retryHeaders(schedule: RetrySchedule): Record<string, string> {
  return {
    [RETRY_HEADERS.attempt]: String(schedule.attempt),
    [RETRY_HEADERS.dueAt]: String(schedule.dueAt),
    [RETRY_HEADERS.firstAttemptAt]: String(schedule.firstAttemptAt),
  };
}

/** Attempts fit the outcome schema's int; times must be exact, safe integers (ms since 1970). */
const MAX_ATTEMPT = 2 ** 31 - 1;

/**
 * Undefined when the headers are missing, not numbers, or out of range: such a record is
 * undecodable, and goes to the DLQ before any call rather than fail its outcome's encoding after one.
 */
export function readRetrySchedule(headers: IHeaders | undefined): RetrySchedule | undefined {
  const read = (name: string): number => {
    const text = headers?.[name]?.toString() ?? '';
    return /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  };
  const schedule = { attempt: read(RETRY_HEADERS.attempt), dueAt: read(RETRY_HEADERS.dueAt), firstAttemptAt: read(RETRY_HEADERS.firstAttemptAt) };
  const valid = schedule.attempt > 1 && schedule.attempt <= MAX_ATTEMPT && Number.isSafeInteger(schedule.dueAt) && Number.isSafeInteger(schedule.firstAttemptAt);
  return valid ? schedule : undefined;
}
