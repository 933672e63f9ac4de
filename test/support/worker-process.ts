import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The worker as its own OS process (the `capture-worker run` entry point), for kill and signal tests. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(): void {
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'run'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Resolves with the exit code (or the signal's name). */
  stop(signal: NodeJS.Signals): Promise<number | string> {
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve(child?.exitCode ?? 'not running');
    return new Promise((resolve) => {
      child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown'));
      child.kill(signal);
    });
  }
}
