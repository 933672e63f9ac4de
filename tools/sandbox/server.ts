import { createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair } from '../../src/api/keys';
import { signMessage, verifyMessage } from '../../src/api/signing';
import { CAPTURE_PATH, type CaptureRequest } from '../../src/api/types';
import { validateCaptureRequest } from '../../src/api/validate';
import { PerSecondCapacity } from './capacity';
import { resultBody } from './responses';
import { planCapture } from './scenarios';
import { SandboxStore, type RequestStats, type SandboxTotals, type SecondCounts } from './store';

export interface SandboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The sandbox's own (the "vendor's") key; a fresh pair is generated when absent. */
  privateKey?: KeyObject;
  /** Verifies request signatures. */
  merchantPublicKey: KeyObject;
  /** When set, calls from any other Client-Id are refused. */
  clientId?: string;
  keyVersion?: string;
  /** Authorized amount of every payment, in minor units of its first capture's currency. */
  authorizedAmount?: string;
  latencyMs?: number;
  /** Up to this much extra latency, uniformly random. */
  jitterMs?: number;
  /** How late `timeout-<n>-` calls are answered; must exceed the client's timeout. */
  timeoutDelayMs?: number;
  /**
   * Calls admitted in each wall-clock second (0: no limit); the rest are answered U
   * REQUEST_TRAFFIC_EXCEED_LIMIT after the plain latency, without touching any capture.
   */
  capacityPerSec?: number;
  /** Extra latency per other capture call in flight when a call arrives, as a loaded vendor's. */
  latencyPerConcurrentMs?: number;
}

export interface Sandbox {
  url: string;
  /** Verifies the sandbox's responses (the client's vendorPublicKey). */
  publicKey: KeyObject;
  stats(): SandboxTotals;
  /** Calls, captures and rate-limited answers per wall-clock second. */
  seconds(): SecondCounts[];
  requestStats(captureRequestId: string): RequestStats;
  /**
   * Answers every verified call with this configuration refusal (e.g. INVALID_SIGNATURE, status
   * F) and captures nothing, as the vendor does after a bad key rotation; null answers normally again.
   */
  refuse(code: string | null): void;
  reset(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

/** setTimeout that close() can cancel, so no timer outlives the server. */
class Delays {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();

  /** Resolves true after ms, or false if cancelled first. */
  wait(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(true);
      }, ms);
      this.pending.set(timer, () => resolve(false));
    });
  }

  cancelAll(): void {
    for (const [timer, cancel] of this.pending) {
      clearTimeout(timer);
      cancel();
    }
    this.pending.clear();
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : null));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return typeof value === 'string' ? value : '';
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function parseRequest(body: Buffer): CaptureRequest | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as CaptureRequest) : null;
  } catch {
    return null;
  }
}

