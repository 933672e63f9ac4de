/**
 * The native stack's Kafka broker, for the faults that need it: restarted (SIGTERM, same config and
 * data) and frozen (SIGSTOP … SIGCONT), always left running and answering.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { kafkaAnswers, startKafka } from '../../../tools/stack/kafka-broker';
import { brokersFor, stackPaths, stackPorts } from '../../../tools/stack/layout';
import { isAlive, managed, runningPid } from '../../../tools/stack/processes';
import { sleep } from '../../../src/util/sleep';
import type { Log } from './types';

/** True when the broker in use is the native stack's own (the one this campaign can restart). */
export function nativeBrokerInUse(brokers: string): boolean {
  const kafka = managed('kafka', stackPaths().pids, stackPaths().logs);
  const pid = runningPid(kafka);
  if (
    pid === undefined ||
    !brokers
      .split(',')
      .map((b) => b.trim())
      .includes(brokersFor(stackPorts()))
  )
    return false;
  // The pid file must name the process that actually listens on the port (not, say, a broker of
  // another checkout's stack that took the port while this one was down).
  const listener = listenerPid(stackPorts().kafka);
  return listener === undefined || listener === pid;
}

/** The pid of the process listening on a loopback TCP port (from /proc; undefined when unknown). */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket inode.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(pid);
      } catch {
        // gone
      }
    }
  }
  return undefined;
}

/** The native stack's broker: the pid its pid file names, checked to be the one serving the port. */
function nativeBroker(): { pid: number; kafka: ReturnType<typeof managed>; paths: ReturnType<typeof stackPaths>; ports: ReturnType<typeof stackPorts> } {
  const paths = stackPaths();
  const ports = stackPorts();
  const kafka = managed('kafka', paths.pids, paths.logs);
  const pid = runningPid(kafka);
  if (pid === undefined) throw new Error('the native Kafka broker is not running');
  const listener = listenerPid(ports.kafka);
  if (listener !== undefined && listener !== pid) throw new Error(`port ${ports.kafka} is served by pid ${listener}, not by this stack's broker (pid ${pid}): not touching it`);
  return { pid, kafka, paths, ports };
}

/** Freezes the native broker for `seconds` (what a long GC pause, a stuck disk or a paused VM does); `during` runs 300 ms in. */
export async function freezeBroker<T>(seconds: number, log: Log, ts: () => string, during: () => Promise<T>): Promise<T> {
  const { pid } = nativeBroker();
  log(`  ${ts()} broker: SIGSTOP to pid ${pid} for ${seconds}s`);
  // Whatever ends this process, the broker must not be left frozen for everyone else.
  const thaw = () => process.kill(pid, 'SIGCONT');
  process.once('exit', thaw);
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(300);
    const seen = await during();
    await sleep(Math.max(0, seconds * 1000 - 300));
    return seen;
  } finally {
    process.off('exit', thaw);
    thaw();
    log(`  ${ts()} broker: SIGCONT to pid ${pid}`);
  }
}

/** Restarts the native stack's broker: SIGTERM (controlled shutdown), then the same config and data. */
export async function restartBroker(log: Log, ts: () => string): Promise<{ stopSec: number; startSec: number }> {
  const { pid, kafka, paths, ports } = nativeBroker();
  const t1 = Date.now();
  log(`  ${ts()} broker: SIGTERM to pid ${pid}`);
  process.kill(pid, 'SIGTERM');
  // While it is down the pid file names this (live) process, so a concurrent `stack up` (another
  // test run's global set-up) sees Kafka as running instead of starting a second broker on the same
  // data directory; startKafka writes the new broker's pid over it.
  writeFileSync(kafka.pidFile, String(process.pid));
  while (isAlive(pid) && Date.now() - t1 < 90_000) await sleep(100);
  if (isAlive(pid)) {
    log(`  ${ts()} broker: still running after 90 s; SIGKILL`);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
  const t2 = Date.now();
  log(`  ${ts()} broker: stopped after ${((t2 - t1) / 1000).toFixed(1)}s; starting it again (same config and data)`);
  await startKafka(paths, ports, kafka);
  const t3 = Date.now();
  log(`  ${ts()} broker: pid ${runningPid(kafka) ?? 'undefined'} answering after ${((t3 - t2) / 1000).toFixed(1)}s`);
  return { stopSec: (t2 - t1) / 1000, startSec: (t3 - t2) / 1000 };
}

/** Makes sure the native broker runs and answers (after a failure in the middle of its restart too). */
export async function ensureBrokerUp(log: Log): Promise<boolean> {
  const paths = stackPaths();
  const ports = stackPorts();
  const kafka = managed('kafka', paths.pids, paths.logs);
  if (runningPid(kafka) === process.pid) rmSync(kafka.pidFile, { force: true }); // our placeholder from a restart that failed half-way
  if (runningPid(kafka) === undefined) {
    log('broker is not running: starting it again');
    await startKafka(paths, ports, kafka);
  }
  for (let i = 0; i < 60; i++) {
    if (await kafkaAnswers(ports.kafka).catch(() => false)) return true;
    await sleep(1000);
  }
  return false;
}
