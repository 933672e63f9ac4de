import { generateKeyPairSync, verify } from 'node:crypto';
import { REFERENCE_CLASSIFIED_CODES } from './reference-result-codes';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CaptureClient, type CaptureRequest } from '../../../src/api/capture-client';
import { signMessage } from '../../../src/api/signing';
import { sleep } from '../../../src/util/sleep';

/**
 * The client against a tiny vendor stand-in over real HTTP: every result code of the reference
 * and every transport fault.
 */

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const vendor = generateKeyPairSync('rsa', { modulusLength: 2048 });
const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
const CLIENT_ID = 'SANDBOX_5X00000000000000';
const PATH = '/ams/api/v1/payments/capture';

interface Reply {
  status?: number;
  body: string;
  /** How the response is signed: properly, not at all, by another key, or for other content. */
  signing?: 'good' | 'none' | 'impostor' | 'other-body' | 'other-client';
  delayMs?: number;
  destroy?: boolean;
}

interface Seen {
  headers: IncomingMessage['headers'];
  body: Buffer;
  socket: Socket;
}

let reply: Reply;
let seen: Seen[];
let server: Server;
let baseUrl: string;

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  seen.push({ headers: req.headers, body: Buffer.concat(chunks), socket: req.socket });
  const r = reply;
  if (r.delayMs) await sleep(r.delayMs);
  if (r.destroy) return void req.socket.destroy();
  const body = Buffer.from(r.body);
  const time = String(Date.now());
  const signing = r.signing ?? 'good';
  const headers: Record<string, string> = { 'content-type': 'application/json', 'response-time': time };
  headers['client-id'] = signing === 'other-client' ? 'SOMEONE_ELSE' : CLIENT_ID;
  if (signing !== 'none') {
    const key = signing === 'impostor' ? impostor.privateKey : vendor.privateKey;
    const signedBody = signing === 'other-body' ? Buffer.from(`${r.body} `) : body;
    const clientId = headers['client-id'];
    headers.signature = await signMessage({ method: 'POST', path: PATH, clientId, time, body: signedBody }, key, '1');
  }
  res.writeHead(r.status ?? 200, headers);
  res.end(body);
}

function newClient(overrides: { timeoutMs?: number; connections?: number; baseUrl?: string } = {}): CaptureClient {
  return new CaptureClient({
    baseUrl: overrides.baseUrl ?? baseUrl,
    clientId: CLIENT_ID,
    privateKey: merchant.privateKey,
    vendorPublicKey: vendor.publicKey,
    timeoutMs: overrides.timeoutMs ?? 2000,
    connections: overrides.connections ?? 4,
  });
}

const request: CaptureRequest = {
  captureRequestId: 'capture_cangxi_lj_20220920_005914_845',
  paymentId: '20220919194010890100111740275820195',
  captureAmount: { currency: 'HKD', value: '10' },
};

/** A success names the request it answers (the vendor reference, response body "on success"). */
const echo = { captureRequestId: request.captureRequestId, paymentId: request.paymentId, captureAmount: request.captureAmount };

const result = (resultStatus: string, resultCode: string, extra: object = {}): string =>
  JSON.stringify({ result: { resultStatus, resultCode, resultMessage: `${resultCode} message` }, ...(resultStatus === 'S' ? echo : {}), ...extra });

let client: CaptureClient;

beforeAll(async () => {
  server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = newClient();
});

beforeEach(() => {
  seen = [];
  reply = { body: result('S', 'SUCCESS') };
});

afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const CODES = REFERENCE_CLASSIFIED_CODES;

