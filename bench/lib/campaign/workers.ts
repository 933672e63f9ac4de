/** The worker processes of a campaign: one instance at a time, restarted as Kubernetes would. */
import { sleep } from '../../../src/util/sleep';
import { scrapeMetrics } from '../metrics';
import { Proc } from '../proc';
import type { CampaignOptions, Log, WorkerInstanceRecord } from './types';

export type WorkerInstance = WorkerInstanceRecord & { proc: Proc; healthPort?: number };

/** Runs the worker, one instance at a time; restarts it after a kill and whenever it exits on its own. */
export class WorkerSupervisor {
  readonly instances: WorkerInstance[] = [];
  afterKill = 0;
  afterExit = 0;
  /** Restarts because an instance logged its fatal error but did not exit (see hangAfterFatalMs). */
  afterHang = 0;
  private stopping = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly t0: () => number,
    private readonly log: Log,
    private readonly o: CampaignOptions,
  ) {}

  get current(): WorkerInstance | undefined {
    return this.instances[this.instances.length - 1];
  }

  private serialize<T>(task: () => T | PromiseLike<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  start(reason: string): WorkerInstance {
    const n = this.instances.length + 1;
    const proc = new Proc(`worker#${n}`, process.execPath, this.args, this.env, this.o.verbose);
    const inst: WorkerInstance = { n, reason, startedAt: Date.now(), killedByCampaign: false, proc };
    this.instances.push(inst);
    void proc.waitFor(/"healthPort":(\d+)/, 120_000).then(
      (m) => (inst.healthPort = Number(m[1])),
      () => undefined,
    );
    // The worker is meant to exit after its fatal log line; one that stays up is stuck (it consumes
    // nothing, and /healthz still answers 200, so a liveness probe would not restart it either).
    // The campaign kills and restarts it, and reports it.
    void proc.waitFor(/worker cannot continue/, 24 * 3600_000).then(
      async () => {
        await sleep(this.o.hangAfterFatalMs);
        await this.serialize(async () => {
          if (this.stopping || this.current !== inst || !proc.alive) return;
          inst.hungAfterFatal = true;
          inst.killedByCampaign = true;
          this.log(`  ${this.ts()} worker#${n} logged a fatal error ${this.o.hangAfterFatalMs / 1000}s ago but is still running: SIGKILL and restart (watchdog)`);
          await proc.kill();
          this.afterHang++;
          this.start(`restart after worker#${n} hung after its fatal error (watchdog)`);
        });
      },
      () => undefined,
    );
    proc.child.once('exit', (code, signal) => {
      inst.endedAt = Date.now();
      const exit = code !== null ? String(code) : String(signal);
      inst.exit = exit;
      if (inst.killedByCampaign || this.stopping) return;
      this.log(`  ${this.ts()} worker#${n} exited on its own (${exit}); restarting in ${this.o.crashRestartDelayMs} ms — last lines:\n${indent(proc.tail(4))}`);
      setTimeout(() => {
        void this.serialize(() => {
          if (this.stopping || this.current !== inst) return;
          this.afterExit++;
          this.start(`restart after worker#${n} exited (${exit})`);
        });
      }, this.o.crashRestartDelayMs);
    });
    return inst;
  }

  /** SIGKILL the running instance (waiting for one to be running), pause, start the next. */
  kill9(pauseMs: number): Promise<string> {
    return this.serialize(async () => {
      const deadline = Date.now() + 60_000;
      while (!this.stopping && !(this.current?.proc.alive ?? false) && Date.now() < deadline) await sleep(200);
      const inst = this.current;
      if (this.stopping || !inst || !inst.proc.alive) return 'skipped: no worker running';
      const assigned = inst.proc.count(/partitions assigned/g) > 0;
      inst.killedByCampaign = true;
      await inst.proc.kill();
      await sleep(pauseMs);
      if (this.stopRequested()) return `killed worker#${inst.n}`;
      this.afterKill++;
      const next = this.start(`restart after kill -9 of worker#${inst.n}`);
      return `killed worker#${inst.n} (${assigned ? 'after it had joined' : 'before it had joined its group'}), worker#${next.n} started after ${pauseMs} ms`;
    });
  }

  async stop(): Promise<number | null> {
    this.stopping = true;
    await this.chain;
    const inst = this.current;
    if (!inst || !inst.proc.alive) return null;
    return inst.proc.stop(20_000);
  }

  /** stop() may run while a task awaits: read the flag afresh there (TypeScript keeps it narrowed across an await). */
  private stopRequested(): boolean {
    return this.stopping;
  }

  private ts(): string {
    return `t=${((Date.now() - this.t0()) / 1000).toFixed(1)}s`;
  }
}

function indent(text: string): string {
  return text.replace(/^/gm, '      ');
}

/** What the campaign reads from a worker's /metrics. */
export interface WorkerReading {
  /** API calls completed (capture_api_latency_seconds_count: one per call, refused connections included). */
  calls: number;
  circuit: string;
  inFlight: number;
  retriesPending: number;
  transactions: number;
  commits: number;
}

/** The instance's metrics; null when it is down, has no health port yet, or does not answer. */
export async function readWorker(inst: WorkerInstance | undefined): Promise<WorkerReading | null> {
  if (!inst?.healthPort || !inst.proc.alive) return null;
  const m = await scrapeMetrics(inst.healthPort);
  if (!m) return null;
  return {
    calls: m.sum('capture_api_latency_seconds_count') ?? 0,
    circuit: m.labelWhere('capture_circuit_state', 'state', 1) ?? 'unknown',
    inFlight: m.sum('capture_in_flight') ?? 0,
    retriesPending: m.sum('capture_retries_pending') ?? 0,
    transactions: m.sum('capture_transactions_in_progress') ?? 0,
    commits: m.sum('capture_transaction_commit_seconds_count') ?? 0,
  };
}

/** Seconds until the worker commits a transaction after `base` (its count during the freeze; another instance counts from 0); undefined after `capMs`. */
export async function untilNextCommit(supervisor: WorkerSupervisor, base: { n: number; commits: number } | undefined, capMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < capMs) {
    const inst = supervisor.current;
    const m = await readWorker(inst);
    if (inst && m && m.commits > (base && base.n === inst.n ? base.commits : 0)) return (Date.now() - start) / 1000;
    await sleep(100);
  }
  return undefined;
}
