import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createKafka } from '../../src/app/kafka-client';
import { loadKafkaConnection } from '../../src/config/connection';
import { generateCertificates, StackCertificates } from './certificates';
import { portOpen, runBroker, singleNode } from './kafka-broker';
import { StackPaths, StackPorts } from './layout';
import { ManagedProcess, runningPid, startDetached, stop, waitUntil } from './processes';

const run = promisify(execFile);

export type KafkaProfile = 'scram-sha-256' | 'scram-sha-512' | 'plain' | 'oauthbearer' | 'mutual-tls';
export type RegistryProfile = 'admin' | 'reader' | 'bearer';

/**
 * The secured stack as clients see it, written to secure/endpoints.json when it starts: the
 * environment of each way in (the worker's own variables), and the files and secrets behind them.
 */
export interface SecureStack {
  kafka: Record<KafkaProfile, Record<string, string>>;
  registry: Record<RegistryProfile, Record<string, string>>;
  certificates: StackCertificates;
  username: string;
  /** Every secret value, so a test can look for each in logs. */
  secrets: string[];
}

const USER = 'capture-worker';
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

/**
 * The broker with SASL_SSL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with Kafka's unsecured-token
 * validator) and SSL requiring client certificates, and the registry behind an nginx TLS proxy
 * with basic and bearer authentication. A second broker process rather than more listeners on
 * the plain one: adding listeners means restarting a broker others are using, and SCRAM users
 * exist only from `kafka-storage format`, which the plain broker's data has long had. It starts
 * while the registry does, so start-up takes no longer. Everything (certificates, passwords,
 * broker data) is made anew each time it starts.
 */
