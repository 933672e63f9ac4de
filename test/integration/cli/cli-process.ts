import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `capture-worker ARGS` as its own plain node process (no wrapper: signals reach it), `stdin` written and closed. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, stdin: string | null = ''): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  // null: stdin stays open, as a terminal's would.
  if (stdin !== null) child.stdin.end(stdin);
  return { child, done };
}

export function cli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  return startCli(args, env, stdin).done;
}
