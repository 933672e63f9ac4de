/** The campaign's faults, each run at its planned time beside the others, until every request has a terminal outcome. */
import { sleep } from '../../../src/util/sleep';
import { freezeBroker, restartBroker } from './broker';
import type { CampaignContext } from './context';
import type { Timeline } from './timeline';
import type { CampaignResult, FaultRecord, StallRecord } from './types';
import { readWorker, untilNextCommit } from './workers';
import { errorDetail } from '../errors';

/** What the faults found, for the analysis. */
export interface FaultFindings {
  broker: CampaignResult['broker'];
  stalls: StallRecord[];
  outage: CampaignResult['outage'];
}

export class FaultRunner {
  readonly found: FaultFindings;

  constructor(
    private readonly c: CampaignContext,
    private readonly pauseRandom: () => number,
  ) {
    this.found = { broker: { restarted: false, healthyAtEnd: false }, stalls: [], outage: { plannedSec: c.o.outageSeconds } };
  }

  /** Starts each fault when it is due; true once all ran and every request has a terminal outcome, false at the timeout. */
  async run(faults: FaultRecord[], timeline: Timeline): Promise<boolean> {
    const { o, log, clock, feed, live } = this.c;
    const running: Array<Promise<void>> = [];
    const deadline = Date.now() + o.timeoutSeconds * 1000;
    let next = 0;
    try {
      for (;;) {
        while (next < faults.length && faults[next].plannedAt <= clock.since()) {
          const task = this.start(faults[next++]);
          task.catch((e: unknown) => log(`  ${clock.ts()} fault failed: ${errorDetail(e)}`));
          running.push(task);
        }
        timeline.progress();
        const allFaultsDone = next >= faults.length && faults.every((f) => f.endedAt !== undefined);
        if (allFaultsDone && feed.produced >= o.events && live.terminalKeys.size >= o.events) return true;
        if (Date.now() > deadline) {
          log(`timeout after ${o.timeoutSeconds}s: ${o.events - live.terminalKeys.size} requests without a terminal outcome`);
          return false;
        }
        await sleep(100);
      }
    } finally {
      await Promise.allSettled(running);
    }
  }

  private start(f: FaultRecord): Promise<void> {
    f.startedAt = this.c.clock.since();
    if (f.kind === 'kill') return this.kill(f);
    if (f.kind === 'sandbox-outage') return this.sandboxOutage(f);
    if (f.kind === 'broker-stall') return this.brokerAway(f, (release) => this.stall(f, release));
    return this.brokerAway(f, () => this.brokerRestart(f));
  }

  private async kill(f: FaultRecord): Promise<void> {
    const { o, log, clock, supervisor } = this.c;
    const pause = Math.round(o.killPauseMs[0] + this.pauseRandom() * (o.killPauseMs[1] - o.killPauseMs[0]));
    log(`  ${clock.ts()} FAULT kill -9 worker#${supervisor.current?.n ?? 'undefined'}`);
    f.detail = await supervisor.kill9(pause);
    f.endedAt = clock.since();
    log(`  ${clock.ts()} ${f.detail}`);
  }

  private async sandboxOutage(f: FaultRecord): Promise<void> {
    const { o, log, clock, sandbox } = this.c;
    const outage = this.found.outage;
    log(`  ${clock.ts()} FAULT sandbox outage: SIGKILL to sandbox#1`);
    await sandbox.kill();
    const down = Date.now();
    f.startedAt = clock.since();
    outage.from = f.startedAt;
    await sleep(o.outageSeconds * 1000);
    await sandbox.start();
    f.endedAt = clock.since();
    outage.to = f.endedAt;
    outage.actualSec = (Date.now() - down) / 1000;
    f.detail = `sandbox down ${outage.actualSec.toFixed(1)}s (SIGKILL, restarted on port ${sandbox.port} with the same keys; its idempotency store starts empty)`;
    log(`  ${clock.ts()} sandbox#2 listening on ${sandbox.url} after ${outage.actualSec.toFixed(1)}s down`);
  }

  /** The broker restarted or frozen: requests held meanwhile, the live consumer closed around it. */
  private async brokerAway(f: FaultRecord, fault: (release: () => void) => Promise<void>): Promise<void> {
    this.c.brokerAway = true;
    const release = this.c.feed.pause();
    try {
      await fault(release);
    } finally {
      f.endedAt = this.c.clock.since();
      this.c.brokerAway = false;
      release();
    }
  }

  private async stall(f: FaultRecord, release: () => void): Promise<void> {
    const { log, clock, supervisor, live } = this.c;
    const stall: StallRecord = { seconds: Number(/frozen (\d+)s/.exec(f.detail)![1]), transactionsInFlight: null, workerExits: 0 };
    this.found.stalls.push(stall);
    log(`  ${clock.ts()} FAULT broker stall ${stall.seconds}s`);
    await live.suspend();
    stall.from = clock.since();
    const frozen = await freezeBroker(stall.seconds, log, clock.ts, async () => {
      const inst = supervisor.current;
      const m = await readWorker(inst);
      return m && inst ? { n: inst.n, commits: m.commits, transactions: m.transactions } : undefined;
    });
    stall.transactionsInFlight = frozen?.transactions ?? null;
    stall.to = clock.since();
    // Requests flow again from SIGCONT on, while the recovery is timed.
    release();
    stall.recoverySec = await untilNextCommit(supervisor, frozen, 180_000);
    f.detail = `broker frozen ${stall.seconds}s with ${stall.transactionsInFlight ?? '?'} partition transactions open; first commit ${stall.recoverySec?.toFixed(1) ?? 'NOT within 180'}s after SIGCONT`;
    await live.resume();
  }

  private async brokerRestart(f: FaultRecord): Promise<void> {
    const { log, clock, live } = this.c;
    const broker = this.found.broker;
    log(`  ${clock.ts()} FAULT broker restart`);
    await live.suspend();
    const r = await restartBroker(log, clock.ts);
    await live.resume();
    broker.restarted = true;
    broker.stopSec = r.stopSec;
    broker.startSec = r.startSec;
    broker.downSec = r.stopSec + r.startSec;
    f.detail = `broker SIGTERM: stopped in ${r.stopSec.toFixed(1)}s, answering ${r.startSec.toFixed(1)}s after start`;
  }
}
