import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../src/util/sleep';

/** A background Java process the stack started, remembered by a pid file so `down` stops only its own. */
export interface ManagedProcess {
  name: string;
  pidFile: string;
  logFile: string;
}

export function managed(name: string, pidsDir: string, logsDir: string): ManagedProcess {
  return { name, pidFile: path.join(pidsDir, `${name}.pid`), logFile: path.join(logsDir, `${name}.log`) };
}

export function runningPid(proc: ManagedProcess): number | undefined {
  if (!existsSync(proc.pidFile)) return undefined;
  const pid = Number(readFileSync(proc.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function startDetached(proc: ManagedProcess, command: string, args: string[], cwd: string): number {
  mkdirSync(path.dirname(proc.pidFile), { recursive: true });
  mkdirSync(path.dirname(proc.logFile), { recursive: true });
  const log = openSync(proc.logFile, 'a');
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', log, log] });
  if (child.pid === undefined) throw new Error(`could not start ${proc.name} (${command})`);
  child.unref();
  writeFileSync(proc.pidFile, String(child.pid));
  return child.pid;
}

/** SIGTERM, then SIGKILL after the grace period; removes the pid file. */
export async function stop(proc: ManagedProcess, graceMs = 15000): Promise<boolean> {
  const pid = runningPid(proc);
  rmSync(proc.pidFile, { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

/** Polls `probe` until it resolves true or the timeout passes; the error names the log to read. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, proc: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (runningPid(proc) === undefined) {
      throw new Error(`${what} exited while starting; see ${proc.logFile}\n${tail(proc.logFile)}`);
    }
    await sleep(250);
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000}s; see ${proc.logFile}\n${tail(proc.logFile)}`);
}

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log written)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
