import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files the secured stack serves and hands to clients (all under one folder, made anew each start). */
export interface StackCertificates {
  ca: string;
  /** Broker and registry proxy: 127.0.0.1 and localhost; also the broker's client certificate between its listeners. */
  serverCert: string;
  serverKey: string;
  /** Key and chain in one file, for the broker's PEM keystore. */
  serverKeystore: string;
  clientCert: string;
  clientKey: string;
  /** The same client key, certified for a day in 2020. */
  expiredClientCert: string;
  /** A client certificate from a CA the broker does not trust. */
  untrustedClientCert: string;
  untrustedClientKey: string;
}

const EXTENSIONS = `[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

/** `openssl ca` config: a throwaway database, dates given on the command line. */
const CA_CONFIG = `[ca]
default_ca = stack_ca
[stack_ca]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = any_name
unique_subject = no
[any_name]
commonName = supplied
`;

/** A CA and the certificates the tests need, with openssl (EC P-256 keys: fast to make). */
export async function generateCertificates(dir: string): Promise<StackCertificates> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  writeFileSync(file('extensions.cnf'), EXTENSIONS);

  const certify = async (ca: string, name: string, subject: string, extensions: string, dates: [Date, Date], key = `${name}.key`) => {
    const caDir = file(`${ca}-db`);
    mkdirSync(caDir, { recursive: true });
    writeFileSync(path.join(caDir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(path.join(caDir, 'index.txt'), '', { flag: 'a' });
    writeFileSync(path.join(caDir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
    await openssl('req', '-new', '-key', file(key), '-subj', `/CN=${subject}`, '-out', file(`${name}.csr`));
    await run(
      'openssl',
      [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-cert',
        file(`${ca}.pem`),
        '-keyfile',
        file(`${ca}.key`),
        '-in',
        file(`${name}.csr`),
        '-out',
        file(`${name}.pem`),
        '-startdate',
        asn1Time(dates[0]),
        '-enddate',
        asn1Time(dates[1]),
        '-extfile',
        file('extensions.cnf'),
        '-extensions',
        extensions,
        '-notext',
      ],
      { cwd: caDir },
    );
    rmSync(file(`${name}.csr`));
    return file(`${name}.pem`);
  };
  const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file(`${name}.key`));
  const selfSignedCa = (name: string, subject: string) =>
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      file(`${name}.key`),
      '-subj',
      `/CN=${subject}`,
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      file(`${name}.pem`),
    );

  const now = Date.now();
  const valid: [Date, Date] = [new Date(now - 3600_000), new Date(now + 30 * 86400_000)];
  await Promise.all(['ca', 'untrusted-ca', 'server', 'client', 'untrusted-client'].map(key));
  await selfSignedCa('ca', 'capture-worker stack CA');
  await selfSignedCa('untrusted-ca', 'some other CA');
  const serverCert = await certify('ca', 'server', 'localhost', 'server', valid);
  const clientCert = await certify('ca', 'client', 'capture-worker', 'client', valid);
  const expiredClientCert = await certify('ca', 'client-expired', 'capture-worker', 'client', [new Date('2020-01-01T00:00:00Z'), new Date('2020-01-02T00:00:00Z')], 'client.key');
  const untrustedClientCert = await certify('untrusted-ca', 'untrusted-client', 'capture-worker', 'client', valid);
  writeFileSync(file('server-keystore.pem'), readFileSync(file('server.key'), 'utf8') + readFileSync(serverCert, 'utf8'), { mode: 0o600 });
  return {
    ca: file('ca.pem'),
    serverCert,
    serverKey: file('server.key'),
    serverKeystore: file('server-keystore.pem'),
    clientCert,
    clientKey: file('client.key'),
    expiredClientCert,
    untrustedClientCert,
    untrustedClientKey: file('untrusted-client.key'),
  };
}

function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