describe('CaptureClient: every result code of the reference', () => {
  it.each(CODES)('%s → %s', async (code, status) => {
    reply = { body: result(status, code) };
    await expect(client.capture(request)).resolves.toEqual({
      status,
      resultCode: code,
      resultMessage: `${code} message`,
      local: false,
      httpStatus: 200,
    });
  });

  it('returns the capture fields of a success', async () => {
    const success = {
      captureRequestId: request.captureRequestId,
      captureId: '20220919194010890100111740275850565',
      paymentId: request.paymentId,
      captureAmount: request.captureAmount,
      captureTime: '2022-09-19T09:59:17-07:00',
      acquirerReferenceNo: '2022091919031300010740267587902',
    };
    reply = { body: result('S', 'SUCCESS', success) };
    await expect(client.capture(request)).resolves.toMatchObject({
      status: 'S',
      captureId: success.captureId,
      captureTime: success.captureTime,
      acquirerReferenceNo: success.acquirerReferenceNo,
    });
  });

  it.each([
    ['F', 'F'],
    ['S', 'S'],
    ['U', 'U'],
    [undefined, 'U'],
  ])('handles a code missing from the table by its resultStatus %s', async (resultStatus, status) => {
    reply = { body: JSON.stringify({ result: { resultStatus, resultCode: 'NEW_CODE' }, ...echo }) };
    await expect(client.capture(request)).resolves.toMatchObject({ status, resultCode: 'NEW_CODE', local: false });
  });

  it('classifies a signed 4xx by its body', async () => {
    reply = { status: 401, body: result('F', 'ACCESS_DENIED') };
    await expect(client.capture(request)).resolves.toMatchObject({ status: 'F', resultCode: 'ACCESS_DENIED', httpStatus: 401 });
  });
});

describe('CaptureClient: transport faults are U with a local code', () => {
  it.each<[string, Reply, string]>([
    ['HTTP 500 even with a signed success body', { status: 500, body: result('S', 'SUCCESS') }, 'LOCAL_HTTP_5XX'],
    ['HTTP 502 with an unsigned text body', { status: 502, body: 'Bad Gateway', signing: 'none' }, 'LOCAL_HTTP_5XX'],
    ['HTTP 503', { status: 503, body: '' }, 'LOCAL_HTTP_5XX'],
    ['a non-JSON body', { body: '<html>oops</html>' }, 'LOCAL_BAD_BODY'],
    ['an empty body', { body: '' }, 'LOCAL_BAD_BODY'],
    ['JSON without result', { body: '{"captureId":"1"}' }, 'LOCAL_BAD_BODY'],
    ['JSON null', { body: 'null' }, 'LOCAL_BAD_BODY'],
    ['a result without a code', { body: '{"result":{"resultStatus":"S"}}' }, 'LOCAL_BAD_BODY'],
    ['a 4xx without result', { status: 404, body: '{"error":"not found"}' }, 'LOCAL_BAD_BODY'],
    ['a missing signature', { body: result('S', 'SUCCESS'), signing: 'none' }, 'LOCAL_BAD_SIGNATURE'],
    ['a signature by another key', { body: result('S', 'SUCCESS'), signing: 'impostor' }, 'LOCAL_BAD_SIGNATURE'],
    ['a signature over another body', { body: result('F', 'RISK_REJECT'), signing: 'other-body' }, 'LOCAL_BAD_SIGNATURE'],
    ['a response for another client id', { body: result('S', 'SUCCESS'), signing: 'other-client' }, 'LOCAL_BAD_SIGNATURE'],
    ['an unsigned 4xx', { status: 400, body: result('F', 'PARAM_ILLEGAL'), signing: 'none' }, 'LOCAL_BAD_SIGNATURE'],
    ['a connection reset before the response', { body: '', destroy: true }, 'LOCAL_CONNECTION_ERROR'],
  ])('%s', async (_name, r, code) => {
    reply = r;
    const res = await client.capture(request);
    expect(res).toMatchObject({ status: 'U', resultCode: code, local: true });
    expect(seen).toHaveLength(1);
  });

  it('times out a slow response', async () => {
    const fast = newClient({ timeoutMs: 100 });
    reply = { body: result('S', 'SUCCESS'), delayMs: 1500 };
    const started = Date.now();
    await expect(fast.capture(request)).resolves.toMatchObject({ status: 'U', resultCode: 'LOCAL_TIMEOUT', local: true });
    expect(Date.now() - started).toBeLessThan(1000);
    await fast.close();
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = newClient({ baseUrl: `http://127.0.0.1:${port}` });
    await expect(refused.capture(request)).resolves.toMatchObject({
      status: 'U',
      resultCode: 'LOCAL_CONNECTION_ERROR',
      resultMessage: 'transport failure (ECONNREFUSED)',
    });
    await refused.close();
  });

  it('stops when the caller aborts, in flight or before sending', async () => {
    reply = { body: result('S', 'SUCCESS'), delayMs: 300 };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client.capture(request, controller.signal)).resolves.toMatchObject({
      status: 'U',
      resultCode: 'LOCAL_ABORTED',
    });
    seen = [];
    await expect(client.capture(request, AbortSignal.abort())).resolves.toMatchObject({ resultCode: 'LOCAL_ABORTED' });
    expect(seen).toHaveLength(0);
  });
});

