/** Shared by the secured-stack tests: its environments, a worker wired to them, and a CLI runner. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../../src/app/kafka-client';
import { RunningWorker, startWorkerApp } from '../../../src/app/worker-app';
import { loadConfig } from '../../../src/config/config';
import { loadConnections } from '../../../src/config/connection';
import { outcomeTopics } from '../../../src/events/contract';
import { sandboxWorkerEnv } from '../../../tools/worker-env';
import type { EventCodec } from '../../../src/events/event-codec';
import { EventRegistry } from '../../../src/events/registry';
import type { KafkaProfile, RegistryProfile, SecureStack } from '../../../tools/stack/secure-stack';
import type { Sandbox } from '../../../tools/sandbox/server';
import { startTestSandbox } from '../../support/test-sandbox';
import { readToEnd, readWhen, uniqueTopics } from '../../support/kafka';

/** The secured stack global setup started (or found); the tests need it. */
export function secureStack(): SecureStack {
  if (!process.env.SECURE_STACK) throw new Error('the secured stack is not up: run through jest with the native stack (TEST_STACK=native), without TEST_SECURE_STACK=0');
  return JSON.parse(process.env.SECURE_STACK) as SecureStack;
}

/** Kafka and registry variables of one way in, nothing else of the test process's environment. */
export function secureEnv(kafka: KafkaProfile, registry: RegistryProfile = 'admin'): Record<string, string> {
  const stack = secureStack();
  return { ...stack.kafka[kafka], ...stack.registry[registry] };
}

/**
 * Topics of its own on the secured broker, a sandbox, and the environment a worker needs there:
 * everything reaches Kafka and the registry only through `env`'s security settings.
 */
export class SecuredSetup {
  readonly topics = uniqueTopics('secure');
  readonly kafka: Kafka;
  readonly codec: EventCodec;
  sandbox!: Sandbox;
  env!: Record<string, string>;

  constructor(private readonly connectionEnv: Record<string, string>) {
    const { kafka, registry } = loadConnections(connectionEnv, 'security-test');
    this.kafka = createKafka(kafka);
    this.codec = new EventRegistry(registry).codec;
  }

  async setup(): Promise<this> {
    const test = await startTestSandbox();
    this.sandbox = test.sandbox;
    this.env = {
      ...this.connectionEnv,
      ...sandboxWorkerEnv(test.worker({ brokers: this.connectionEnv.KAFKA_BROKERS, registryUrl: this.connectionEnv.SCHEMA_REGISTRY_URL }, this.topics), {
        LOG_LEVEL: 'silent',
        TRANSACTION_LINGER_MS: 5,
        SHUTDOWN_GRACE_MS: 5000,
        TOPIC_PARTITIONS: 1,
        TOPIC_REPLICATION_FACTOR: 1,
        TOPIC_MIN_INSYNC_REPLICAS: 1,
      }),
    };
    // `capture-worker init` over the same secured connection: every topic the worker reads or writes, and the schemas.
    const init = await runCli(['init'], this.env);
    if (init.code !== 0) throw new Error(`init failed (${String(init.code)}): ${init.stderr}${init.stdout}`);
    return this;
  }

  startWorker(): Promise<RunningWorker> {
    return startWorkerApp(loadConfig(this.env));
  }

  /** `count` requests, every third one scripted to fail; returns their keys. */
  async produce(count: number): Promise<string[]> {
    await this.codec.useSubject('CaptureRequested', this.topics.requested);
    const run = randomUUID().slice(0, 8);
    const keys = Array.from({ length: count }, (_, i) => `cr-${run}-${i}`);
    const producer = this.kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: this.topics.requested,
      messages: keys.map((key, i) => ({
        key,
        value: this.codec.encode('CaptureRequested', {
          paymentId: `${i % 3 === 2 ? 'fail-RISK_REJECT-' : 'pay-'}${key}`,
          captureAmount: { currency: 'USD', value: '100' },
          requestedAt: Date.now(),
          metadata: {},
        }),
      })),
    });
    await producer.disconnect();
    return keys;
  }

  /** Waits until every key has a committed outcome (to know when to stop the worker). */
  async awaitOutcomes(keys: string[], timeoutMs = 60_000): Promise<void> {
    await readWhen(this.kafka, this.outcomeTopics, (seen) => new Set(seen.map((r) => r.key?.toString())).size >= keys.length, timeoutMs);
  }

  /** Every committed outcome, read to the end offsets over the secured connection. */
  async allOutcomes(): Promise<Array<{ key: string; topic: string }>> {
    return (await readToEnd(this.kafka, this.outcomeTopics)).map((r) => ({ key: r.key!.toString(), topic: r.topic }));
  }

  private get outcomeTopics(): string[] {
    return outcomeTopics(this.topics);
  }

  async teardown(): Promise<void> {
    // Undefined when setup failed before the sandbox started.
    await (this.sandbox as Sandbox | undefined)?.close();
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * `capture-worker ARGS` in a child process with exactly `env` (plus PATH and HOME); killed after
 * `timeoutMs`; sent SIGTERM (the worker's own shutdown) once `stopWhen` resolves.
 */
export function runCli(args: string[], env: Record<string, string>, options: { input?: string; timeoutMs?: number; stopWhen?: Promise<unknown> } = {}): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  void options.stopWhen?.then(() => child.kill('SIGTERM'));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}
