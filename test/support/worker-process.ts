import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The worker as its own OS process (the `capture-worker run` entry point), for kill and signal
 * tests. Plain `node --import tsx`, no wrapper process: signals reach the worker itself.
 */
export class WorkerProcess {
  /** Every process started by this test file: a failed assertion must not leave one running (it would keep jest from exiting). */
  private static readonly started = new Set<WorkerProcess>();
  private child: ChildProcess | undefined;
  private exit: Promise<number | string> | undefined;
  output = '';

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'run'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    WorkerProcess.started.add(this);
    this.exit = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
    void this.exit.then(() => WorkerProcess.started.delete(this));
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** SIGKILLs whatever a test left running (see integration-timeout.ts). */
  static async killAll(): Promise<void> {
    await Promise.all([...WorkerProcess.started].map((w) => w.stop('SIGKILL')));
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('worker process not started');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The exit code (or the signal's name) once the process has ended. */
  exited(): Promise<number | string> {
    return this.exit ?? Promise.resolve('not started');
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  /** Linux process state from /proc: 'T' once a SIGSTOP has taken effect. */
  state(): string {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return 'gone';
    }
  }

  /**
   * Sends `signal` and resolves with the exit code (or the signal's name). A stopped process is
   * continued first (only SIGKILL acts on it while stopped). After `timeoutMs` it is killed, so a
   * hung shutdown fails the test instead of hanging it: the result is then 'SIGKILL'.
   */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<number | string> {
    if (!this.running) return this.exited();
    if (signal !== 'SIGKILL') this.child!.kill('SIGCONT');
    this.child!.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const code = await Promise.race([this.exited(), overdue.then(() => undefined)]);
    clearTimeout(timer);
    if (code !== undefined) return code;
    this.output += `\n[test] no exit ${timeoutMs} ms after ${signal}: killed\n`;
    this.child!.kill('SIGKILL');
    return this.exited();
  }
}
