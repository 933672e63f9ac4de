/**
 * The campaign's per-second timeline: the API call rate from the worker's /metrics
 * (capture_api_latency_seconds_count: one observation per call, refused connections included),
 * from the sandbox's /sandbox/stats while it is up, and from the kernel's TCP AttemptFails counter
 * (/proc/net/snmp: refused connects in this network namespace) while it is down; and a progress line.
 */
import { readFileSync } from 'node:fs';
import { every } from '../sampler';
import type { CampaignContext } from './context';
import type { Sample } from './types';
import { readWorker } from './workers';

export class Timeline {
  readonly samples: Sample[] = [];
  private sampler: { stop(): void } | undefined;
  private prevVendor: { incarnation: number; calls: number } | undefined;
  private prevWorker: { n: number; calls: number } | undefined;
  private prevFails = tcpAttemptFails();
  private prevOutcomes = 0;
  private lastProgress = 0;

  constructor(private readonly c: CampaignContext) {}

  start(): void {
    this.sampler = every(1000, () => this.sample());
  }

  stop(): void {
    this.sampler?.stop();
    this.sampler = undefined;
  }

  private async sample(): Promise<void> {
    const { supervisor, sandbox, live, feed } = this.c;
    const t = this.c.clock.since();
    const inst = supervisor.current;
    if (inst?.proc.alive) inst.peakRssMb = Math.max(inst.peakRssMb ?? 0, inst.proc.peakRssMb() || 0);
    const incarnation = sandbox.incarnation;
    const [vendor, metrics] = await Promise.all([sandbox.stats(), readWorker(inst)]);
    const fails = tcpAttemptFails();
    let vendorRate: number | null = null;
    if (vendor) {
      const prev = this.prevVendor;
      vendorRate = prev && prev.incarnation === incarnation ? vendor.calls - prev.calls : vendor.calls;
      this.prevVendor = { incarnation, calls: vendor.calls };
    }
    let workerRate: number | null = null;
    if (metrics && inst) {
      const prev = this.prevWorker;
      workerRate = prev && prev.n === inst.n ? metrics.calls - prev.calls : metrics.calls;
      this.prevWorker = { n: inst.n, calls: metrics.calls };
    }
    this.samples.push({
      t: Number(t.toFixed(1)),
      produced: feed.produced,
      terminal: live.terminalKeys.size,
      outcomesPerSec: live.records - this.prevOutcomes,
      sandboxUp: sandbox.up,
      vendorCallsPerSec: vendorRate,
      workerCallsPerSec: workerRate,
      refusedConnectsPerSec: fails !== null && this.prevFails !== null ? fails - this.prevFails : null,
      circuit: metrics ? metrics.circuit : null,
      inFlight: metrics?.inFlight ?? null,
      retriesPending: metrics?.retriesPending ?? null,
      worker: inst?.proc.alive ? inst.n : null,
    });
    this.prevOutcomes = live.records;
    this.prevFails = fails;
  }

  /** A progress line, at most every 2 s. */
  progress(): void {
    if (Date.now() - this.lastProgress < 2000) return;
    this.lastProgress = Date.now();
    const { o, supervisor, sandbox, live, feed, clock } = this.c;
    const s = this.samples.at(-1);
    const recent = this.samples.slice(-2);
    const mean = (f: (x: Sample) => number | null): string => {
      const v = recent.map(f).filter((x): x is number => x !== null);
      return v.length ? String(v.reduce((a, b) => a + b, 0) / v.length) : '–';
    };
    const inst = supervisor.current;
    this.c.log(
      `${clock.ts().padEnd(9)} produced ${String(feed.produced).padStart(6)}/${o.events}  terminal ${String(live.terminalKeys.size).padStart(6)}  ` +
        `outcomes/s ${mean((x) => x.outcomesPerSec).padStart(5)}  worker#${inst?.n ?? '-'} ${inst?.proc.alive ? 'up' : 'down'} circuit ${s?.circuit ?? '–'}  ` +
        `calls/s worker ${mean((x) => x.workerCallsPerSec).padStart(4)} sandbox ${sandbox.up ? mean((x) => x.vendorCallsPerSec).padStart(4) : 'DOWN'}  refused/s ${mean((x) => x.refusedConnectsPerSec)}` +
        (this.c.brokerAway ? '  BROKER RESTARTING' : ''),
    );
  }
}

/** Tcp AttemptFails from /proc/net/snmp (connects refused or reset before they were established). */
function tcpAttemptFails(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Tcp:'));
    const names = lines[0].trim().split(/\s+/);
    const values = lines[1].trim().split(/\s+/);
    const i = names.indexOf('AttemptFails');
    return i < 0 ? null : Number(values[i]);
  } catch {
    return null;
  }
}
