/** The campaign's sandbox: one process at a time on one port, killed for the outage and started again with the same keys. */
import type { Entrypoints } from '../build';
import type { Proc } from '../proc';
import { startSandboxProcess, type KeyFiles, type SandboxProcess } from '../setup';
import type { CampaignOptions } from './types';

export interface VendorCounts {
  calls: number;
  captures: number;
}

export class SandboxHost {
  /** Every process started, for their logs. */
  readonly procs: Proc[] = [];
  /** Per incarnation, the last counts it answered (the first: just before its kill). */
  readonly incarnations: VendorCounts[] = [];
  up = false;
  private current!: SandboxProcess;

  constructor(
    private readonly entry: Entrypoints,
    private readonly keys: KeyFiles,
    private readonly o: CampaignOptions,
  ) {}

  get url(): string {
    return this.current.url;
  }

  get port(): number {
    return this.current.port;
  }

  /** 1 for the first process, 2 after the outage. */
  get incarnation(): number {
    return this.procs.length;
  }

  /** Starts the next incarnation: the first on a free port, the next ones on the same. */
  async start(): Promise<void> {
    const label = `sandbox#${this.procs.length + 1}`;
    const port = this.procs.length ? this.current.port : 0;
    this.current = await startSandboxProcess(this.entry, this.keys, this.o.latencyMs, this.o.verbose, { port, flags: ['--jitter-ms', String(this.o.jitterMs)], label });
    this.procs.push(this.current.proc);
    this.up = true;
  }

  /** SIGKILL, as a crashed vendor front end: connections are refused until start(). */
  async kill(): Promise<void> {
    // Its counters just before the kill (captures in the few ms between this answer and the kill are not counted).
    await this.stats(2000);
    this.up = false;
    await this.current.proc.kill();
  }

  /** Its /sandbox/stats (kept as its incarnation's counts); null while it is down or does not answer. */
  async stats(timeoutMs = 900): Promise<VendorCounts | null> {
    if (!this.up) return null;
    const counts = await getJson<VendorCounts>(`${this.current.url}/sandbox/stats`, timeoutMs);
    if (counts) this.incarnations[this.incarnation - 1] = { calls: counts.calls, captures: counts.captures };
    return counts;
  }

  async stop(): Promise<void> {
    for (const p of this.procs) await p.stop(3000).catch(() => undefined);
  }
}

async function getJson<T>(url: string, timeoutMs: number): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}
