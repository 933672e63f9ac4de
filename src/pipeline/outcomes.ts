import type { CaptureResult } from '../api/types';
import type { TopicNames } from '../config/config';
import type { CaptureRequested, CaptureUnknown, Result } from '../events/types.generated';
import { outcomeRole, TOPIC_CONTRACT } from '../events/contract';
import type { EventTypes } from '../events/event-codec';

/** What one attempt produced: exactly one outcome event, and for a non-final unknown, a retry. */
export interface AttemptOutcome {
  event: OutcomeEvent;
  topic: string;
  /** Set when another attempt is scheduled. */
  retryAt?: number;
}

export type OutcomeEvent =
  { name: 'CaptureSucceeded'; value: EventTypes['CaptureSucceeded'] } | { name: 'CaptureFailed'; value: EventTypes['CaptureFailed'] } | { name: 'CaptureUnknown'; value: EventTypes['CaptureUnknown'] };

export interface AttemptContext {
  captureRequestId: string;
  request: CaptureRequested;
  attempt: number;
  firstAttemptAt: number;
  completedAt: number;
}

/**
 * Builds the outcome of one attempt. Amount, currency, payment id and key are copied from the
 * request as they are; nothing is recomputed. An uncertain result is never reported as failed.
 */
export function buildOutcome(topics: TopicNames, context: AttemptContext, result: CaptureResult, retryAt: number | undefined): AttemptOutcome {
  const common = {
    captureRequestId: context.captureRequestId,
    paymentId: context.request.paymentId,
    captureAmount: context.request.captureAmount,
    requestedAt: context.request.requestedAt,
    metadata: context.request.metadata,
    result: toResult(result),
    attempt: context.attempt,
    firstAttemptAt: context.firstAttemptAt,
    completedAt: context.completedAt,
  };
  const role = outcomeRole(result.status);
  const topic = topics[role];
  switch (role) {
    case 'succeeded': {
      const value = { ...common, captureId: result.captureId ?? '', captureTime: result.captureTime ?? '', acquirerReferenceNo: result.acquirerReferenceNo ?? null };
      return { topic, event: { name: TOPIC_CONTRACT[role].event, value } };
    }
    case 'failed':
      return { topic, event: { name: TOPIC_CONTRACT[role].event, value: common } };
    case 'unknown': {
      const unknown: CaptureUnknown = { ...common, nextAttemptAt: retryAt ?? null, final: retryAt === undefined };
      return { topic, event: { name: TOPIC_CONTRACT[role].event, value: unknown }, retryAt };
    }
  }
}

function toResult(result: CaptureResult): Result {
  return { resultStatus: result.status, resultCode: result.resultCode, resultMessage: result.resultMessage, local: result.local };
}
