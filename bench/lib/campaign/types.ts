/** The fault campaign's options, and what it records and reports (see ../fault-campaign.ts). */
import type { OutcomeRole } from '../../../src/events/contract';

export type Log = (line: string) => void;

export interface CampaignOptions {
  events: number;
  /** Share of requests with a scripted `unknown-<1..3>-` payment id. */
  unknownShare: number;
  kills: number;
  outageSeconds: number;
  /** Restart the shared broker once (needs the native stack's broker to be the one in use). */
  brokerRestart: boolean;
  /** Freeze the shared broker (SIGSTOP … SIGCONT) once for each of these many seconds, at random moments. */
  stalls: number[];
  /** Requests per second (0: all at once). */
  rate: number;
  partitions: number;
  inflight: number;
  latencyMs: number;
  jitterMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Pause between a kill -9 and the restart, ms (random in [min, max]). */
  killPauseMs: [number, number];
  /** Pause before restarting a worker that exited on its own. */
  crashRestartDelayMs: number;
  /** A worker still running this long after logging its fatal error is killed and restarted (and reported). */
  hangAfterFatalMs: number;
  /** Faults are placed in [2 s, span] after the first worker joined; default: the production time (at least 20 s + outage). */
  faultSpanSeconds?: number;
  /** Minimum distance between two kills, and between a kill and the broker restart. */
  minFaultGapSeconds: number;
  timeoutSeconds: number;
  seed: number;
  logLevel: string;
  tsx: boolean;
  verbose: boolean;
  keepTopics: boolean;
  /** Where worker and sandbox logs are written (default: a temporary folder, removed unless kept). */
  logDir?: string;
  extraEnv: Record<string, string>;
}

export const DEFAULT_OPTIONS: CampaignOptions = {
  events: 20_000,
  unknownShare: 0.2,
  kills: 5,
  outageSeconds: 30,
  brokerRestart: true,
  stalls: [20, 60],
  rate: 200,
  partitions: 12,
  inflight: 500,
  latencyMs: 20,
  jitterMs: 20,
  retryBaseDelayMs: 1000,
  retryMaxDelayMs: 10_000,
  killPauseMs: [500, 3000],
  crashRestartDelayMs: 1000,
  hangAfterFatalMs: 10_000,
  minFaultGapSeconds: 8,
  timeoutSeconds: 900,
  seed: Math.floor(Math.random() * 2 ** 31),
  logLevel: 'info',
  tsx: false,
  verbose: false,
  keepTopics: false,
  extraEnv: {},
};

export type FaultKind = 'kill' | 'broker-restart' | 'sandbox-outage' | 'broker-stall';

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds after t0 it was planned for / started / ended. */
  plannedAt: number;
  startedAt?: number;
  endedAt?: number;
  detail: string;
}

export interface StallRecord {
  seconds: number;
  /** Seconds after t0 the broker was frozen and resumed. */
  from?: number;
  to?: number;
  /** Partition transactions the worker had open 300 ms into the freeze (they cannot end while it lasts). */
  transactionsInFlight: number | null;
  /** From SIGCONT to the next committed outcome seen by a read_committed consumer. */
  recoverySec?: number;
  /** Worker processes that exited on their own from the freeze until 30 s after it. */
  workerExits: number;
}

export interface WorkerInstanceRecord {
  n: number;
  reason: string;
  startedAt: number;
  endedAt?: number;
  /** Exit code or signal. */
  exit?: string;
  killedByCampaign: boolean;
  /** It logged "worker cannot continue" and did not exit within hangAfterFatalMs: killed by the watchdog. */
  hungAfterFatal?: boolean;
  /** Highest resident set size seen while it ran (VmHWM, sampled every second). */
  peakRssMb?: number;
  /** Why it exited on its own: its fatal log line or start-up error, shortened. */
  exitReason?: string;
  log?: string;
}

export interface Sample {
  /** Seconds since t0. */
  t: number;
  produced: number;
  /** Keys with at least one terminal outcome seen by the live read_committed consumer. */
  terminal: number;
  outcomesPerSec: number;
  sandboxUp: boolean;
  /** Calls the sandbox counted in this second (null while it is down or did not answer). */
  vendorCallsPerSec: number | null;
  /** API calls the worker completed in this second (its histogram count; includes refused connections). */
  workerCallsPerSec: number | null;
  /** Refused / failed TCP connects in this network namespace in this second (/proc/net/snmp Tcp AttemptFails). */
  refusedConnectsPerSec: number | null;
  circuit: string | null;
  inFlight: number | null;
  retriesPending: number | null;
  worker: number | null;
}

export interface OutcomeRecord {
  topic: OutcomeRole;
  partition: number;
  offset: string;
  timestamp: number;
  attempt: number;
  completedAt: number;
  resultCode: string;
  final: boolean;
}

export interface DuplicateReport {
  key: string;
  records: Array<OutcomeRecord & { worker: number | null }>;
  requestRecords: number;
  cause: string;
  logLines: string[];
}

export interface CampaignResult {
  stamp: string;
  commit: string;
  options: CampaignOptions;
  topics: string;
  processes: 'js' | 'tsx';
  elapsedSec: number;
  finished: boolean;
  requests: number;
  /** Request records found in the requested topic, and keys found there more than once. */
  requestRecordsInLog: number;
  requestKeysDuplicated: number;
  terminalOutcomes: number;
  terminalKeys: number;
  byKind: { succeeded: number; failed: number; finalUnknown: number; nonFinalUnknown: number };
  lost: number;
  lostKeys: string[];
  duplicates: number;
  duplicateReports: DuplicateReport[];
  /** (key, attempt) pairs of non-terminal unknown outcomes published more than once. */
  replayedAttempts: number;
  dlq: number;
  workerRestarts: { total: number; afterKill: number; afterExit: number; afterHang: number; exitCodes: Record<string, number> };
  workers: WorkerInstanceRecord[];
  faults: FaultRecord[];
  broker: { restarted: boolean; stopSec?: number; startSec?: number; downSec?: number; healthyAtEnd: boolean };
  stalls: StallRecord[];
  outage: {
    plannedSec: number;
    actualSec?: number;
    from?: number;
    to?: number;
    /** Highest worker-side API calls in one second while the sandbox was down (first second included). */
    peakWorkerCallsPerSec?: number;
    peakWorkerCallsAt?: number;
    /** The same, from the second second of the outage on (after the calls in flight at the kill failed). */
    peakWorkerCallsPerSecAfterFirst?: number;
    totalWorkerCalls?: number;
    peakRefusedConnectsPerSec?: number;
    totalRefusedConnects?: number;
    /** Median sandbox-counted calls/s over the seconds before the outage with any calls, for scale. */
    callsPerSecBefore?: number;
  };
  /**
   * Each sandbox incarnation captures a key at most once (idempotent by captureRequestId), and every
   * succeeded outcome comes from a capture, so captures beyond one per succeeded key are keys captured
   * by both incarnations: the restarted sandbox had lost its idempotency store (a real vendor would
   * have answered with the first capture).
   */
  vendor: {
    /** Per sandbox incarnation: calls and distinct captures it counted (the first: just before its kill). */
    incarnations: Array<{ calls: number; captures: number }>;
    capturesTotal: number;
    succeededKeys: number;
    capturedAgainAfterRestart: number;
  };
  timeline: Sample[];
  logDir: string;
}
