/**
 * The campaign's verdict, from every committed record read to the end offsets: per key, lost (no
 * terminal outcome), duplicated (more than one) and why; the call rate during the outage; what the
 * sandbox captured; the worker instances and why they exited.
 */
import type { ReadRecord } from '../../../src/cli/topic-reader';
import { TOPIC_CONTRACT } from '../../../src/events/contract';
import type { EventCodec } from '../../../src/events/event-codec';
import { dispositionOf } from '../../../src/events/contract';
import type { BenchTopics } from '../kafka';
import { median } from '../report';
import { gitDescribe } from '../setup';
import type { VendorCounts } from './sandbox-host';
import type { FaultFindings } from './phases';
import type { CampaignOptions, CampaignResult, DuplicateReport, FaultRecord, OutcomeRecord, Sample } from './types';
import type { WorkerInstance, WorkerSupervisor } from './workers';

export interface AnalysisInput {
  o: CampaignOptions;
  stamp: string;
  runId: string;
  processes: CampaignResult['processes'];
  elapsedSec: number;
  finished: boolean;
  /** Every request key sent. */
  keys: string[];
  records: ReadRecord[];
  topics: BenchTopics;
  codec: EventCodec;
  supervisor: WorkerSupervisor;
  faults: FaultRecord[];
  timeline: Sample[];
  found: FaultFindings;
  vendorIncarnations: VendorCounts[];
  logDir: string;
  t0: number;
}

/** The records, by kind: outcomes per key, request records per key, DLQ entries. */
interface Tally {
  byKey: Map<string, OutcomeRecord[]>;
  requestCount: Map<string, number>;
  dlq: number;
  byKind: CampaignResult['byKind'];
  /** Non-final unknown outcomes per `key#attempt`. */
  attemptCount: Map<string, number>;
}

async function tally(records: ReadRecord[], topics: BenchTopics, codec: EventCodec): Promise<Tally> {
  const t: Tally = { byKey: new Map(), requestCount: new Map(), dlq: 0, byKind: { succeeded: 0, failed: 0, finalUnknown: 0, nonFinalUnknown: 0 }, attemptCount: new Map() };
  for (const r of records) {
    // The records read are the outcome, DLQ and requested topics': no disposition, a request.
    const kind = dispositionOf(topics, r.topic);
    const key = r.key?.toString() ?? '';
    if (kind === 'dlq') t.dlq++;
    else if (kind === undefined) t.requestCount.set(key, (t.requestCount.get(key) ?? 0) + 1);
    else {
      const event = (await codec.decode(TOPIC_CONTRACT[kind].event, r.value)) as { attempt: number; completedAt: number; result: { resultCode: string }; final?: boolean };
      const final = kind === 'unknown' ? event.final === true : true;
      const rec: OutcomeRecord = {
        topic: kind,
        partition: r.partition,
        offset: r.offset,
        timestamp: Number(r.timestamp),
        attempt: event.attempt,
        completedAt: event.completedAt,
        resultCode: event.result.resultCode,
        final,
      };
      if (kind === 'succeeded') t.byKind.succeeded++;
      else if (kind === 'failed') t.byKind.failed++;
      else if (final) t.byKind.finalUnknown++;
      else {
        t.byKind.nonFinalUnknown++;
        const id = `${key}#${event.attempt}`;
        t.attemptCount.set(id, (t.attemptCount.get(id) ?? 0) + 1);
      }
      t.byKey.set(key, [...(t.byKey.get(key) ?? []), rec]);
    }
  }
  return t;
}

/** Each instance's log lines, and for one that exited on its own, its fatal line. */
function workerLogs(workers: WorkerInstance[]): Array<{ n: number; lines: string[] }> {
  const logs = workers.map((w) => ({ n: w.n, lines: w.proc.tail(Number.MAX_SAFE_INTEGER).split('\n') }));
  for (const w of workers) {
    if (w.killedByCampaign || w.exit === '0' || w.exit === undefined) continue;
    const lines = logs.find((l) => l.n === w.n)!.lines;
    const fatal = [...lines].reverse().find((l) => l.includes('"level":"fatal"') || l.startsWith('capture-worker:') || l.includes('invalid configuration'));
    w.exitReason = fatal?.replace(/"(time|pid|hostname|service)":[^,]*,/g, '').slice(0, 400);
  }
  return logs;
}

interface KeyVerdict {
  terminalOutcomes: number;
  terminalKeys: number;
  lostKeys: string[];
  duplicates: number;
  duplicateReports: DuplicateReport[];
}

function judgeKeys(a: AnalysisInput, t: Tally): KeyVerdict {
  const workers = a.supervisor.instances;
  const logs = workerLogs(workers);
  const workerAt = (ms: number): number | null => workers.find((w) => ms >= w.startedAt && ms <= (w.endedAt ?? Infinity))?.n ?? null;
  const faultsNear = (ms: number): string[] =>
    a.faults
      .filter((f) => f.startedAt !== undefined && Math.abs(a.t0 + f.startedAt * 1000 - ms) < 20_000)
      .map((f) => `${f.kind} at t=${f.startedAt!.toFixed(1)}s (${(((a.t0 + f.startedAt! * 1000 - ms) / 1000) * -1).toFixed(1)}s before this record)`);
  const v: KeyVerdict = { terminalOutcomes: 0, terminalKeys: 0, lostKeys: [], duplicates: 0, duplicateReports: [] };
  for (const key of a.keys) {
    const terminal = (t.byKey.get(key) ?? []).filter((r) => r.final);
    v.terminalOutcomes += terminal.length;
    if (terminal.length > 0) v.terminalKeys++;
    else v.lostKeys.push(key);
    if (terminal.length <= 1) continue;
    v.duplicates += terminal.length - 1;
    const annotated = terminal.map((r) => ({ ...r, worker: workerAt(r.timestamp) }));
    const requests = t.requestCount.get(key) ?? 0;
    const sameAttempt = new Set(terminal.map((r) => r.attempt)).size < terminal.length;
    const sameWorker = new Set(annotated.map((r) => r.worker)).size < annotated.length;
    const near = annotated.flatMap((r) => faultsNear(r.timestamp));
    const cause =
      requests > 1
        ? `the request is ${requests} times in the requested topic (the campaign's producer resent it after an ambiguous failure), and each record got its outcome`
        : `${sameAttempt ? 'the same attempt' : 'different attempts'} published ${sameWorker ? 'by the same worker instance' : 'by different worker instances'}; faults within 20 s: ${[...new Set(near)].join('; ') || 'none'}`;
    v.duplicateReports.push({
      key,
      records: annotated,
      requestRecords: requests,
      cause,
      logLines: logs.flatMap((l) => l.lines.filter((line) => line.includes(key)).map((line) => `worker#${l.n}: ${line}`)).slice(0, 20),
    });
  }
  return v;
}

