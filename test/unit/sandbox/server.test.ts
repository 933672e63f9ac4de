import { generateKeyPairSync } from 'node:crypto';
import { request } from 'undici';
import { signMessage, verifyMessage } from '../../../src/api/signing';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../tools/sandbox/server';
import { sleep } from '../../../src/util/sleep';

/** The sandbox's HTTP surface, spoken to with raw requests. */

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PATH = '/ams/api/v1/payments/capture';
const CLIENT_ID = 'CLIENT_1';

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json: { result?: { resultStatus: string; resultCode: string } } & Record<string, unknown>;
}

async function call(sandbox: Sandbox, body: string, opts: { sign?: boolean; clientId?: string } = {}): Promise<Raw> {
  const clientId = opts.clientId ?? CLIENT_ID;
  const time = String(Date.now());
  const headers: Record<string, string> = { 'content-type': 'application/json', 'client-id': clientId, 'request-time': time };
  if (opts.sign !== false) {
    const signed = { method: 'POST', path: PATH, clientId, time, body: Buffer.from(body) };
    headers.signature = await signMessage(signed, merchant.privateKey, '1');
  }
  const res = await request(`${sandbox.url}${PATH}`, { method: 'POST', headers, body });
  const raw = Buffer.from(await res.body.arrayBuffer());
  return {
    status: res.statusCode,
    headers: res.headers as Record<string, string>,
    body: raw,
    json: JSON.parse(raw.toString()) as Raw['json'],
  };
}

async function verified(sandbox: Sandbox, r: Raw): Promise<boolean> {
  const m = { method: 'POST', path: PATH, clientId: r.headers['client-id'], time: r.headers['response-time'], body: r.body };
  return verifyMessage(m, r.headers.signature, sandbox.publicKey);
}

const captureBody = (paymentId = 'pay-1', captureRequestId = 'req-1', value = '10'): string => JSON.stringify({ captureRequestId, paymentId, captureAmount: { currency: 'USD', value } });

const started: Sandbox[] = [];
async function sandboxWith(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ merchantPublicKey: merchant.publicKey, ...options });
  started.push(sandbox);
  return sandbox;
}
afterAll(() => Promise.all(started.map((s) => s.close())));

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await sandboxWith({ clientId: CLIENT_ID });
});
beforeEach(() => sandbox.reset());

