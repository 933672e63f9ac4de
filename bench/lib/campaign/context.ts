/** What the phases of a running campaign share: its clock, its processes and its request feed. */
import type { RequestFeed } from './feed';
import type { LiveOutcomes } from './live-outcomes';
import type { SandboxHost } from './sandbox-host';
import type { CampaignOptions, Log } from './types';
import type { WorkerSupervisor } from './workers';

/** Seconds since t0: the moment the first worker joined its group. */
export class Clock {
  t0 = Date.now();

  reset(): void {
    this.t0 = Date.now();
  }

  since(): number {
    return (Date.now() - this.t0) / 1000;
  }

  /** `t=12.3s`, for log lines. */
  readonly ts = (): string => `t=${this.since().toFixed(1)}s`;
}

export interface CampaignContext {
  o: CampaignOptions;
  log: Log;
  clock: Clock;
  supervisor: WorkerSupervisor;
  sandbox: SandboxHost;
  feed: RequestFeed;
  live: LiveOutcomes;
  /** The broker is being restarted or is frozen (shown in the progress line). */
  brokerAway: boolean;
}
