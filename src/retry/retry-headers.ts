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

/** Undefined when the headers are missing or not numbers: such a record is undecodable. */
export function readRetrySchedule(headers: IHeaders | undefined): RetrySchedule | undefined {
  const read = (name: string): number => {
    const text = headers?.[name]?.toString() ?? '';
    return /^\d+$/.test(text) ? Number(text) : NaN;
  };
  const schedule = { attempt: read(RETRY_HEADERS.attempt), dueAt: read(RETRY_HEADERS.dueAt), firstAttemptAt: read(RETRY_HEADERS.firstAttemptAt) };
  return Number.isInteger(schedule.attempt) && schedule.attempt > 1 && Number.isFinite(schedule.dueAt) && Number.isFinite(schedule.firstAttemptAt) ? schedule : undefined;
}