describe('sandbox server', () => {
  it('captures a signed call and signs its answer', async () => {
    const r = await call(sandbox, captureBody());
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ result: { resultStatus: 'S', resultCode: 'SUCCESS' }, captureRequestId: 'req-1' });
    expect(r.headers['client-id']).toBe(CLIENT_ID);
    expect(await verified(sandbox, r)).toBe(true);
  });

  it.each([
    ['an unsigned call', { sign: false }],
    ['a call from another client id', { clientId: 'CLIENT_2' }],
  ])('refuses %s with a signed 401 ACCESS_DENIED', async (_name, opts) => {
    const r = await call(sandbox, captureBody(), opts);
    expect(r.status).toBe(401);
    expect(r.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'ACCESS_DENIED' });
    expect(await verified(sandbox, r)).toBe(true);
    expect(sandbox.stats()).toMatchObject({ calls: 1, rejectedSignatures: 1, captures: 0 });
    expect(sandbox.requestStats('req-1').calls).toBe(0);
  });

  it.each([
    ['a body that is not JSON', 'not json', 400, 'body is not a JSON object'],
    ['an illegal field', captureBody('pay-1', 'req-1', '-5'), 400, 'captureAmount.value'],
    ['a body over 64 KiB', 'x'.repeat(70 * 1024), 413, 'exceeds'],
  ])('answers %s with PARAM_ILLEGAL', async (_name, body, status, message) => {
    const r = await call(sandbox, body);
    expect(r.status).toBe(status);
    expect(r.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'PARAM_ILLEGAL' });
    expect(JSON.stringify(r.json)).toContain(message);
    expect(await verified(sandbox, r)).toBe(true);
  });

  it('serves stats per captureRequestId and in total, and resets over HTTP', async () => {
    await call(sandbox, captureBody());
    await call(sandbox, captureBody());
    const perId = await request(`${sandbox.url}/sandbox/stats?captureRequestId=req-1`);
    expect(await perId.body.json()).toMatchObject({ captureRequestId: 'req-1', calls: 2, finalStatus: 'S' });
    const totals = await request(`${sandbox.url}/sandbox/stats`);
    expect(await totals.body.json()).toEqual({ calls: 2, captures: 1, rejectedSignatures: 0, refused: 0, rateLimited: 0, inFlight: 0, maxConcurrent: 1 });
    const seconds = await request(`${sandbox.url}/sandbox/stats/seconds`);
    const counted = (await seconds.body.json()) as Array<{ calls: number; captures: number }>;
    expect(counted.reduce((sum, s) => sum + s.calls, 0)).toBe(2);
    expect(counted.reduce((sum, s) => sum + s.captures, 0)).toBe(1);
    const reset = await request(`${sandbox.url}/sandbox/reset`, { method: 'POST' });
    expect(reset.statusCode).toBe(200);
    await reset.body.dump();
    expect(sandbox.stats().calls).toBe(0);
    const missing = await request(`${sandbox.url}/nowhere`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
  });

  it('refuses every verified call with the configuration code set over HTTP, capturing nothing, until told to stop', async () => {
    const set = await request(`${sandbox.url}/sandbox/refuse?code=INVALID_SIGNATURE`, { method: 'POST' });
    expect(set.statusCode).toBe(200);
    await set.body.dump();
    const refused = await call(sandbox, captureBody('pay-r', 'req-r'));
    expect(refused.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'INVALID_SIGNATURE' });
    expect(await verified(sandbox, refused)).toBe(true);
    expect(sandbox.stats()).toMatchObject({ refused: 1, captures: 0 });
    await (await request(`${sandbox.url}/sandbox/refuse`, { method: 'POST' })).body.dump();
    expect((await call(sandbox, captureBody('pay-r', 'req-r'))).json.result).toMatchObject({ resultStatus: 'S' });
    const bad = await request(`${sandbox.url}/sandbox/refuse?code=x;y`, { method: 'POST' });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
  });

  it.each([
    ['mismatch-1-a', (json: Raw['json']) => expect(json.captureAmount).toEqual({ currency: 'USD', value: '100' })],
    ['nostatus-1-a', (json: Raw['json']) => expect(json.result).toEqual({ resultCode: 'SUCCESS', resultMessage: expect.any(String) })],
  ])('%s answers its first call with an anomaly and captures nothing, then S', async (paymentId, check) => {
    check((await call(sandbox, captureBody(paymentId, `req-${paymentId}`))).json);
    expect(sandbox.stats().captures).toBe(0);
    const second = await call(sandbox, captureBody(paymentId, `req-${paymentId}`));
    expect(second.json).toMatchObject({ result: { resultStatus: 'S' }, captureAmount: { currency: 'USD', value: '10' } });
  });

  it('adds the configured latency and counts concurrent calls', async () => {
    const slow = await sandboxWith({ latencyMs: 100, jitterMs: 20 });
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => call(slow, captureBody('p', `id-${i}`))));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(results.every((r) => r.json.result?.resultCode === 'SUCCESS')).toBe(true);
    expect(slow.stats()).toMatchObject({ calls: 5, captures: 5, inFlight: 0, maxConcurrent: 5 });
  });

  it('answers calls over its capacity per second with a signed U REQUEST_TRAFFIC_EXCEED_LIMIT, capturing nothing for them', async () => {
    const limited = await sandboxWith({ capacityPerSec: 3 });
    // All five within one wall-clock second.
    while (Date.now() % 1000 > 200) await sleep(20);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => call(limited, captureBody('p', `rl-${i}`))));
    const codes = results.map((r) => `${r.status} ${r.json.result?.resultStatus ?? '-'} ${r.json.result?.resultCode ?? '-'}`).sort();
    expect(codes).toEqual(['200 S SUCCESS', '200 S SUCCESS', '200 S SUCCESS', '200 U REQUEST_TRAFFIC_EXCEED_LIMIT', '200 U REQUEST_TRAFFIC_EXCEED_LIMIT']);
    expect((await Promise.all(results.map((r) => verified(limited, r)))).every(Boolean)).toBe(true);
    expect(limited.stats()).toMatchObject({ calls: 5, captures: 3, rateLimited: 2 });
    const throttled = results.map((r, i) => [r, `rl-${i}`] as const).filter(([r]) => r.json.result?.resultStatus === 'U');
    for (const [, id] of throttled) expect(limited.requestStats(id).calls).toBe(0);
  });

  it('answers later the more capture calls are in flight when a call arrives', async () => {
    // A base latency keeps the first calls in flight while the others arrive.
    const loaded = await sandboxWith({ latencyMs: 150, latencyPerConcurrentMs: 100 });
    const timed = async (id: string): Promise<number> => {
      const t0 = Date.now();
      await call(loaded, captureBody('p', id));
      return Date.now() - t0;
    };
    const together = await Promise.all(Array.from({ length: 4 }, (_, i) => timed(`lc-${i}`)));
    // The last of four to arrive found three in flight: 150 + 3 × 100 ms.
    expect(Math.max(...together)).toBeGreaterThanOrEqual(450);
    expect(await timed('alone')).toBeLessThan(350);
  });

  it('closes promptly while answers are held back, leaving no timer behind', async () => {
    const held = await startSandbox({ merchantPublicKey: merchant.publicKey, timeoutDelayMs: 60_000 });
    const pending = call(held, captureBody('timeout-1-x')).then(
      () => 'answered',
      () => 'cut off',
    );
    while (held.stats().inFlight === 0) await sleep(5);
    const t0 = Date.now();
    await held.close();
    expect(await pending).toBe('cut off');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
