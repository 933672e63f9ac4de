import { spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { CaptureClient, type CaptureRequest, type CaptureResult } from '../../../src/api/capture-client';
import { loadPrivateKey, loadPublicKey } from '../../../src/api/keys';
import { RESULT_CODES } from '../../../src/api/result-codes';
import { startSandbox, type Sandbox } from '../../../tools/sandbox/server';
import { sleep } from '../../../src/util/sleep';

/** CaptureClient ↔ sandbox over real HTTP: scripted outcomes, idempotency, limits, signatures, keys. */

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dir = mkdtempSync(join(tmpdir(), 'client-sandbox-'));
// Generous against a busy machine; the sandbox holds timeout-<n>- answers for 3 s.
const TIMEOUT_MS = 1000;
let sandbox: Sandbox;
let client: CaptureClient;
const clients: CaptureClient[] = [];

function clientFor(keys: { privateKey?: KeyObject; vendorPublicKey?: KeyObject; connections?: number } = {}): CaptureClient {
  const c = new CaptureClient({
    baseUrl: sandbox.url,
    clientId: 'SANDBOX_5X00000000000000',
    privateKey: keys.privateKey ?? merchant.privateKey,
    vendorPublicKey: keys.vendorPublicKey ?? sandbox.publicKey,
    timeoutMs: TIMEOUT_MS,
    connections: keys.connections ?? 8,
    sandbox: true,
  });
  clients.push(c);
  return c;
}

let seq = 0;
function req(paymentId: string, value = '100', currency = 'USD'): CaptureRequest {
  return { captureRequestId: `cr-${++seq}-${paymentId}`.slice(0, 64), paymentId, captureAmount: { currency, value } };
}

async function calls(r: CaptureRequest, n: number, c = client): Promise<CaptureResult[]> {
  const results: CaptureResult[] = [];
  for (let i = 0; i < n; i++) results.push(await c.capture(r));
  return results;
}

const brief = (r: CaptureResult): string => `${r.status} ${r.resultCode}`;

beforeAll(async () => {
  sandbox = await startSandbox({ merchantPublicKey: merchant.publicKey, authorizedAmount: '1000', timeoutDelayMs: 3000 });
  client = clientFor();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scripted outcomes', () => {
  const finalCodes = [...RESULT_CODES].filter(([, status]) => status === 'F').map(([code]) => code);

  it.each(finalCodes)('fail-%s- is F with that code, every time', async (code) => {
    const results = await calls(req(`fail-${code}-1`), 2);
    expect(results.map(brief)).toEqual([`F ${code}`, `F ${code}`]);
    expect(results[0].local).toBe(false);
  });

  it('fail-<CODE>- with a code the table lacks is F by its status', async () => {
    expect(brief(await client.capture(req('fail-BRAND_NEW_CODE-1')))).toBe('F BRAND_NEW_CODE');
  });

  it.each([
    ['unknown-2-a', ['U UNKNOWN_EXCEPTION', 'U UNKNOWN_EXCEPTION', 'S SUCCESS', 'S SUCCESS']],
    ['inprocess-1-a', ['U CAPTURE_IN_PROCESS', 'S SUCCESS', 'S SUCCESS']],
    ['http500-2-a', ['U LOCAL_HTTP_5XX', 'U LOCAL_HTTP_5XX', 'S SUCCESS']],
    ['badsig-1-a', ['U LOCAL_BAD_SIGNATURE', 'S SUCCESS', 'S SUCCESS']],
    ['timeout-1-a', ['U LOCAL_TIMEOUT', 'S SUCCESS']],
  ])('%s answers %j, and captures once', async (paymentId, expected) => {
    const before = sandbox.stats().captures;
    const r = req(paymentId);
    const results = await calls(r, expected.length);
    expect(results.map(brief)).toEqual(expected);
    expect(sandbox.stats().captures - before).toBe(1);
    const successes = results.filter((x) => x.status === 'S');
    expect(new Set(successes.map((x) => x.captureId)).size).toBe(1);
    expect(sandbox.requestStats(r.captureRequestId)).toMatchObject({
      calls: expected.length,
      finalStatus: 'S',
      captureId: successes[0].captureId,
    });
  });
});

describe('a client not told it talks to the sandbox', () => {
  it("refuses the sandbox's answers (they move no money) as a configuration error, never as a capture", async () => {
    const c = new CaptureClient({
      baseUrl: sandbox.url,
      clientId: 'SANDBOX_5X00000000000000',
      privateKey: merchant.privateKey,
      vendorPublicKey: sandbox.publicKey,
      timeoutMs: TIMEOUT_MS,
      connections: 1,
    });
    clients.push(c);
    const result = await c.capture({ captureRequestId: 'not-told-1', paymentId: 'pay-not-told', captureAmount: { currency: 'HKD', value: '100' } });
    expect(result).toMatchObject({ status: 'F', resultCode: 'LOCAL_SANDBOX_ANSWER', local: true });
    expect(result.resultMessage).toContain('ANTOM_SANDBOX=true');
  });
});

describe('idempotency and limits', () => {
  it('returns the same capture for the same captureRequestId', async () => {
    const [first, second] = await calls(req('pay-idem'), 2);
    expect(first).toEqual(second);
    expect(first).toMatchObject({ status: 'S', local: false, httpStatus: 200 });
    expect(first.captureId).toMatch(/^\w+$/);
    expect(first.captureTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  });

  it('answers a changed body under a used captureRequestId with REPEAT_REQ_INCONSISTENT', async () => {
    const r = req('pay-inconsistent', '10');
    const original = await client.capture(r);
    const changed = await client.capture({ ...r, captureAmount: { currency: 'USD', value: '11' } });
    expect(brief(changed)).toBe('F REPEAT_REQ_INCONSISTENT');
    expect(await client.capture(r)).toEqual(original);
  });

  it('sums partial captures against the authorized amount', async () => {
    const results = await Promise.all(['600', '400'].map((value) => client.capture(req('pay-partial', value))));
    expect(results.map(brief)).toEqual(['S SUCCESS', 'S SUCCESS']);
    expect(brief(await client.capture(req('pay-partial', '1')))).toBe('F CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT');
    expect(brief(await client.capture(req('pay-over', '1001')))).toBe('F CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT');
    expect(brief(await client.capture(req('pay-over', '1000')))).toBe('S SUCCESS');
  });

  it('refuses a capture in another currency than the payment', async () => {
    await client.capture(req('pay-currency', '1', 'HKD'));
    expect(brief(await client.capture(req('pay-currency', '1', 'USD')))).toBe('F CURRENCY_NOT_SUPPORT');
  });

  it('serves 200 calls at once and shows the peak concurrency in its stats', async () => {
    const slow = await startSandbox({ merchantPublicKey: merchant.publicKey, latencyMs: 50 });
    const c = new CaptureClient({
      baseUrl: slow.url,
      clientId: 'C',
      privateKey: merchant.privateKey,
      vendorPublicKey: slow.publicKey,
      sandbox: true,
      timeoutMs: 5000,
      connections: 32,
    });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => c.capture(req(`pay-conc-${i}`))));
    expect(results.every((r) => r.status === 'S')).toBe(true);
    expect(slow.stats()).toMatchObject({ captures: 200, calls: 200 });
    expect(slow.stats().maxConcurrent).toBeGreaterThan(16);
    await c.close();
    await slow.close();
  });
});

