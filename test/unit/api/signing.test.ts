import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentToSign, parseSignatureHeader, signContent, signMessage, verifyContent, verifyMessage, type SignedMessage } from '../../../src/api/signing';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dir = mkdtempSync(join(tmpdir(), 'signing-test-'));
const keyFile = join(dir, 'key.pem');
const pubFile = join(dir, 'pub.pem');
writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs1' }));
writeFileSync(pubFile, publicKey.export({ format: 'pem', type: 'spki' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const body = '{"paymentId":"20220919194010890100111740275820195","captureRequestId":"capture_ü_€","captureAmount":{"currency":"HKD","value":"10"}}';
const message: SignedMessage = {
  method: 'POST',
  path: '/ams/api/v1/payments/capture',
  clientId: 'SANDBOX_5X00000000000000',
  time: '1685599933871',
  body: Buffer.from(body),
};
// Written out by hand from the reference, not built by the module under test.
const expectedContent = Buffer.from(`POST /ams/api/v1/payments/capture\nSANDBOX_5X00000000000000.1685599933871.${body}`, 'utf8');

function openssl(args: string[], input: Buffer): Buffer {
  return execFileSync('openssl', args, { input });
}

describe('signing', () => {
  it('builds the content to sign byte for byte', () => {
    expect(contentToSign(message).equals(expectedContent)).toBe(true);
  });

  it('produces the same SHA256withRSA signature as openssl dgst -sha256 -sign', async () => {
    const fromOpenssl = openssl(['dgst', '-sha256', '-sign', keyFile], expectedContent).toString('base64');
    expect(await signContent(expectedContent, privateKey)).toBe(fromOpenssl);
  });

  it('signs a header openssl verifies, with the signature URL-encoded', async () => {
    const header = await signMessage(message, privateKey, '7');
    const match = /^algorithm=RSA256,keyVersion=7,signature=([A-Za-z0-9%._~-]+)$/.exec(header);
    expect(match).not.toBeNull();
    const encoded = match![1];
    expect(encoded).not.toMatch(/[+/=]/);
    const raw = Buffer.from(encoded.replace(/%2B/g, '+').replace(/%2F/g, '/').replace(/%3D/g, '='), 'base64');
    const sigFile = join(dir, 'sig.bin');
    writeFileSync(sigFile, raw);
    const out = openssl(['dgst', '-sha256', '-verify', pubFile, '-signature', sigFile], expectedContent);
    expect(out.toString()).toContain('Verified OK');
  });

  it('verifies a header carrying an openssl signature', async () => {
    const sig = openssl(['dgst', '-sha256', '-sign', keyFile], expectedContent).toString('base64');
    const header = `algorithm=RSA256, keyVersion=1, signature=${encodeURIComponent(sig)}`;
    expect(await verifyMessage(message, header, publicKey)).toBe(true);
  });

  it.each<[string, Partial<SignedMessage>]>([
    ['body', { body: Buffer.from(body.replace('"10"', '"100"')) }],
    ['time', { time: '1685599933872' }],
    ['client id', { clientId: 'SANDBOX_5X00000000000001' }],
    ['path', { path: '/ams/api/v1/payments/refund' }],
    ['method', { method: 'GET' }],
  ])('rejects a signature when the %s differs', async (_part, change) => {
    const header = await signMessage(message, privateKey, '1');
    expect(await verifyMessage({ ...message, ...change }, header, publicKey)).toBe(false);
  });

  it('rejects a signature by another key, a missing or garbled header, and another algorithm', async () => {
    const good = await signMessage(message, privateKey, '1');
    expect(await verifyMessage(message, await signMessage(message, other.privateKey, '1'), publicKey)).toBe(false);
    expect(await verifyMessage(message, undefined, publicKey)).toBe(false);
    expect(await verifyMessage(message, 'nonsense', publicKey)).toBe(false);
    expect(await verifyMessage(message, good.replace('RSA256', 'RSA512'), publicKey)).toBe(false);
    expect(await verifyMessage(message, 'algorithm=RSA256,keyVersion=1,signature=%E0%A4%A', publicKey)).toBe(false);
    expect(await verifyMessage(message, 'algorithm=RSA256,keyVersion=1,signature=', publicKey)).toBe(false);
  });

  it('treats non-canonical base64 as a bad signature', async () => {
    const sig = await signContent(expectedContent, privateKey);
    expect(await verifyContent(expectedContent, sig, publicKey)).toBe(true);
    expect(await verifyContent(expectedContent, `${sig}!!`, publicKey)).toBe(false);
    expect(await verifyContent(expectedContent, 'AAAA', publicKey)).toBe(false);
  });

  it('parses the header fields', () => {
    expect(parseSignatureHeader('algorithm=RSA256,keyVersion=2,signature=ab%2Bc%3D')).toEqual({
      algorithm: 'RSA256',
      keyVersion: '2',
      signature: 'ab+c=',
    });
    expect(parseSignatureHeader('algorithm=RSA256')).toBeNull();
  });
});