/** Starts the capture API simulator (README, "Sandbox scenarios"). */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const privateKey = options.privateKey ?? (await generateKeyPair()).privateKey;
  const keyVersion = options.keyVersion ?? '1';
  const latencyMs = options.latencyMs ?? 0;
  const jitterMs = options.jitterMs ?? 0;
  const timeoutDelayMs = options.timeoutDelayMs ?? 3000;
  const latencyPerConcurrentMs = options.latencyPerConcurrentMs ?? 0;
  const capacity = options.capacityPerSec ? new PerSecondCapacity(options.capacityPerSec) : undefined;
  const store = new SandboxStore(BigInt(options.authorizedAmount ?? '1000000'));
  const delays = new Delays();
  /** The configuration refusal every verified call gets, if any (see Sandbox.refuse). */
  let refusing: string | null = null;

  async function respond(res: ServerResponse, path: string, clientId: string, plan: { httpStatus: number; body: Buffer; badSignature?: boolean }): Promise<void> {
    if (res.destroyed) return; // The caller gave up; don't spend a signature on it.
    const time = String(Date.now());
    // A wrong signature is a real signature of other content, so only verification can catch it.
    const signedTime = plan.badSignature ? String(Number(time) + 1) : time;
    const signature = await signMessage({ method: 'POST', path, clientId, time: signedTime, body: plan.body }, privateKey, keyVersion);
    res.writeHead(plan.httpStatus, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': plan.body.length,
      'client-id': clientId,
      'response-time': time,
      signature,
    });
    res.end(plan.body);
  }

  async function handleCapture(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    store.enter();
    res.on('close', () => store.leave());
    const body = await readBody(req);
    const clientId = header(req, 'client-id');
    const illegal = (httpStatus: number, message: string): Promise<void> => respond(res, path, clientId, { httpStatus, body: resultBody('F', 'PARAM_ILLEGAL', message) });
    if (body === null) return illegal(413, `body exceeds ${MAX_BODY_BYTES} bytes`);
    const signed = { method: 'POST', path, clientId, time: header(req, 'request-time'), body };
    const verified = clientId !== '' && (options.clientId === undefined || clientId === options.clientId) && (await verifyMessage(signed, header(req, 'signature'), options.merchantPublicKey));
    if (!verified) {
      store.rejectSignature();
      const denied = resultBody('F', 'ACCESS_DENIED', 'request signature or client id is invalid');
      return respond(res, path, clientId, { httpStatus: 401, body: denied });
    }
    const roundTripMs = latencyMs + Math.random() * jitterMs;
    if (refusing) {
      store.refuse();
      const body = resultBody('F', refusing, `scripted refusal ${refusing}: the merchant configuration is not accepted`);
      if (await delays.wait(roundTripMs)) await respond(res, path, clientId, { httpStatus: 200, body });
      return;
    }
    if (capacity && !capacity.tryAdmit()) {
      store.rateLimit();
      const body = resultBody('U', 'REQUEST_TRAFFIC_EXCEED_LIMIT', `more than ${capacity.perSecond} calls in one second`);
      if (await delays.wait(roundTripMs)) await respond(res, path, clientId, { httpStatus: 200, body });
      return;
    }
    const request = parseRequest(body);
    if (request === null) return illegal(400, 'body is not a JSON object');
    const problem = validateCaptureRequest(request);
    if (problem) return illegal(400, problem.message);
    const plan = planCapture(store, request, timeoutDelayMs);
    const delay = plan.delayMs + roundTripMs + latencyPerConcurrentMs * (store.stats().inFlight - 1);
    if (await delays.wait(delay)) await respond(res, path, clientId, plan);
  }

  function route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (req.method === 'POST' && url.pathname === CAPTURE_PATH) return handleCapture(req, res, url.pathname);
    if (req.method === 'GET' && url.pathname === '/sandbox/stats/seconds') return sendJson(res, 200, store.seconds());
    if (req.method === 'GET' && url.pathname === '/sandbox/stats') {
      const id = url.searchParams.get('captureRequestId');
      return sendJson(res, 200, id === null ? store.stats() : store.requestStats(id));
    }
    if (req.method === 'POST' && url.pathname === '/sandbox/refuse') {
      const code = url.searchParams.get('code');
      if (code !== null && !/^[A-Z_]{1,64}$/.test(code)) return sendJson(res, 400, { error: 'code must be a result code such as INVALID_SIGNATURE, or absent to answer normally again' });
      refusing = code;
      return sendJson(res, 200, { refusing });
    }
    if (req.method === 'POST' && url.pathname === '/sandbox/reset') {
      store.reset();
      return sendJson(res, 200, store.stats());
    }
    sendJson(res, 404, { error: `no route ${req.method ?? ''} ${url.pathname}` });
  }

  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    Promise.resolve(route(req, res)).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    publicKey: createPublicKey(privateKey),
    stats: () => store.stats(),
    seconds: () => store.seconds(),
    requestStats: (id) => store.requestStats(id),
    refuse: (code) => {
      refusing = code;
    },
    reset: () => store.reset(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        delays.cancelAll();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
