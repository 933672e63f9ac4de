/**
 * Child processes for the benchmarks: started, watched (/proc CPU time and peak RSS) and always
 * stopped — on success, on failure and on Ctrl-C (stopAll is wired to exit and signals).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from '../../src/util/sleep';
import { errorDetail } from './errors';

const CLOCK_TICKS_PER_SEC = 100; // USER_HZ on Linux

const running = new Set<Proc>();

/** user + system CPU time of any process so far, in ms (fields 14 and 15 of /proc/<pid>/stat); NaN if it is gone. */
export function pidCpuMs(pid: number, statFile = `/proc/${pid}/stat`): number {
  try {
    const fields = readFileSync(statFile, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC;
  } catch {
    return NaN;
  }
}

/** Whole-machine CPU time so far (all cores, from /proc/stat), in ms: busy (not idle/iowait), steal, total. */
export function machineCpuMs(): { busy: number; steal: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
  const toMs = (ticks: number): number => (ticks * 1000) / CLOCK_TICKS_PER_SEC;
  return { busy: toMs(user + nice + system + irq + softirq), steal: toMs(steal), total: toMs(user + nice + system + idle + iowait + irq + softirq + steal) };
}

/** A field of /proc/<pid>/status given in kB, in MB; NaN if it is missing. */
function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const line = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : NaN;
}

export class Proc {
  readonly child: ChildProcess;
  private output = '';
  private exited: Promise<number | null>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    private readonly echo = false,
  ) {
    this.child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    const onData = (d: Buffer): void => {
      const text = d.toString();
      this.output += text;
      if (this.output.length > 50_000_000) this.output = this.output.slice(-10_000_000);
      if (this.echo) process.stderr.write(text.replace(/^/gm, `  [${this.name}] `));
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        running.delete(this);
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How many times `pattern` (a /g regex) occurs in what it printed so far. */
  count(pattern: RegExp): number {
    return this.output.match(pattern)?.length ?? 0;
  }

  /** The last lines it printed, for error messages. */
  tail(lines = 20): string {
    return this.output.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Waits until its output matches `pattern`; returns the match. Throws if it exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (!this.alive) throw new Error(`${this.name} exited (code ${this.child.exitCode ?? 'null'}) before printing ${String(pattern)}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(25);
    }
  }

  /** user + system CPU time so far, in ms. */
  cpuMs(): number {
    return pidCpuMs(this.pid);
  }

  /**
   * CPU ms of the main thread (tid = pid: JavaScript, the event loop) and of all its other
   * threads (libuv threadpool — where async crypto signs and verifies — and V8's GC / compiler helpers).
   */
  threadCpuMs(): { main: number; others: number; byTid: Record<string, number> } {
    let main = 0;
    let others = 0;
    const byTid: Record<string, number> = {};
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${this.pid}/task`);
    } catch {
      return { main: NaN, others: NaN, byTid };
    }
    for (const tid of tids) {
      const ms = pidCpuMs(Number(tid), `/proc/${this.pid}/task/${tid}/stat`);
      if (!Number.isFinite(ms)) continue;
      byTid[tid] = ms;
      if (Number(tid) === this.pid) main = ms;
      else others += ms;
    }
    return { main, others, byTid };
  }

  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number {
    return statusMb(this.pid, 'VmHWM');
  }

  /** Resident set size now (VmRSS), in MB. */
  rssMb(): number {
    return statusMb(this.pid, 'VmRSS');
  }

  /** Resolves with the exit code once it has exited (at once when it already has). */
  exit(): Promise<number | null> {
    return this.exited;
  }

  /** kill -9, as a crash: resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code once it is gone. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.alive && this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(5_000)));
}

let hooked = false;
/** Stops every child on Ctrl-C / SIGTERM, and kills any left at exit. */
export function stopChildrenOnExit(): void {
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping child processes\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const p of running) if (p.alive) p.child.kill('SIGKILL');
  });
}

/** Runs a bench's main: exits with its code (0 when it returns none); on an error, stops every child first and exits with `errorCode`. */
export function runMain(main: () => Promise<number> | Promise<void>, name = 'bench', errorCode = 2): void {
  main().then(
    (code) => process.exit(code ?? 0),
    async (error: unknown) => {
      console.error(`${name} failed: ${errorDetail(error)}`);
      await stopAll();
      process.exit(errorCode);
    },
  );
}
