import type { KeyObject } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import { classifyResult } from './result-codes';
import { signMessage, verifyMessage } from './signing';
import { CAPTURE_PATH, LOCAL_CODES, type CallTiming, type CaptureRequest, type CaptureResult } from './types';

export type { Amount, CaptureRequest, CaptureResult, CaptureStatus } from './types';

export interface CaptureClientOptions {
  baseUrl: string;
  clientId: string;
  keyVersion?: string;
  privateKey: KeyObject;
  vendorPublicKey: KeyObject;
  /** Deadline for one call, from queueing to the last body byte. */
  timeoutMs: number;
  /** Upper bound on open keep-alive connections. */
  connections: number;
  /** Answers marked as the capture sandbox's are accepted only when this is true. */
  sandbox?: boolean;
  path?: string;
}

/** A capture answer is a few hundred bytes; anything far larger is not read, let alone verified. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

type ResponseHeaders = Dispatcher.ResponseData['headers'];

const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function unknown(resultCode: string, resultMessage: string, httpStatus?: number): CaptureResult {
  return { status: 'U', resultCode, resultMessage, local: true, ...(httpStatus !== undefined && { httpStatus }) };
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Undefined when the body is longer than `max` (the rest is discarded unread). */
async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += (chunk as Buffer).length;
    if (length > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, length);
}

/** Which field of a success answer names something else than the request (a success is bound to what was sent). */
function differsFrom(req: CaptureRequest, json: Record<string, unknown>): string | undefined {
  const amount = (typeof json.captureAmount === 'object' && json.captureAmount !== null ? json.captureAmount : {}) as Record<string, unknown>;
  if (json.captureRequestId !== req.captureRequestId) return 'a captureRequestId';
  if (json.paymentId !== req.paymentId) return 'a paymentId';
  if (amount.currency !== req.captureAmount.currency || amount.value !== req.captureAmount.value) return 'a captureAmount';
  return undefined;
}

/** Calls the capture API: signs the request, verifies the response, and classifies it as S, F or U. */
export class CaptureClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly keyVersion: string;

  constructor(private readonly o: CaptureClientOptions) {
    const base = new URL(o.baseUrl);
    this.path = base.pathname.replace(/\/+$/, '') + (o.path ?? CAPTURE_PATH);
    this.keyVersion = o.keyVersion ?? '1';
    this.pool = new Pool(base.origin, {
      connections: o.connections,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connect: { timeout: o.timeoutMs },
    });
  }

  /**
   * Never throws for a transport fault: anything uncertain is U with a LOCAL_* code.
   * Only a signing failure (an unusable private key, before anything is sent) rejects.
   * The request is sent as given: validation is the caller's, once before the first attempt, so
   * a request that was sent before is never failed locally.
   */
  async capture(req: CaptureRequest, signal?: AbortSignal, timing?: CallTiming): Promise<CaptureResult> {
    // Built field by field so nothing but the API fields is sent, then signed as these exact bytes.
    const body = Buffer.from(
      JSON.stringify({
        captureRequestId: req.captureRequestId,
        paymentId: req.paymentId,
        captureAmount: { currency: req.captureAmount.currency, value: req.captureAmount.value },
      }),
    );
    const time = String(Date.now());
    const signature = await signMessage({ method: 'POST', path: this.path, clientId: this.o.clientId, time, body }, this.o.privateKey, this.keyVersion);
    if (signal?.aborted) return unknown(LOCAL_CODES.aborted, 'aborted before sending');

    const controller = new AbortController();
    // Set by the timer; TypeScript cannot see a callback's assignment, so the type is widened by hand.
    let timedOut = false as boolean;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.o.timeoutMs);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const sentAt = performance.now();
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: {
          'content-type': 'application/json; charset=UTF-8',
          'client-id': this.o.clientId,
          'request-time': time,
          signature,
        },
        body,
        signal: controller.signal,
      });
      const responseBody = await readCapped(res.body, MAX_RESPONSE_BYTES);
      if (timing) timing.roundTripMs = performance.now() - sentAt;
      if (!responseBody) return unknown(LOCAL_CODES.badBody, `response body exceeds ${MAX_RESPONSE_BYTES} bytes`, res.statusCode);
      return await this.interpret(req, res.statusCode, res.headers, responseBody);
    } catch (err) {
      if (timedOut) return unknown(LOCAL_CODES.timeout, `no complete response within ${this.o.timeoutMs} ms`);
      if (signal?.aborted) return unknown(LOCAL_CODES.aborted, 'aborted by the caller while in flight');
      const code = (err as { code?: string }).code ?? 'error';
      if (TIMEOUT_ERRORS.has(code)) return unknown(LOCAL_CODES.timeout, `transport timeout (${code})`);
      return unknown(LOCAL_CODES.connection, `transport failure (${code})`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async interpret(req: CaptureRequest, httpStatus: number, headers: ResponseHeaders, body: Buffer): Promise<CaptureResult> {
    if (httpStatus >= 500) return unknown(LOCAL_CODES.http5xx, `HTTP ${httpStatus}`, httpStatus);

    // The vendor echoes our client id; a response for another client is as untrusted as a bad signature.
    const trusted =
      header(headers, 'client-id') === this.o.clientId &&
      (await verifyMessage({ method: 'POST', path: this.path, clientId: this.o.clientId, time: header(headers, 'response-time') ?? '', body }, header(headers, 'signature'), this.o.vendorPublicKey));
    if (!trusted) return unknown(LOCAL_CODES.badSignature, 'response signature missing or invalid', httpStatus);

    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return unknown(LOCAL_CODES.badBody, 'response body is not JSON', httpStatus);
    }
    const json = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (json.sandbox !== undefined && !this.o.sandbox) {
      return {
        status: 'F',
        resultCode: LOCAL_CODES.sandbox,
        resultMessage: 'the capture sandbox answered, which moves no money: set ANTOM_SANDBOX=true to use it, or point ANTOM_BASE_URL and ANTOM_PUBLIC_KEY at the vendor',
        local: true,
        httpStatus,
      };
    }
    const result = json.result as Record<string, unknown> | undefined;
    const resultCode = optionalString(result?.resultCode);
    if (!resultCode) return unknown(LOCAL_CODES.badBody, 'response has no result code', httpStatus);

    const status = classifyResult(result);
    const captureResult: CaptureResult = {
      status,
      resultCode,
      resultMessage: optionalString(result?.resultMessage) ?? '',
      local: false,
      httpStatus,
    };
    if (status === 'S') {
      const differs = differsFrom(req, json);
      if (differs) return unknown(LOCAL_CODES.mismatch, `vendor anomaly: a success for ${differs} other than sent`, httpStatus);
      const captureId = optionalString(json.captureId);
      const captureTime = optionalString(json.captureTime);
      const acquirerReferenceNo = optionalString(json.acquirerReferenceNo);
      if (captureId !== undefined) captureResult.captureId = captureId;
      if (captureTime !== undefined) captureResult.captureTime = captureTime;
      if (acquirerReferenceNo !== undefined) captureResult.acquirerReferenceNo = acquirerReferenceNo;
    }
    return captureResult;
  }

  /** Waits for in-flight calls, then closes the connections. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