describe('signatures in both directions', () => {
  it('a request signed with the wrong key is refused: F ACCESS_DENIED, no capture', async () => {
    const wrong = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const before = sandbox.stats();
    const r = req('pay-wrong-merchant-key');
    const res = await clientFor({ privateKey: wrong.privateKey }).capture(r);
    expect(res).toMatchObject({ status: 'F', resultCode: 'ACCESS_DENIED', local: false, httpStatus: 401 });
    expect(sandbox.stats().rejectedSignatures).toBe(before.rejectedSignatures + 1);
    expect(sandbox.stats().captures).toBe(before.captures);
  });

  it('a response checked against the wrong vendor key is U LOCAL_BAD_SIGNATURE, though captured', async () => {
    const wrong = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const r = req('pay-wrong-vendor-key');
    expect(brief(await clientFor({ vendorPublicKey: wrong.publicKey }).capture(r))).toBe('U LOCAL_BAD_SIGNATURE');
    expect(sandbox.requestStats(r.captureRequestId).finalStatus).toBe('S');
    expect(brief(await client.capture(r))).toBe('S SUCCESS');
  });
});

describe('key formats', () => {
  const file = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const b64 = (der: Buffer): string => der.toString('base64');

  type Export = (k: KeyObject) => string | Buffer;
  const pem =
    (type: 'pkcs8' | 'pkcs1' | 'spki'): Export =>
    (k) =>
      k.export({ format: 'pem', type });
  const bare =
    (type: 'pkcs8' | 'pkcs1' | 'spki'): Export =>
    (k) =>
      b64(k.export({ format: 'der', type }));
  it.each<[string, string, Export, Export]>([
    ['PKCS#8 PEM', 'SPKI PEM', pem('pkcs8'), pem('spki')],
    ['PKCS#1 PEM', 'PKCS#1 PEM', pem('pkcs1'), pem('pkcs1')],
    ['bare base64 PKCS#8', 'bare base64 SPKI', bare('pkcs8'), bare('spki')],
    ['bare base64 PKCS#1', 'bare base64 PKCS#1', bare('pkcs1'), bare('pkcs1')],
  ])('captures with a %s merchant key and a %s vendor key read from files', async (name, _pub, priv, pub) => {
    const privateKey = loadPrivateKey({ name: 'ANTOM_PRIVATE_KEY_FILE', file: file(`${name}.key`, priv(merchant.privateKey)) });
    const vendorPublicKey = loadPublicKey({ name: 'ANTOM_PUBLIC_KEY_FILE', file: file(`${name}.pub`, pub(sandbox.publicKey)) });
    expect(brief(await clientFor({ privateKey, vendorPublicKey }).capture(req('pay-keys')))).toBe('S SUCCESS');
  });

  it('a malformed key is a start-up error that names the file, not the key', () => {
    const text = b64(merchant.privateKey.export({ format: 'der', type: 'pkcs8' })).slice(0, 300);
    const path = file('broken.key', text);
    expect(() => loadPrivateKey({ name: 'ANTOM_PRIVATE_KEY_FILE', file: path })).toThrow(new RegExp(`^malformed private key ANTOM_PRIVATE_KEY_FILE \\(file ${path}\\)`));
    try {
      loadPrivateKey({ name: 'ANTOM_PRIVATE_KEY_FILE', file: path });
    } catch (err) {
      expect((err as Error).message).not.toContain(text.slice(40, 80));
    }
  });
});