/** The call rate while the sandbox was down, filled into `out`. */
function outageRates(out: CampaignResult['outage'], timeline: Sample[]): void {
  if (out.from === undefined || out.to === undefined) return;
  const [from, to] = [out.from, out.to];
  // A sample at t counts the second (t-1, t].
  const during = timeline.filter((s) => s.t > from && s.t <= to);
  const worker = during.filter((s) => s.workerCallsPerSec !== null);
  if (worker.length) {
    const peak = worker.reduce((m, s) => (s.workerCallsPerSec! > m.workerCallsPerSec! ? s : m));
    out.peakWorkerCallsPerSec = peak.workerCallsPerSec!;
    out.peakWorkerCallsAt = peak.t;
    const rest = worker.filter((s) => s.t > from + 1.5);
    out.peakWorkerCallsPerSecAfterFirst = rest.length ? Math.max(...rest.map((s) => s.workerCallsPerSec!)) : undefined;
    out.totalWorkerCalls = worker.reduce((sum, s) => sum + s.workerCallsPerSec!, 0);
  }
  const refused = during.filter((s) => s.refusedConnectsPerSec !== null);
  if (refused.length) {
    out.peakRefusedConnectsPerSec = Math.max(...refused.map((s) => s.refusedConnectsPerSec!));
    out.totalRefusedConnects = refused.reduce((sum, s) => sum + s.refusedConnectsPerSec!, 0);
  }
  // For scale: the sandbox-counted rate in the seconds before the outage in which the worker was working.
  const before = timeline.filter((s) => s.t <= from && s.vendorCallsPerSec !== null && s.vendorCallsPerSec > 0).map((s) => s.vendorCallsPerSec!);
  out.callsPerSecBefore = before.length ? median(before) : undefined;
}

/** Restarts and exit codes of the worker instances, and the exits during and after each freeze. */
function workerRestarts(a: AnalysisInput): CampaignResult['workerRestarts'] {
  const { instances: workers, afterKill, afterExit, afterHang } = a.supervisor;
  const exitCodes: Record<string, number> = {};
  for (const w of workers) if (w.exit !== undefined && !w.killedByCampaign) exitCodes[w.exit] = (exitCodes[w.exit] ?? 0) + 1;
  for (const stall of a.found.stalls) {
    stall.workerExits = workers.filter((w) => !w.killedByCampaign && w.endedAt !== undefined && w.endedAt >= stall.from! && w.endedAt <= stall.to! + 30).length;
  }
  return { total: workers.length - 1, afterKill, afterExit, afterHang, exitCodes };
}

export async function analyse(a: AnalysisInput): Promise<CampaignResult> {
  const t = await tally(a.records, a.topics, a.codec);
  const v = judgeKeys(a, t);
  outageRates(a.found.outage, a.timeline);
  const capturesTotal = a.vendorIncarnations.reduce((s, x) => s + x.captures, 0);
  const succeededKeys = a.keys.filter((k) => t.byKey.get(k)?.some((r) => r.topic === 'succeeded')).length;
  return {
    stalls: a.found.stalls,
    stamp: a.stamp,
    commit: gitDescribe(),
    options: a.o,
    topics: a.runId,
    processes: a.processes,
    elapsedSec: a.elapsedSec,
    finished: a.finished,
    requests: a.keys.length,
    requestRecordsInLog: [...t.requestCount.values()].reduce((s, c) => s + c, 0),
    requestKeysDuplicated: [...t.requestCount.values()].filter((c) => c > 1).length,
    terminalOutcomes: v.terminalOutcomes,
    terminalKeys: v.terminalKeys,
    byKind: t.byKind,
    lost: v.lostKeys.length,
    lostKeys: v.lostKeys.slice(0, 50),
    duplicates: v.duplicates,
    duplicateReports: v.duplicateReports,
    replayedAttempts: [...t.attemptCount.values()].filter((c) => c > 1).length,
    dlq: t.dlq,
    workerRestarts: workerRestarts(a),
    workers: a.supervisor.instances.map(({ proc: _proc, healthPort: _port, ...w }) => ({
      ...w,
      startedAt: (w.startedAt - a.t0) / 1000,
      endedAt: w.endedAt === undefined ? undefined : (w.endedAt - a.t0) / 1000,
    })),
    faults: a.faults,
    broker: a.found.broker,
    outage: a.found.outage,
    vendor: { incarnations: a.vendorIncarnations, capturesTotal, succeededKeys, capturedAgainAfterRestart: capturesTotal - succeededKeys },
    timeline: a.timeline,
    logDir: a.logDir,
  };
}
