import type { Logger } from '../observability/logger';
import { PartitionOwner } from './partition-owner';

export interface RegistryHooks {
  /** Creates (and starts opening) the owner of a newly assigned partition. */
  create(topic: string, partition: number): PartitionOwner;
  /** Positions the consumer at an owner's committed offset once it is open, and lets it fetch there. */
  seek(topic: string, partition: number, offset: number): void;
  logger: Logger;
  /** How long a fenced partition waits for the rebalance that normally explains it before reopening. */
  fencedReopenMs: number;
  /** The number of owners (one transactional producer each) changed. */
  onOwners?(count: number): void;
}

const key = (topic: string, partition: number) => `${topic}|${partition}`;
const REOPEN_BACKOFF_MS = [200, 1_000, 5_000, 10_000];

/**
 * Which partitions this instance owns, and the one owner of each. Assignments open owners for new
 * partitions and end the ones taken away; an owner that ended by itself (fenced, failed) is
 * replaced while its partition is still assigned, so a failed transaction costs a reopen from the
 * committed offset instead of a process restart.
 */
export class PartitionRegistry {
  private readonly owners = new Map<string, PartitionOwner>();
  private assigned = new Set<string>();
  private memberId: string | undefined;
  private readonly reopenTimers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private closed = false;

  constructor(private readonly hooks: RegistryHooks) {}

  /**
   * A new group generation. Partitions kept under the same member id keep their owner (nobody else
   * held them meanwhile); after the member id changed this instance was out of the group, so every
   * partition is opened afresh.
   */
  assign(assignment: Record<string, number[]>, memberId: string): void {
    const rejoined = this.memberId !== undefined && this.memberId !== memberId;
    this.memberId = memberId;
    this.assigned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => key(topic, p))));
    for (const [id, owner] of this.owners) {
      if (this.assigned.has(id) && !rejoined && (owner.state === 'active' || owner.state === 'opening')) continue;
      this.drop(id, owner, 'revoked');
    }
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) if (!this.owners.has(key(topic, partition))) this.open(topic, partition);
    }
  }

  /** The current owner once it is open, or undefined when the partition is not (or no longer) ours. */
  async owner(topic: string, partition: number): Promise<PartitionOwner | undefined> {
    const owner = this.owners.get(key(topic, partition));
    if (!owner) return undefined;
    try {
      await owner.opened;
    } catch {
      return undefined;
    }
    return owner.active ? owner : undefined;
  }

  get all(): PartitionOwner[] {
    return Array.from(this.owners.values());
  }

  /** Called by an owner that ended by itself. */
  ended(owner: PartitionOwner): void {
    const id = key(owner.topic, owner.partition);
    if (this.owners.get(id) !== owner) return;
    this.owners.delete(id);
    this.changed();
    if (this.closed || !this.assigned.has(id)) return;
    // Fenced: another instance opened this partition, so a rebalance is normally on its way and
    // will say who owns it; reopening at once would fence that instance back.
    this.reopenLater(owner.topic, owner.partition, owner.state === 'fenced' ? this.hooks.fencedReopenMs : undefined);
  }

  /** Shutdown: ends every owner (after the caller flushed what completed). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.reopenTimers.values()) clearTimeout(timer);
    this.reopenTimers.clear();
    const owners = Array.from(this.owners.values());
    this.owners.clear();
    this.changed();
    await Promise.all(owners.map((owner) => owner.end('closed')));
  }

  /** Backs off by consecutive failures of the partition unless told how long to wait. */
  private reopenLater(topic: string, partition: number, delayMs?: number): void {
    const id = key(topic, partition);
    const failures = (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, failures);
    const delay = delayMs ?? REOPEN_BACKOFF_MS[Math.min(failures, REOPEN_BACKOFF_MS.length) - 1];
    clearTimeout(this.reopenTimers.get(id));
    const timer = setTimeout(() => {
      this.reopenTimers.delete(id);
      if (!this.closed && this.assigned.has(id) && !this.owners.has(id)) this.open(topic, partition);
    }, delay);
    timer.unref();
    this.reopenTimers.set(id, timer);
  }

  private open(topic: string, partition: number): void {
    const id = key(topic, partition);
    clearTimeout(this.reopenTimers.get(id));
    this.reopenTimers.delete(id);
    const owner = this.hooks.create(topic, partition);
    this.owners.set(id, owner);
    this.changed();
    void this.position(id, owner);
  }

  /** Once open, the consumer is positioned at the owner's start; failing either is retried with backoff. */
  private async position(id: string, owner: PartitionOwner): Promise<void> {
    const { topic, partition } = owner;
    try {
      await owner.opened;
      if (this.owners.get(id) !== owner || !owner.active) return;
      // Throws while KafkaJS restarts its consumer: the owner must not run from a position it did not set.
      this.hooks.seek(topic, partition, owner.progress.startOffset);
      this.failures.delete(id);
    } catch (error) {
      this.hooks.logger.warn({ err: error, topic, partition }, 'could not open partition; retrying');
      if (this.owners.get(id) !== owner) return;
      this.owners.delete(id);
      this.changed();
      void owner.end('revoked');
      if (!this.closed && this.assigned.has(id)) this.reopenLater(topic, partition);
    }
  }

  private drop(id: string, owner: PartitionOwner, state: 'revoked'): void {
    this.owners.delete(id);
    this.changed();
    void owner.end(state);
  }

  private changed(): void {
    this.hooks.onOwners?.(this.owners.size);
  }
}
