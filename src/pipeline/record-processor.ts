import { CONFIGURATION_HINTS, codeLabel, isConfigurationRefusal } from '../api/result-codes';
import { validateCaptureRequest } from '../api/validate';
import { LOCAL_CODES, type CallTiming, type CaptureRequest, type CaptureResult } from '../api/types';
import type { WorkerConfig } from '../config/config';
import { EventCodec, UndecodableRecordError } from '../events/event-codec';
import type { CaptureRequested } from '../events/types.generated';
import type { Logger } from '../observability/logger';
import { Tracing } from '../observability/tracing';
import type { WorkerMetrics } from '../observability/metrics';
import { nextAttemptAt } from '../retry/backoff';
import { retryHeaders } from '../retry/retry-headers';
import { placeRetry, type RetryTier } from '../retry/tiers';
import { sleep } from '../util/sleep';
import type { CircuitBreaker } from './circuit-breaker';
import type { CompletionHandle, OutputRecord } from './completion';
import { signalOf, type ConcurrencyLimiter } from './concurrency-limiter';
import { deadLetter } from './dead-letter';
import { KeyLanes } from './key-lanes';
import { buildOutcome } from './outcomes';

const CONFLICT = 'REPEAT_REQ_INCONSISTENT';
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeKey(bytes: Buffer): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The vendor's answer, on a DLQ record of a request that was sent. */
function vendorResultHeaders(result: CaptureResult): Record<string, string> {
  return {
    'dlq-vendor-result-code': result.resultCode,
    'dlq-vendor-result-status': result.status,
    ...(result.captureId !== undefined && { 'dlq-vendor-capture-id': result.captureId }),
  };
}

/** The one thing the pipeline needs from the API client. */
export interface CaptureApi {
  capture(request: CaptureRequest, signal?: AbortSignal, timing?: CallTiming): Promise<CaptureResult>;
}

/** Which attempt a record is for: 1 for a request, later ones from its retry headers. */
export interface Attempt {
  attempt: number;
  firstAttemptAt?: number;
}

export interface ProcessorDeps {
  config: Pick<WorkerConfig, 'topics' | 'retry' | 'maxRecordBytes'> & { logSuccessShare?: number };
  codec: Pick<EventCodec, 'decode' | 'encode'>;
  api: CaptureApi;
  breaker: Pick<CircuitBreaker, 'admit' | 'record' | 'halt' | 'returnProbe'>;
  limiter: Pick<ConcurrencyLimiter, 'acquire'>;
  metrics: WorkerMetrics;
  logger: Logger;
  stopping(): boolean;
  tracing?: Tracing;
  now?: () => number;
  random?: () => number;
}

/**
 * Takes one dispatched record to its output: decode, validate, call (one call at a time per key,
 * in offset order), and the outcome, retry or DLQ record, completed through the record's handle.
 * Metrics and logs count an outcome only once its transaction committed.
 */
export class RecordProcessor {
  private readonly lanes = new KeyLanes();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly tracing: Tracing;

  constructor(private readonly deps: ProcessorDeps) {
    this.tracing = deps.tracing ?? Tracing.off();
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
  }

  async process(handle: CompletionHandle, attempt: Attempt): Promise<void> {
    const { message } = handle;
    if (!message.key || message.key.length === 0) {
      return this.deadLetter(handle, 'MISSING_KEY', 'record has no key; the key is the captureRequestId');
    }
    const bytes = message.value?.length ?? 0;
    const { maxRecordBytes } = this.deps.config;
    if (bytes > maxRecordBytes) {
      // Its outcome copies the request and could exceed the broker's message limit: refuse before any call.
      return this.deadLetter(handle, 'RECORD_TOO_LARGE', `value is ${bytes} bytes; MAX_RECORD_BYTES is ${maxRecordBytes}`);
    }
    let request: CaptureRequested;
    try {
      request = await this.decodeRequest(message.value);
    } catch (error) {
      if (error instanceof UndecodableRecordError) return this.deadLetter(handle, error.reason, error.message);
      if (!handle.live || this.deps.stopping()) {
        handle.abandon();
        return;
      }
      throw error;
    }
    const key = decodeKey(message.key);
    // A lenient decode would turn different invalid keys into the same captureRequestId.
    if (key === undefined) return this.deadLetter(handle, 'INVALID_KEY', 'record key is not valid UTF-8; the key is the captureRequestId');
    const { sink } = handle;
    // Built only when tracing is on: this runs for every record.
    const span = () => ({
      'messaging.system': 'kafka',
      'messaging.destination.name': sink.topic,
      'messaging.destination.partition.id': String(sink.partition),
      'messaging.kafka.offset': Number(message.offset),
      'messaging.kafka.message.key': key,
      'capture.attempt': attempt.attempt,
    });
    await this.lanes.run(key, async () => (handle.live ? this.tracing.attempt(message.headers, span, () => this.attempt(handle, key, request, attempt)) : handle.abandon()));
  }