describe('capture-sandbox CLI', () => {
  it('generates keys, serves, and stops on SIGTERM', async () => {
    const cli = join(__dirname, '../../../tools/sandbox/cli.ts');
    const run = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keygen = run(['keygen', join(dir, 'm.pem'), join(dir, 'm.pub')]);
    expect((await once(keygen, 'exit'))[0]).toBe(0);

    const server = run([...['--port', '0', '--merchant-public-key', join(dir, 'm.pub')], ...['--private-key', join(dir, 's.pem'), '--public-key', join(dir, 's.pub')]]);
    let out = '';
    server.stdout.on('data', (d: Buffer) => (out += d.toString()));
    while (!/listening on (\S+)/.test(out)) {
      if (server.exitCode !== null) throw new Error(`sandbox exited: ${out}`);
      await sleep(50);
    }
    const url = /listening on (\S+)/.exec(out)![1];
    const c = new CaptureClient({
      baseUrl: url,
      clientId: 'C',
      privateKey: loadPrivateKey({ name: 'm', file: join(dir, 'm.pem') }),
      vendorPublicKey: loadPublicKey({ name: 's', file: join(dir, 's.pub') }),
      sandbox: true,
      timeoutMs: 2000,
      connections: 1,
    });
    expect(brief(await c.capture(req('pay-cli')))).toBe('S SUCCESS');
    await c.close();
    server.kill('SIGTERM');
    expect((await once(server, 'exit'))[0]).toBe(0);
  }, 30_000);
});
