/** Shared set-up for the benchmarks: the stack, keys, the sandbox process and the worker's env. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/api/keys';
import type { SettingValues } from '../../src/config/environment';
import { sandboxWorkerEnv } from '../../tools/worker-env';
import { stackUp } from '../../tools/stack/native-stack';
import type { Entrypoints } from './build';
import { ROOT } from './build';
import type { BenchTopics } from './kafka';
import { Proc } from './proc';

export interface Stack {
  brokers: string;
  registryUrl: string;
}

/** Uses KAFKA_BROKERS / SCHEMA_REGISTRY_URL when set; otherwise brings the native stack up (idempotent). */
export async function ensureStack(): Promise<Stack> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) return { brokers: process.env.KAFKA_BROKERS, registryUrl: process.env.SCHEMA_REGISTRY_URL };
  const stack = await stackUp((line) => process.stderr.write(`[stack] ${line}\n`));
  return { brokers: stack.brokers, registryUrl: stack.registryUrl };
}

export interface KeyFiles {
  merchantPrivate: string;
  merchantPublic: string;
  sandboxPrivate: string;
  sandboxPublic: string;
}

export async function makeKeys(dir: string): Promise<KeyFiles> {
  const files: KeyFiles = {
    merchantPrivate: join(dir, 'merchant.pem'),
    merchantPublic: join(dir, 'merchant.pub'),
    sandboxPrivate: join(dir, 'sandbox.pem'),
    sandboxPublic: join(dir, 'sandbox.pub'),
  };
  await generateKeyPair({ privateKeyFile: files.merchantPrivate, publicKeyFile: files.merchantPublic });
  await generateKeyPair({ privateKeyFile: files.sandboxPrivate, publicKeyFile: files.sandboxPublic });
  return files;
}

export interface SandboxProcess {
  proc: Proc;
  url: string;
  port: number;
}

/**
 * The sandbox CLI in its own process, so its CPU is measured apart from the worker's; `port` to
 * come back where a worker expects it (an outage), `flags` for more of its options.
 */
export async function startSandboxProcess(
  entry: Pick<Entrypoints, 'sandbox'>,
  keys: KeyFiles,
  latencyMs: number,
  echo = false,
  { port = 0, flags = [], label = `sandbox L=${latencyMs}` }: { port?: number; flags?: string[]; label?: string } = {},
): Promise<SandboxProcess> {
  const args = [
    ...entry.sandbox,
    ...['--port', String(port), '--latency-ms', String(latencyMs), '--merchant-public-key', keys.merchantPublic],
    ...['--private-key', keys.sandboxPrivate, '--public-key', keys.sandboxPublic],
    ...flags,
  ];
  const proc = new Proc(label, process.execPath, args, process.env, echo);
  const [, url] = await proc.waitFor(/listening on (\S+)/, 30_000);
  return { proc, url: url, port: Number(new URL(url).port) };
}

/**
 * The environment of a worker (or the baseline) on a run's topics against a sandbox: this
 * process's environment (the KAFKA_* security settings), the run's settings, then `extra`, given
 * by name on the command line (--env) and passed through unchecked.
 */
export function workerEnv(stack: Stack, keys: KeyFiles, sandboxUrl: string, topics: BenchTopics, settings: SettingValues = {}, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const worker = {
    brokers: stack.brokers,
    registryUrl: stack.registryUrl,
    sandboxUrl,
    clientId: 'BENCH_CLIENT',
    merchantPrivateKey: { file: keys.merchantPrivate },
    sandboxPublicKey: { file: keys.sandboxPublic },
    topics,
    groupId: topics.group,
  };
  return { ...process.env, ...sandboxWorkerEnv(worker, { LOG_LEVEL: 'info', ...settings }), ...extra };
}

/** The commit under test, with a `+dirty` mark when src/ has uncommitted changes. */
export function gitDescribe(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT }).toString().trim();
    return dirty ? `${head}+dirty(src)` : head;
  } catch {
    return 'unknown';
  }
}