export async function startSecure(paths: StackPaths, ports: StackPorts, procs: { broker: ManagedProcess; proxy: ManagedProcess }, say: (line: string) => void): Promise<SecureStack> {
  const nginx = await ensureNginx(say);
  await Promise.all([stop(procs.broker), stop(procs.proxy)]);
  rmSync(paths.secure, { recursive: true, force: true });
  mkdirSync(paths.secure, { recursive: true, mode: 0o700 });
  const certificates = await generateCertificates(path.join(paths.secure, 'certs'));
  const secret = () => randomBytes(18).toString('base64url');
  const kafkaPassword = secret();
  const registryUsers = { admin: ['registry-admin', secret()], reader: ['registry-reader', secret()] } as const;
  const registryToken = secret();
  const file = (name: string, content: string) => {
    const target = path.join(paths.secure, 'credentials', name);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(target, `${content}\n`, { mode: 0o600 });
    return target;
  };
  const stack: SecureStack = {
    kafka: profiles(ports, certificates, file('kafka-password', kafkaPassword)),
    registry: {
      admin: registryEnv(ports, certificates, { SCHEMA_REGISTRY_USER_INFO_FILE: file('registry-admin.user-info', registryUsers.admin.join(':')) }),
      reader: registryEnv(ports, certificates, { SCHEMA_REGISTRY_USERNAME: registryUsers.reader[0], SCHEMA_REGISTRY_PASSWORD_FILE: file('registry-reader.password', registryUsers.reader[1]) }),
      bearer: registryEnv(ports, certificates, { SCHEMA_REGISTRY_BEARER_TOKEN_FILE: file('registry.token', registryToken) }),
    },
    certificates,
    username: USER,
    secrets: [kafkaPassword, registryUsers.admin[1], registryUsers.reader[1], registryToken, readFileSync(certificates.clientKey, 'utf8').split('\n')[1]],
  };

  say(`starting the secured broker on 127.0.0.1:${ports.saslSsl} (SASL_SSL) and :${ports.mutualTls} (mutual TLS) (log: ${procs.broker.logFile})`);
  say(`starting the registry TLS proxy on 127.0.0.1:${ports.registryTls} (log: ${procs.proxy.logFile})`);
  const dataDir = path.join(paths.secure, 'kafka-data');
  const proxyConfig = path.join(paths.secure, 'nginx', 'nginx.conf');
  writeNginxConfig(proxyConfig, ports, certificates, registryUsers, registryToken);
  startDetached(procs.proxy, nginx, ['-e', procs.proxy.logFile, '-p', path.dirname(proxyConfig), '-c', proxyConfig], paths.root);
  await Promise.all([
    runBroker(paths, procs.broker, {
      what: `the secured broker on 127.0.0.1:${ports.mutualTls}`,
      configFile: path.join(paths.secure, 'kafka.properties'),
      properties: secureBrokerProperties(dataDir, ports, certificates, kafkaPassword),
      dataDir,
      formatArgs: ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${USER},password=${kafkaPassword}]`]),
      maxHeap: '512m',
      ready: () => secureBrokerAnswers(stack),
    }),
    waitUntil(`the registry TLS proxy on 127.0.0.1:${ports.registryTls}`, () => portOpen(ports.registryTls), 20_000, procs.proxy),
  ]);
  writeFileSync(endpointsFile(paths), JSON.stringify(stack, null, 2), { mode: 0o600 });
  return stack;
}

/** The running secured stack's description; undefined when it is not up. */
export function readSecureStack(paths: StackPaths, procs: { broker: ManagedProcess; proxy: ManagedProcess }): SecureStack | undefined {
  if (runningPid(procs.broker) === undefined || runningPid(procs.proxy) === undefined || !existsSync(endpointsFile(paths))) return undefined;
  return JSON.parse(readFileSync(endpointsFile(paths), 'utf8')) as SecureStack;
}

export async function secureBrokerAnswers(stack: SecureStack): Promise<boolean> {
  const env = stack.kafka['mutual-tls'];
  if (!(await portOpen(Number(env.KAFKA_BROKERS.split(':')[1])))) return false;
  const admin = createKafka(loadKafkaConnection(env, 'stack-probe'), { retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length > 0;
  } finally {
    await admin.disconnect();
  }
}

function endpointsFile(paths: StackPaths): string {
  return path.join(paths.secure, 'endpoints.json');
}

function profiles(ports: StackPorts, certs: StackCertificates, passwordFile: string): SecureStack['kafka'] {
  const saslSsl = { KAFKA_BROKERS: `127.0.0.1:${ports.saslSsl}`, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_TLS_CA_FILE: certs.ca };
  return {
    'scram-sha-256': { ...saslSsl, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD_FILE: passwordFile },
    'scram-sha-512': { ...saslSsl, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD_FILE: passwordFile },
    plain: { ...saslSsl, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: USER, KAFKA_SASL_PASSWORD_FILE: passwordFile },
    oauthbearer: { ...saslSsl, KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_UNSECURED_SUB: USER },
    'mutual-tls': {
      KAFKA_BROKERS: `127.0.0.1:${ports.mutualTls}`,
      KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_TLS_CA_FILE: certs.ca,
      KAFKA_TLS_CERT_FILE: certs.clientCert,
      KAFKA_TLS_KEY_FILE: certs.clientKey,
    },
  };
}

function registryEnv(ports: StackPorts, certs: StackCertificates, auth: Record<string, string>): Record<string, string> {
  return { SCHEMA_REGISTRY_URL: `https://127.0.0.1:${ports.registryTls}/apis/ccompat/v7`, SCHEMA_REGISTRY_CA_FILE: certs.ca, ...auth };
}

function secureBrokerProperties(dataDir: string, ports: StackPorts, certs: StackCertificates, password: string): string {
  const jaas = (module: string, options = '') => `org.apache.kafka.common.security.${module} required${options};`;
  return [
    `listeners=SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.mutualTls},CONTROLLER://127.0.0.1:${ports.secureController}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.mutualTls}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT',
    // Between its own listeners the broker presents its server certificate (client auth too).
    'inter.broker.listener.name=SSL',
    `sasl.enabled.mechanisms=${MECHANISMS.join(',')}`,
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${jaas('plain.PlainLoginModule', ` user_${USER}="${password}"`)}`,
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${jaas('scram.ScramLoginModule')}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas('scram.ScramLoginModule')}`,
    // No server callback handler: Kafka's OAuthBearerUnsecuredValidatorCallbackHandler checks the tokens.
    `listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=${jaas('oauthbearer.OAuthBearerLoginModule', ' unsecuredLoginStringClaim_sub="broker"')}`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.serverKeystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.ca}`,
    'listener.name.ssl.ssl.client.auth=required',
    ...singleNode(dataDir, ports.secureController),
  ].join('\n');
}

/**
 * The registry's Confluent API behind TLS. Authorization headers are matched exactly: the admin
 * and the bearer token may do anything, the reader only GET (anything else: 403), others get 401.
 */
function writeNginxConfig(file: string, ports: StackPorts, certs: StackCertificates, users: Record<'admin' | 'reader', readonly [string, string]>, token: string): void {
  const basic = (user: readonly [string, string]) => `Basic ${Buffer.from(user.join(':')).toString('base64')}`;
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${path.join(dir, `${name}-temp`)};`).join('\n');
  writeFileSync(
    file,
    `daemon off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
events { worker_connections 256; }
http {
  access_log off;
  # The keys are whole Authorization headers, longer than the default bucket holds.
  map_hash_bucket_size 256;
${temp}
  map $http_authorization $registry_role {
    default "";
    "${basic(users.admin)}" admin;
    "${basic(users.reader)}" reader;
    "Bearer ${token}" admin;
  }
  map "$registry_role:$request_method" $registry_denied {
    "~^admin:" "";
    "~^reader:(GET|HEAD)$" "";
    "~^reader:" 403;
    default 401;
  }
  server {
    listen 127.0.0.1:${ports.registryTls} ssl;
    ssl_certificate ${certs.serverCert};
    ssl_certificate_key ${certs.serverKey};
    location / {
      if ($registry_denied = 401) {
        add_header WWW-Authenticate 'Basic realm="schema registry"' always;
        return 401;
      }
      if ($registry_denied = 403) { return 403; }
      proxy_pass http://127.0.0.1:${ports.registry};
      proxy_set_header Authorization "";
    }
  }
}
`,
    { mode: 0o600 },
  );
}

/** nginx from Debian's packages, installed when missing and this is a root shell with apt (CI). */
async function ensureNginx(say: (line: string) => void): Promise<string> {
  const found = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find((candidate) => existsSync(candidate));
  if (found) return found;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error('the secured stack needs nginx for the registry TLS proxy: install it (Debian/Ubuntu: apt-get install -y nginx)');
  }
  say('installing nginx from Debian packages (apt-get install -y nginx)');
  await run('apt-get', ['update', '-qq'], { maxBuffer: 64 * 1024 * 1024 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nginx'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024 });
  return '/usr/sbin/nginx';
}