  async deadLetter(handle: CompletionHandle, reason: string, error: string, extra?: Record<string, string>): Promise<void> {
    const { sink, message } = handle;
    if (await handle.complete([{ topic: this.deps.config.topics.dlq, message: deadLetter(sink, message, reason, error, extra, this.deps.config.maxRecordBytes) }])) {
      this.deps.metrics.deadLettered.inc({ reason });
      this.deps.logger.warn(
        { reason, error, key: message.key ? (decodeKey(message.key) ?? `base64:${message.key.toString('base64')}`) : null, topic: sink.topic, partition: sink.partition, offset: message.offset },
        'record sent to the DLQ',
      );
    }
  }

  /**
   * Moves a retry record, bytes and headers untouched, to the tier it belongs in: records of the
   * single retry topic of earlier releases, and records due later than their tier can hold.
   */
  async forward(handle: CompletionHandle, tier: RetryTier): Promise<void> {
    const { message } = handle;
    if (await handle.complete([{ topic: tier.topic, message: { key: message.key, value: message.value, headers: message.headers } }])) this.deps.metrics.retriesForwarded.inc({ tier: tier.label });
  }

  /** Registry outages are waited out: a record is never condemned because the registry is down. */
  private async decodeRequest(value: Buffer | null): Promise<CaptureRequested> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        return await this.deps.codec.decode('CaptureRequested', value);
      } catch (error) {
        if (error instanceof UndecodableRecordError || this.deps.stopping()) throw error;
        this.deps.logger.warn({ err: error, retryInMs: wait }, 'schema registry unavailable; retrying decode');
        await sleep(wait);
      }
    }
  }

  private async attempt(handle: CompletionHandle, key: string, request: CaptureRequested, attempt: Attempt): Promise<void> {
    const { config, codec, metrics, logger } = this.deps;
    const captureRequest: CaptureRequest = { captureRequestId: key, paymentId: request.paymentId, captureAmount: request.captureAmount };
    const startedAt = this.now();
    // A request is judged once, before it is first sent; a retry was sent before and must not
    // turn into a local failure because validation changed since.
    const problem = attempt.attempt === 1 ? validateCaptureRequest(captureRequest) : undefined;
    const result: CaptureResult | undefined = problem
      ? { status: 'F', resultCode: 'PARAM_ILLEGAL', resultMessage: `${problem.field}: ${problem.message}`, local: true }
      : await this.call(captureRequest, () => handle.live && !this.deps.stopping());
    if (!result) {
      handle.abandon();
      return;
    }
    if (result.resultCode === CONFLICT && !result.local) return this.conflict(handle, result);
    if (result.resultCode === LOCAL_CODES.mismatch)
      logger.warn(
        { captureRequestId: key, paymentId: request.paymentId, resultMessage: result.resultMessage },
        'vendor anomaly: a success answer for something else than was sent; treated as unknown and retried',
      );
    const completedAt = this.now();
    const firstAttemptAt = attempt.firstAttemptAt ?? startedAt;
    const desiredAt = result.status === 'U' ? nextAttemptAt(config.retry, attempt.attempt, firstAttemptAt, completedAt) : undefined;
    const placed = desiredAt === undefined ? undefined : placeRetry(config.retry.tiers, desiredAt, completedAt, this.random);
    // The tier's delay may land past the deadline: then this attempt was the last.
    const retry = placed && placed.dueAt - firstAttemptAt <= config.retry.deadlineMs ? placed : undefined;
    const retryAt = retry?.dueAt;
    const outcome = buildOutcome(config.topics, { captureRequestId: key, request, attempt: attempt.attempt, firstAttemptAt, completedAt }, result, retryAt);
    const { message } = handle;
    let value: Buffer;
    try {
      value = codec.encode(outcome.event.name, outcome.event.value);
    } catch (error) {
      // The call was made: the record must not crash the worker and come back to be called again
      // and again. Its result travels with it to the DLQ for whoever reconciles it.
      return this.deadLetter(handle, 'OUTCOME_ENCODE_FAILED', `the ${outcome.event.name} event could not be encoded: ${(error as Error).message}`, vendorResultHeaders(result));
    }
    // The trace travels with every record written for the request, so it survives any number of retries.
    const trace = this.tracing.headersFor(message.headers);
    const records: OutputRecord[] = [{ topic: outcome.topic, message: { key: message.key, value, headers: trace } }];
    if (retry) {
      records.push({
        topic: retry.tier.topic,
        message: { key: message.key, value: message.value, headers: { ...trace, ...retryHeaders({ attempt: attempt.attempt + 1, dueAt: retry.dueAt, firstAttemptAt }) } },
      });
    }
    if (!(await handle.complete(records))) return;
    const final = result.status === 'U' && retryAt === undefined;
    metrics.outcomes.inc({ status: result.status, code: codeLabel(result.resultCode), final: String(final) });
    if (retryAt !== undefined) metrics.retriesScheduled.inc();
    else metrics.endToEnd.observe(Math.max(0, this.now() - request.requestedAt) / 1000);
    const { sink } = handle;
    // Failures and unknowns are always logged; successes may be sampled at high rates (LOG_SUCCESS_SAMPLE).
    if (result.status === 'S' && this.random() >= (config.logSuccessShare ?? 1)) return;
    logger.info(
      {
        captureRequestId: key,
        paymentId: request.paymentId,
        topic: sink.topic,
        partition: sink.partition,
        offset: message.offset,
        status: result.status,
        resultCode: result.resultCode,
        attempt: attempt.attempt,
        durationMs: completedAt - startedAt,
        nextAttemptAt: retryAt,
        final,
      },
      result.resultMessage,
    );
  }

  /**
   * The key was used before with other fields: that earlier request may well have been captured,
   * so a CaptureFailed here would tell a consumer keeping the latest state per key something false.
   * No outcome, then; the record goes to the DLQ for whoever produced it.
   */
  private conflict(handle: CompletionHandle, result: CaptureResult): Promise<void> {
    this.deps.metrics.conflicts.inc();
    return this.deadLetter(
      handle,
      'CONFLICTING_REQUEST',
      `the vendor answered ${result.resultCode}: this captureRequestId was used before with other fields; ${result.resultMessage}`,
      vendorResultHeaders(result),
    );
  }

  /**
   * Waits for a slot of the concurrency limit, then for the circuit, then calls the API. The slot
   * is taken first so that the calls waiting for the circuit to close are at most the limit, which
   * the faults that opened it have cut. An answer refusing the merchant's configuration halts the
   * circuit and this request waits with all others for the probe that finds it fixed; undefined
   * when the record was given up meanwhile (its partition revoked, or shutdown).
   */
  private async call(request: CaptureRequest, live: () => boolean): Promise<CaptureResult | undefined> {
    for (;;) {
      const result = await this.callOnce(request, live);
      if (!result || !isConfigurationRefusal(result)) return result;
      if (!live()) return undefined;
    }
  }

  private async callOnce(request: CaptureRequest, live: () => boolean): Promise<CaptureResult | undefined> {
    const { breaker, limiter, api, metrics } = this.deps;
    const release = await limiter.acquire();
    const probe = await breaker.admit();
    if (!live()) {
      if (probe) breaker.returnProbe();
      release('ignore', 0);
      return undefined;
    }
    const timer = metrics.apiLatency.startTimer();
    let result: CaptureResult | undefined;
    const timing: CallTiming = {};
    try {
      result = await this.tracing.call(
        () => api.capture(request, undefined, timing),
        (answer) => ({
          attributes: { 'capture.result_status': answer.status, 'capture.result_code': answer.resultCode, ...(answer.httpStatus !== undefined && { 'http.response.status_code': answer.httpStatus }) },
          error: answer.status === 'U' && answer.local ? answer.resultCode : undefined,
        }),
      );
      return result;
    } finally {
      const seconds = timer({ status: result?.status ?? 'U' });
      if (result && isConfigurationRefusal(result)) this.halted(result, probe);
      else breaker.record(result === undefined || (result.status === 'U' && result.local), probe);
      const signal = signalOf(result);
      if (signal === 'rate-limited') metrics.apiRateLimited.inc();
      // The vendor's share of the time when known: this host's own queueing must not cut the limit.
      release(signal, timing.roundTripMs ?? seconds * 1000);
    }
  }

  /** One error when a halt begins (what to check), a warning for each probe the vendor still refuses. */
  private halted(result: CaptureResult, probe: boolean): void {
    const { breaker, metrics, logger } = this.deps;
    metrics.configurationRefusals.inc({ code: result.resultCode });
    const details = { resultCode: result.resultCode, resultMessage: result.resultMessage, httpStatus: result.httpStatus, check: CONFIGURATION_HINTS.get(result.resultCode) };
    if (breaker.halt(probe))
      logger.error(
        details,
        'capture calls halted: the vendor refuses the merchant configuration; no capture is failed for it, records wait uncommitted and calls resume by themselves once a probe is accepted',
      );
    else if (probe) logger.warn(details, 'capture calls still halted: the probe was refused again');
  }
}
