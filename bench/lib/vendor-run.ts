/**
 * One worker process against one sandbox process, on fresh topics, with the call rate the
 * sandbox counts sampled every second (bench/recovery.ts and bench/rate-limit.ts). The sandbox
 * can be killed and started again on the same port with the same keys, as an outage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingValues } from '../../src/config/environment';
import { EventRegistry } from '../../src/events/registry';
import type { SecondCounts } from '../../tools/sandbox/store';
import type { Entrypoints } from './build';
import { CallRateSampler } from './call-rate';
import { benchKafka, createTopics, freshTopics, RequestProducer, topicList, withAdmin, type BenchTopics } from './kafka';
import { scrapeMetrics } from './metrics';
import { Proc } from './proc';
import { ensureStack, makeKeys, startSandboxProcess, workerEnv, type KeyFiles, type SandboxProcess, type Stack } from './setup';

export interface VendorRunOptions {
  label: string;
  entry: Entrypoints;
  /** node arguments of the worker's CLI: this tree's (entry.worker) or another commit's. */
  worker: string[];
  partitions: number;
  latencyMs: number;
  sandboxFlags: string[];
  /** The worker's settings besides the bench's own (workerEnv). */
  settings: SettingValues;
  verbose: boolean;
}

export class VendorRun {
  sampler!: CallRateSampler;
  producer!: RequestProducer;
  private sandbox!: SandboxProcess;
  private workerProc: Proc | undefined;
  private up = true;

  private constructor(
    private readonly o: VendorRunOptions,
    private readonly stack: Stack,
    private readonly topics: BenchTopics,
    private readonly dir: string,
    private readonly keys: KeyFiles,
  ) {}

  static async start(o: VendorRunOptions): Promise<VendorRun> {
    const stack = await ensureStack();
    const topics = freshTopics(o.label);
    const dir = mkdtempSync(join(tmpdir(), `bench-${o.label}-`));
    const run = new VendorRun(o, stack, topics, dir, await makeKeys(dir));
    const kafka = benchKafka(stack.brokers);
    await withAdmin(kafka, (admin) => createTopics(admin, topics, o.partitions));
    run.sandbox = await run.startSandbox(0);
    run.producer = await RequestProducer.create(kafka, EventRegistry.forUrl(stack.registryUrl).codec, topics.requested, topics.id);
    const env = workerEnv(stack, run.keys, run.sandbox.url, topics, o.settings);
    run.workerProc = new Proc(`${o.label} worker`, process.execPath, [...o.worker, 'run'], env, o.verbose);
    const healthPort = Number((await run.workerProc.waitFor(/"healthPort":(\d+)/, 90_000))[1]);
    await run.workerProc.waitFor(/partitions assigned/, 90_000);
    run.sampler = new CallRateSampler(
      () => run.seconds(),
      () => workerLimit(healthPort),
    );
    return run;
  }

  get url(): string {
    return this.sandbox.url;
  }

  /** The outage: SIGKILL, as a crashed vendor front end; connections are refused until restart(). */
  async killSandbox(): Promise<void> {
    this.up = false;
    await this.sandbox.proc.kill();
  }

  async restartSandbox(): Promise<void> {
    this.sandbox = await this.startSandbox(this.sandbox.port);
    this.up = true;
  }

  async stop(): Promise<void> {
    this.sampler.stop();
    await this.workerProc?.stop(20_000);
    await this.producer.disconnect().catch(() => undefined);
    await this.sandbox.proc.stop(3000);
    const kafka = benchKafka(this.stack.brokers);
    await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: topicList(this.topics), timeout: 30_000 })).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private startSandbox(port: number): Promise<SandboxProcess> {
    return startSandboxProcess(this.o.entry, this.keys, this.o.latencyMs, this.o.verbose, { port, flags: this.o.sandboxFlags });
  }

  private async seconds(): Promise<SecondCounts[] | null> {
    if (!this.up) return null;
    const res = await get(`${this.sandbox.url}/sandbox/stats/seconds`);
    return res ? ((await res.json()) as SecondCounts[]) : null;
  }
}

async function get(url: string): Promise<Response | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(900) });
    return res.ok ? res : null;
  } catch {
    return null;
  }
}

/** The worker's capture_api_concurrency_limit (absent in a worker without the limiter). */
async function workerLimit(healthPort: number): Promise<number | undefined> {
  return (await scrapeMetrics(healthPort))?.sum('capture_api_concurrency_limit');
}
