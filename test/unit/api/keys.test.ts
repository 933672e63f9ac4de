import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, loadPrivateKey, loadPublicKey } from '../../../src/api/keys';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dir = mkdtempSync(join(tmpdir(), 'keys-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bare = (der: Buffer): string => der.toString('base64');
const privateForms: Array<[string, string]> = [
  ['PKCS#8 PEM', privateKey.export({ format: 'pem', type: 'pkcs8' }) as string],
  ['PKCS#1 PEM', privateKey.export({ format: 'pem', type: 'pkcs1' }) as string],
  ['bare base64 PKCS#8', bare(privateKey.export({ format: 'der', type: 'pkcs8' }))],
  ['bare base64 PKCS#1', bare(privateKey.export({ format: 'der', type: 'pkcs1' }))],
  ['bare base64 wrapped at 64 columns', bare(privateKey.export({ format: 'der', type: 'pkcs8' })).replace(/(.{64})/g, '$1\n')],
];
const publicForms: Array<[string, string]> = [
  ['SPKI PEM', publicKey.export({ format: 'pem', type: 'spki' }) as string],
  ['PKCS#1 PEM', publicKey.export({ format: 'pem', type: 'pkcs1' }) as string],
  ['bare base64 SPKI', bare(publicKey.export({ format: 'der', type: 'spki' }))],
  ['bare base64 PKCS#1', bare(publicKey.export({ format: 'der', type: 'pkcs1' }))],
];

function expectPair(priv: ReturnType<typeof loadPrivateKey>, pub: ReturnType<typeof loadPublicKey>): void {
  const data = Buffer.from('content');
  expect(verify('sha256', data, pub, sign('sha256', data, priv))).toBe(true);
}

describe('loadPrivateKey / loadPublicKey', () => {
  it.each(privateForms)('loads a private key as %s, inline and from a file', (_form, text) => {
    const file = join(dir, 'private.key');
    writeFileSync(file, text);
    for (const key of [loadPrivateKey({ name: 'ENV', pem: text }), loadPrivateKey({ name: 'FILE', file })]) {
      expect(key.type).toBe('private');
      expectPair(key, publicKey);
    }
  });

  it.each(publicForms)('loads a public key as %s, inline and from a file', (_form, text) => {
    const file = join(dir, 'public.key');
    writeFileSync(file, `\n${text}\n`);
    for (const key of [loadPublicKey({ name: 'ENV', pem: text }), loadPublicKey({ name: 'FILE', file })]) {
      expect(key.type).toBe('public');
      expectPair(privateKey, key);
    }
  });

  const secret = bare(privateKey.export({ format: 'der', type: 'pkcs8' }));
  it.each([
    ['truncated bare base64', secret.slice(0, 200)],
    ['a PEM with a damaged body', privateForms[0][1].replace(/[A-Za-z]{20}/, 'A'.repeat(20))],
    ['not base64', 'this is not a key'],
    ['empty', ''],
  ])('names the source, not the content, of a malformed key: %s', (_name, text) => {
    let message = '';
    try {
      loadPrivateKey({ name: 'ANTOM_PRIVATE_KEY', pem: text });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^malformed private key ANTOM_PRIVATE_KEY: /);
    if (text.length > 0) expect(message).not.toContain(text.slice(0, 16));
  });

  it('names the file of a malformed or missing key file', () => {
    const file = join(dir, 'broken.pem');
    writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    expect(() => loadPrivateKey({ name: 'ANTOM_PRIVATE_KEY_FILE', file })).toThrow(`malformed private key ANTOM_PRIVATE_KEY_FILE (file ${file})`);
    expect(() => loadPublicKey({ name: 'ANTOM_PUBLIC_KEY_FILE', file: join(dir, 'absent.pem') })).toThrow(/cannot read key ANTOM_PUBLIC_KEY_FILE \(file .*absent\.pem\): ENOENT/);
  });

  it('refuses a private key where a public key belongs, and non-RSA keys', () => {
    expect(() => loadPublicKey({ name: 'VENDOR', pem: privateForms[0][1] })).toThrow('public key VENDOR holds a private key');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() => loadPrivateKey({ name: 'EC', pem: ecPem })).toThrow('private key EC is ec, expected RSA');
    expect(() => loadPrivateKey({ name: 'NONE' })).toThrow('key NONE: neither a file nor a value was given');
  });
});

describe('generateKeyPair', () => {
  it('writes a PKCS#8 private key readable by its owner only, and an SPKI public key', async () => {
    const files = { privateKeyFile: join(dir, 'gen', 'private.pem'), publicKeyFile: join(dir, 'gen', 'public.pem') };
    const pair = await generateKeyPair(files);
    expect(statSync(files.privateKeyFile).mode & 0o777).toBe(0o600);
    const priv = loadPrivateKey({ name: 'generated', file: files.privateKeyFile });
    const pub = loadPublicKey({ name: 'generated', file: files.publicKeyFile });
    expectPair(priv, pair.publicKey);
    expectPair(pair.privateKey, pub);
    expect(pair.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });
});
