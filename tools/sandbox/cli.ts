#!/usr/bin/env node
/**
 * capture-sandbox: runs the capture API simulator.
 *   capture-sandbox [--port N] [--host H] [--latency-ms N] [--jitter-ms N] [--latency-per-concurrent-ms N]
 *                   [--capacity CALLS_PER_SECOND (0: no limit)] [--authorized-amount N] [--timeout-delay-ms N]
 *                   [--client-id ID] [--private-key FILE] [--public-key FILE] --merchant-public-key FILE
 *   capture-sandbox keygen PRIVATE_FILE PUBLIC_FILE   (a merchant key pair for demos)
 * Every flag also reads SANDBOX_<FLAG_IN_CAPITALS>, e.g. SANDBOX_MERCHANT_PUBLIC_KEY_FILE.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import { generateKeyPair, loadPrivateKey, loadPublicKey } from '../../src/api/keys';
import { startSandbox, type SandboxOptions } from './server';

export type CliCommand =
  | { kind: 'keygen'; privateKeyFile: string; publicKeyFile: string }
  | {
      kind: 'serve';
      privateKeyFile: string;
      publicKeyFile: string;
      merchantPublicKeyFile: string;
      options: Omit<SandboxOptions, 'privateKey' | 'merchantPublicKey'>;
    };

const FLAGS = {
  port: { env: 'SANDBOX_PORT', fallback: '8090' },
  host: { env: 'SANDBOX_HOST', fallback: '127.0.0.1' },
  'latency-ms': { env: 'SANDBOX_LATENCY_MS', fallback: '0' },
  'jitter-ms': { env: 'SANDBOX_JITTER_MS', fallback: '0' },
  'latency-per-concurrent-ms': { env: 'SANDBOX_LATENCY_PER_CONCURRENT_MS', fallback: '0' },
  capacity: { env: 'SANDBOX_CAPACITY', fallback: '0' },
  'authorized-amount': { env: 'SANDBOX_AUTHORIZED_AMOUNT', fallback: '1000000' },
  'timeout-delay-ms': { env: 'SANDBOX_TIMEOUT_DELAY_MS', fallback: '3000' },
  'client-id': { env: 'SANDBOX_CLIENT_ID', fallback: '' },
  'private-key': { env: 'SANDBOX_PRIVATE_KEY_FILE', fallback: '.stack/sandbox/sandbox-private.pem' },
  'public-key': { env: 'SANDBOX_PUBLIC_KEY_FILE', fallback: '.stack/sandbox/sandbox-public.pem' },
  'merchant-public-key': { env: 'SANDBOX_MERCHANT_PUBLIC_KEY_FILE', fallback: '' },
} as const;

type Flag = keyof typeof FLAGS;

/** Reads flags, then environment, then defaults; throws one error listing every problem. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliCommand {
  const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }]));
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  if (positionals[0] === 'keygen') {
    if (positionals.length !== 3) throw new Error('usage: capture-sandbox keygen PRIVATE_FILE PUBLIC_FILE');
    return { kind: 'keygen', privateKeyFile: positionals[1], publicKeyFile: positionals[2] };
  }
  if (positionals.length > 0) throw new Error(`unexpected argument ${positionals[0]}`);

  const problems: string[] = [];
  const get = (flag: Flag): string => values[flag] ?? env[FLAGS[flag].env] ?? FLAGS[flag].fallback;
  const int = (flag: Flag): number => {
    const text = get(flag);
    if (!/^\d+$/.test(text)) problems.push(`--${flag} (${FLAGS[flag].env}) must be a non-negative integer`);
    return Number(text);
  };
  const port = int('port');
  const latencyMs = int('latency-ms');
  const jitterMs = int('jitter-ms');
  const latencyPerConcurrentMs = int('latency-per-concurrent-ms');
  const capacityPerSec = int('capacity');
  const timeoutDelayMs = int('timeout-delay-ms');
  const authorizedAmount = get('authorized-amount');
  if (!/^[1-9]\d{0,17}$/.test(authorizedAmount)) {
    problems.push('--authorized-amount (SANDBOX_AUTHORIZED_AMOUNT) must be a positive integer in minor units');
  }
  const merchantPublicKeyFile = get('merchant-public-key');
  if (merchantPublicKeyFile === '') {
    problems.push('--merchant-public-key (SANDBOX_MERCHANT_PUBLIC_KEY_FILE) is required');
  }
  if (problems.length > 0) throw new Error(`invalid sandbox configuration:\n  ${problems.join('\n  ')}`);

  const clientId = get('client-id');
  return {
    kind: 'serve',
    privateKeyFile: get('private-key'),
    publicKeyFile: get('public-key'),
    merchantPublicKeyFile,
    options: {
      host: get('host'),
      port,
      latencyMs,
      jitterMs,
      latencyPerConcurrentMs,
      capacityPerSec,
      timeoutDelayMs,
      authorizedAmount,
      ...(clientId !== '' && { clientId }),
    },
  };
}

async function main(): Promise<void> {
  const command = parseCli(process.argv.slice(2), process.env);
  if (command.kind === 'keygen') {
    await generateKeyPair({ privateKeyFile: command.privateKeyFile, publicKeyFile: command.publicKeyFile });
    process.stdout.write(`wrote ${command.privateKeyFile} and ${command.publicKeyFile}\n`);
    return;
  }
  // Keep the sandbox's key across restarts so a worker configured with its public key keeps working.
  const privateKey = existsSync(command.privateKeyFile)
    ? loadPrivateKey({ name: '--private-key', file: command.privateKeyFile })
    : (await generateKeyPair({ privateKeyFile: command.privateKeyFile })).privateKey;
  await mkdir(dirname(command.publicKeyFile), { recursive: true });
  await writeFile(command.publicKeyFile, createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }));
  const merchantPublicKey = loadPublicKey({ name: '--merchant-public-key', file: command.merchantPublicKeyFile });
  const sandbox = await startSandbox({ ...command.options, privateKey, merchantPublicKey });
  process.stdout.write(`capture-sandbox listening on ${sandbox.url} (its public key: ${command.publicKeyFile})\n`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`capture-sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