describe('CaptureClient: requests', () => {
  it('sends the API fields only, signed over the exact bytes sent', async () => {
    const withExtra = { ...request, metadata: { order: '1' }, captureAmount: { ...request.captureAmount, note: 'x' } };
    const before = Date.now();
    await client.capture(withExtra);
    const [{ headers, body }] = seen as [Seen];
    expect(JSON.parse(body.toString())).toEqual(request);
    expect(headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(headers['client-id']).toBe(CLIENT_ID);
    const time = headers['request-time'] as string;
    expect(Number(time)).toBeGreaterThanOrEqual(before);
    const match = /^algorithm=RSA256,keyVersion=1,signature=(.+)$/.exec(headers.signature as string);
    const signature = Buffer.from(decodeURIComponent(match![1]), 'base64');
    const content = Buffer.concat([Buffer.from(`POST ${PATH}\n${CLIENT_ID}.${time}.`), body]);
    expect(verify('sha256', content, merchant.publicKey, signature)).toBe(true);
  });

  it("sends a request as given: validation is the caller's, before the first attempt only", async () => {
    const tooLong = { ...request, captureRequestId: 'x'.repeat(65) };
    reply = { body: result('F', 'PARAM_ILLEGAL') };
    await expect(client.capture(tooLong)).resolves.toMatchObject({ status: 'F', resultCode: 'PARAM_ILLEGAL', local: false });
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['another captureRequestId', { captureRequestId: 'someone-else' }],
    ['another paymentId', { paymentId: '20220919194010890100111740275829999' }],
    ['another amount', { captureAmount: { currency: 'HKD', value: '1000' } }],
    ['another currency', { captureAmount: { currency: 'USD', value: '10' } }],
    ['no captureRequestId', { captureRequestId: undefined }],
  ])('reads a success for %s as unknown (a vendor anomaly), never as captured', async (_name, differs) => {
    reply = { body: result('S', 'SUCCESS', differs) };
    await expect(client.capture(request)).resolves.toMatchObject({ status: 'U', resultCode: 'LOCAL_RESPONSE_MISMATCH', local: true });
  });

  it('does not read a response body past 64 KiB: unknown', async () => {
    reply = { body: result('S', 'SUCCESS', { padding: 'x'.repeat(70 * 1024) }) };
    await expect(client.capture(request)).resolves.toMatchObject({ status: 'U', resultCode: 'LOCAL_BAD_BODY', local: true });
  });

  it('keeps no more connections open than configured', async () => {
    const bounded = newClient({ connections: 2 });
    reply = { body: result('S', 'SUCCESS'), delayMs: 30 };
    const results = await Promise.all(Array.from({ length: 10 }, () => bounded.capture(request)));
    expect(results.every((r) => r.status === 'S')).toBe(true);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(2);
    await bounded.close();
  });
});
