import { randomUUID } from 'node:crypto';
import type { CaptureRequest, CaptureStatus } from '../../src/api/types';
import { resultBody, successBody } from './responses';

/** The sandbox's state: payments, captures by captureRequestId (the idempotency key), and stats. */

interface Payment {
  currency: string;
  authorized: bigint;
  captured: bigint;
}

interface RequestRecord {
  /** The fields of the first call; a later call must repeat them. */
  fingerprint: string;
  calls: number;
  final?: { status: CaptureStatus; body: Buffer; captureId?: string };
}

export interface SandboxTotals {
  /** Capture calls received, including rejected ones. */
  calls: number;
  /** Distinct successful captures. */
  captures: number;
  /** Calls refused for a bad request signature. */
  rejectedSignatures: number;
  /** Calls answered with the configuration refusal set by `refuse` (POST /sandbox/refuse). */
  refused: number;
  /** Calls answered REQUEST_TRAFFIC_EXCEED_LIMIT (over the capacity per second). */
  rateLimited: number;
  inFlight: number;
  /** Peak of simultaneous in-flight capture calls since start or reset. */
  maxConcurrent: number;
}

/** What the sandbox counted in one wall-clock second (epoch seconds). */
export interface SecondCounts {
  second: number;
  calls: number;
  captures: number;
  rateLimited: number;
}

// Seconds of per-second counts kept: enough for a benchmark's outage and recovery.
const KEEP_SECONDS = 900;

export interface RequestStats {
  captureRequestId: string;
  calls: number;
  finalStatus: CaptureStatus | null;
  captureId?: string;
}

function fingerprint(req: CaptureRequest): string {
  return JSON.stringify([req.paymentId, req.captureAmount.currency, req.captureAmount.value]);
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export class SandboxStore {
  private payments = new Map<string, Payment>();
  private requests = new Map<string, RequestRecord>();
  private totals: SandboxTotals = { calls: 0, captures: 0, rejectedSignatures: 0, refused: 0, rateLimited: 0, inFlight: 0, maxConcurrent: 0 };
  private readonly bySecond = new Map<number, SecondCounts>();

  constructor(
    private readonly authorizedAmount: bigint,
    private readonly now: () => number = Date.now,
  ) {}

  enter(): void {
    this.totals.calls++;
    this.perSecond('calls');
    this.totals.inFlight++;
    if (this.totals.inFlight > this.totals.maxConcurrent) this.totals.maxConcurrent = this.totals.inFlight;
  }

  leave(): void {
    this.totals.inFlight--;
  }

  rejectSignature(): void {
    this.totals.rejectedSignatures++;
  }

  refuse(): void {
    this.totals.refused++;
  }

  rateLimit(): void {
    this.totals.rateLimited++;
    this.perSecond('rateLimited');
  }

  /** Counts a call; returns how many calls this id has had, or null when its fields changed. */
  recordCall(req: CaptureRequest): number | null {
    const print = fingerprint(req);
    let rec = this.requests.get(req.captureRequestId);
    if (!rec) {
      rec = { fingerprint: print, calls: 0 };
      this.requests.set(req.captureRequestId, rec);
    }
    rec.calls++;
    return rec.fingerprint === print ? rec.calls : null;
  }

  /** The final F response for this id: the stored one, or a new one with `code`. */
  fail(req: CaptureRequest, code: string, message: string): Buffer {
    return this.settle(req, () => ({ status: 'F', body: resultBody('F', code, message) }));
  }

  /** The final response for this id: the stored one, or the outcome of capturing now. */
  capture(req: CaptureRequest): Buffer {
    return this.settle(req, () => {
      const { currency, value } = req.captureAmount;
      let payment = this.payments.get(req.paymentId);
      if (!payment) {
        payment = { currency, authorized: this.authorizedAmount, captured: 0n };
        this.payments.set(req.paymentId, payment);
      }
      if (payment.currency !== currency) {
        return { status: 'F', body: resultBody('F', 'CURRENCY_NOT_SUPPORT', `payment currency is ${payment.currency}`) };
      }
      const amount = BigInt(value);
      if (payment.captured + amount > payment.authorized) {
        const left = payment.authorized - payment.captured;
        const message = `capture of ${value} exceeds the ${left} left of ${payment.authorized} authorized`;
        return { status: 'F', body: resultBody('F', 'CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT', message) };
      }
      payment.captured += amount;
      this.totals.captures++;
      this.perSecond('captures');
      const captureId = randomUUID().replace(/-/g, '');
      const captureTime = isoSeconds(new Date());
      const acquirerReferenceNo = `acq${captureId.slice(0, 20)}`;
      return { status: 'S', body: successBody(req, { captureId, captureTime, acquirerReferenceNo }), captureId };
    });
  }

  private settle(req: CaptureRequest, decide: () => NonNullable<RequestRecord['final']>): Buffer {
    const rec = this.requests.get(req.captureRequestId);
    if (!rec) throw new Error('recordCall must come first');
    rec.final ??= decide();
    return rec.final.body;
  }

  stats(): SandboxTotals {
    return { ...this.totals };
  }

  /** The counts of the last seconds that had any, oldest first. */
  seconds(): SecondCounts[] {
    return [...this.bySecond.values()].map((counts) => ({ ...counts }));
  }

  private perSecond(key: 'calls' | 'captures' | 'rateLimited'): void {
    const second = Math.floor(this.now() / 1000);
    let counts = this.bySecond.get(second);
    if (!counts) {
      counts = { second, calls: 0, captures: 0, rateLimited: 0 };
      this.bySecond.set(second, counts);
      // A Map iterates in insertion order: the first key is the oldest second.
      if (this.bySecond.size > KEEP_SECONDS) this.bySecond.delete(this.bySecond.keys().next().value!);
    }
    counts[key]++;
  }

  requestStats(captureRequestId: string): RequestStats {
    const rec = this.requests.get(captureRequestId);
    const stats: RequestStats = { captureRequestId, calls: rec?.calls ?? 0, finalStatus: rec?.final?.status ?? null };
    if (rec?.final?.captureId !== undefined) stats.captureId = rec.final.captureId;
    return stats;
  }

  /** Forgets all payments, captures and counts; calls still in flight stay counted. */
  reset(): void {
    this.payments.clear();
    this.requests.clear();
    this.bySecond.clear();
    const { inFlight } = this.totals;
    this.totals = { calls: 0, captures: 0, rejectedSignatures: 0, refused: 0, rateLimited: 0, inFlight, maxConcurrent: inFlight };
  }
}
