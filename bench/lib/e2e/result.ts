/** What one e2e run measured, from the collector's outcomes and the CPU snapshots around the window. */
import type { OutcomeCollector } from '../kafka';
import type { machineCpuMs, Proc } from '../proc';
import { percentile } from '../report';

/** Which process a run measured, and how it was loaded. */
export type Kind = 'worker' | 'baseline';
export type Mode = 'saturated' | 'paced';

export interface RunResult {
  kind: Kind;
  mode: Mode;
  latencyMs: number;
  requested: number;
  completed: number;
  /** The run hit its time cap before every request had an outcome. */
  capped: boolean;
  elapsedSec: number;
  /** Captures/s from the first committed outcome to the last (steady state). */
  throughput: number;
  /** Captures/s from the first measured request sent to the last outcome (includes the ramp-up). */
  throughputFromStart: number;
  pacedRate?: number;
  latency: { p50: number; p99: number; max: number; visibleP50: number; visibleP99: number };
  cpuMsPerCapture: number;
  /** Of that: the main (JavaScript) thread, and the other threads (threadpool crypto, GC helpers). Threads that exited during the run are not counted. */
  mainThreadCpuMsPerCapture: number;
  otherThreadsCpuMsPerCapture: number;
  /** CPU ms per capture of each thread, by thread id (ascending: V8 platform threads first, then the libuv threadpool). */
  threadCpuMsPerCapture: Record<string, number>;
  cpuUtilization: number;
  peakRssMb: number;
  sandboxCpuMsPerCapture: number;
  /** The Kafka broker's and this bench process's (producer + collector) CPU per capture. */
  brokerCpuMsPerCapture: number;
  benchCpuMsPerCapture: number;
  /** Whole machine during the run: busy and stolen CPU, % of all cores. */
  machineBusyPct: number;
  machineStealPct: number;
  /** Log lines at error level from the process, and of those, KafkaJS CONCURRENT_TRANSACTIONS retries. */
  errorLines: number;
  concurrentTransactionRetries: number;
  outcomes: Record<string, number>;
  duplicates: number;
  /** The collector's consumer got the same record twice (a KafkaJS-side re-delivery, not a duplicate). */
  collectorRedeliveries: number;
  profile?: string;
}

/** Counters at one moment: the measured window is the difference of two. */
export interface CpuSnapshot {
  count: number;
  cpu: number;
  threads: ReturnType<Proc['threadCpuMs']>;
  sandboxCpu: number;
  brokerCpu: number;
  self: NodeJS.CpuUsage;
  machine: ReturnType<typeof machineCpuMs>;
  errors: number;
  concurrent: number;
  peakRssMb: number;
}

export interface Window {
  kind: Kind;
  mode: Mode;
  latencyMs: number;
  pacedRate: number;
  requested: number;
  capped: boolean;
  /** When the measured requests started to be sent, and the last outcome (or the cap). */
  t0: number;
  tEnd: number;
  before: CpuSnapshot;
  after: CpuSnapshot;
  collector: OutcomeCollector;
  requestedAt: Map<string, number>;
  /** Keys of the warm-up requests: not in the latencies. */
  warmKeys: Set<string>;
}

/** Latencies (request → outcome record, request → visible) and outcome counts. */
function outcomesOf(w: Window): { lat: number[]; visible: number[]; outcomes: Record<string, number>; firstSeen: number; lastSeen: number } {
  const lat: number[] = [];
  const visible: number[] = [];
  const outcomes: Record<string, number> = {};
  let firstSeen = Infinity;
  let lastSeen = 0;
  for (const [key, out] of w.collector.outcomes) {
    outcomes[out.role] = (outcomes[out.role] ?? 0) + 1;
    if (out.seenAt >= w.t0) {
      firstSeen = Math.min(firstSeen, out.seenAt);
      lastSeen = Math.max(lastSeen, out.seenAt);
    }
    if (w.warmKeys.has(key)) continue;
    const at = w.requestedAt.get(key)!;
    lat.push(out.timestamp - at);
    visible.push(out.seenAt - at);
  }
  lat.sort((a, b) => a - b);
  visible.sort((a, b) => a - b);
  return { lat, visible, outcomes, firstSeen, lastSeen };
}

export function resultOf(w: Window): RunResult {
  const { before: b, after: a } = w;
  // Outcomes inside the measured window (including warm-up leftovers, which were work done in it).
  const completed = a.count - b.count;
  const { lat, visible, outcomes, firstSeen, lastSeen } = outcomesOf(w);
  const elapsedSec = Math.max(0.001, (w.tEnd - w.t0) / 1000);
  const per = (ms: number): number => ms / Math.max(1, completed);
  const machineTotal = a.machine.total - b.machine.total;
  return {
    kind: w.kind,
    mode: w.mode,
    latencyMs: w.latencyMs,
    requested: w.requested,
    completed,
    capped: w.capped,
    elapsedSec,
    throughput: lastSeen > firstSeen ? (completed - 1) / ((lastSeen - firstSeen) / 1000) : NaN,
    throughputFromStart: completed / elapsedSec,
    ...(w.mode === 'paced' && { pacedRate: w.pacedRate }),
    latency: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] ?? NaN, visibleP50: percentile(visible, 50), visibleP99: percentile(visible, 99) },
    cpuMsPerCapture: per(a.cpu - b.cpu),
    mainThreadCpuMsPerCapture: per(a.threads.main - b.threads.main),
    otherThreadsCpuMsPerCapture: per(a.threads.others - b.threads.others),
    threadCpuMsPerCapture: Object.fromEntries(Object.entries(a.threads.byTid).map(([tid, ms]) => [tid, Number(per(ms - (b.threads.byTid[tid] ?? 0)).toFixed(4))])),
    cpuUtilization: (a.cpu - b.cpu) / (elapsedSec * 1000),
    peakRssMb: a.peakRssMb,
    sandboxCpuMsPerCapture: per(a.sandboxCpu - b.sandboxCpu),
    brokerCpuMsPerCapture: per(a.brokerCpu - b.brokerCpu),
    benchCpuMsPerCapture: per((a.self.user - b.self.user + a.self.system - b.self.system) / 1000),
    machineBusyPct: (100 * (a.machine.busy - b.machine.busy)) / machineTotal,
    machineStealPct: (100 * (a.machine.steal - b.machine.steal)) / machineTotal,
    errorLines: a.errors - b.errors,
    concurrentTransactionRetries: a.concurrent - b.concurrent,
    outcomes,
    duplicates: w.collector.duplicates,
    collectorRedeliveries: w.collector.redeliveries,
  };
}
