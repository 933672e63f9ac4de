import { createPrivateKey, createPublicKey, generateKeyPair as generateRsaKeyPair, KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/**
 * Where a key comes from: a file or an inline string (e.g. an environment variable).
 * `name` is what errors call the source (a variable or flag name); the content is never echoed.
 */
export interface KeySource {
  name: string;
  file?: string;
  pem?: string;
}

type DerType = 'pkcs8' | 'pkcs1' | 'spki';

const BARE_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function describe(source: KeySource): string {
  return source.file !== undefined ? `${source.name} (file ${source.file})` : source.name;
}

function readText(source: KeySource): string {
  if (source.file !== undefined) {
    try {
      return readFileSync(source.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new Error(`cannot read key ${describe(source)}: ${code}`, { cause: err });
    }
  }
  if (source.pem !== undefined) return source.pem;
  throw new Error(`key ${source.name}: neither a file nor a value was given`);
}

function parse(source: KeySource, kind: 'private' | 'public', derTypes: DerType[]): KeyObject {
  const text = readText(source).trim();
  const create = (key: string | Buffer, type?: DerType): KeyObject =>
    kind === 'private'
      ? createPrivateKey(type ? { key, format: 'der', type: type as 'pkcs8' | 'pkcs1' } : { key, format: 'pem' })
      : createPublicKey(type ? { key, format: 'der', type: type as 'spki' | 'pkcs1' } : { key, format: 'pem' });
  let key: KeyObject | undefined;
  if (text.startsWith('-----BEGIN ')) {
    // createPublicKey would quietly derive a public key from a private one: refuse the mix-up.
    if (kind === 'public' && text.includes('PRIVATE KEY-----')) {
      throw new Error(`public key ${describe(source)} holds a private key`);
    }
    try {
      key = create(text);
    } catch {
      // Reported below without the key material.
    }
  } else {
    // The vendor's portal hands out keys as bare base64 DER, without PEM armour.
    const compact = text.replace(/\s+/g, '');
    if (BARE_BASE64.test(compact)) {
      const der = Buffer.from(compact, 'base64');
      for (const type of derTypes) {
        try {
          key = create(der, type);
          break;
        } catch {
          // Try the next DER structure.
        }
      }
    }
  }
  if (!key) {
    throw new Error(`malformed ${kind} key ${describe(source)}: expected an RSA key as PEM (${derTypes.join('/').toUpperCase()}) or bare base64 DER`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`${kind} key ${describe(source)} is ${key.asymmetricKeyType ?? 'not asymmetric'}, expected RSA`);
  }
  return key;
}

/** Merchant (or sandbox) private key: PKCS#8 or PKCS#1, PEM or bare base64 DER. */
export function loadPrivateKey(source: KeySource): KeyObject {
  return parse(source, 'private', ['pkcs8', 'pkcs1']);
}

/** Vendor (or merchant, for the sandbox) public key: SPKI or PKCS#1, PEM or bare base64 DER. */
export function loadPublicKey(source: KeySource): KeyObject {
  return parse(source, 'public', ['spki', 'pkcs1']);
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface KeyPairFiles {
  privateKeyFile?: string;
  publicKeyFile?: string;
}

/** A fresh RSA-2048 pair for the sandbox and demos, optionally written as PKCS#8 / SPKI PEM files. */
export async function generateKeyPair(files: KeyPairFiles = {}): Promise<KeyPair> {
  const pair = await promisify(generateRsaKeyPair)('rsa', { modulusLength: 2048 });
  if (files.privateKeyFile !== undefined) {
    await mkdir(dirname(files.privateKeyFile), { recursive: true });
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' });
    await writeFile(files.privateKeyFile, pem, { mode: 0o600 });
  }
  if (files.publicKeyFile !== undefined) {
    await mkdir(dirname(files.publicKeyFile), { recursive: true });
    await writeFile(files.publicKeyFile, pair.publicKey.export({ format: 'pem', type: 'spki' }));
  }
  return pair;
}
