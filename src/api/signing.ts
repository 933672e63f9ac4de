import { sign, verify, KeyObject } from 'node:crypto';

/**
 * Antom request/response signing: SHA256withRSA over
 * `<METHOD> <path>\n<clientId>.<time>.<body exactly as sent>`, carried in the header
 * `Signature: algorithm=RSA256,keyVersion=<n>,signature=<URL-encoded base64>`.
 *
 * Signing and verifying use crypto's callback form, which runs on the libuv threadpool:
 * bench/signing.ts shows it keeps the event loop responsive under load and uses both cores.
 */

export interface SignedMessage {
  method: string;
  path: string;
  clientId: string;
  /** Request-Time or Response-Time: epoch milliseconds as a string. */
  time: string;
  body: Buffer;
}

export interface SignatureHeader {
  algorithm: string;
  keyVersion: string;
  /** Base64 signature, already URL-decoded. */
  signature: string;
}

export function contentToSign(m: SignedMessage): Buffer {
  return Buffer.concat([Buffer.from(`${m.method} ${m.path}\n${m.clientId}.${m.time}.`), m.body]);
}

/** Base64 SHA256withRSA signature of `content`. */
export function signContent(content: Buffer, privateKey: KeyObject): Promise<string> {
  return new Promise((resolve, reject) => {
    sign('sha256', content, privateKey, (err, sig) => (err ? reject(err) : resolve(sig.toString('base64'))));
  });
}

/** Whether a base64 signature matches `content`; false for anything malformed. */
export function verifyContent(content: Buffer, signature: string, publicKey: KeyObject): Promise<boolean> {
  const raw = Buffer.from(signature, 'base64');
  if (raw.length === 0 || raw.toString('base64') !== signature) return Promise.resolve(false);
  return new Promise((resolve) => {
    verify('sha256', content, publicKey, raw, (err, ok) => resolve(!err && ok));
  });
}

export function formatSignatureHeader(signature: string, keyVersion: string): string {
  return `algorithm=RSA256,keyVersion=${keyVersion},signature=${encodeURIComponent(signature)}`;
}

export function parseSignatureHeader(header: string | undefined): SignatureHeader | null {
  if (!header) return null;
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const algorithm = fields.get('algorithm');
  const encoded = fields.get('signature');
  if (!algorithm || !encoded) return null;
  let signature: string;
  try {
    signature = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  return { algorithm, keyVersion: fields.get('keyVersion') ?? '', signature };
}

/** The Signature header value for a message. */
export async function signMessage(m: SignedMessage, privateKey: KeyObject, keyVersion: string): Promise<string> {
  return formatSignatureHeader(await signContent(contentToSign(m), privateKey), keyVersion);
}

/** Whether a Signature header value is a valid RSA256 signature of the message. */
export function verifyMessage(m: SignedMessage, header: string | undefined, publicKey: KeyObject): Promise<boolean> {
  const parsed = parseSignatureHeader(header);
  if (!parsed || parsed.algorithm !== 'RSA256') return Promise.resolve(false);
  return verifyContent(contentToSign(m), parsed.signature, publicKey);
}
