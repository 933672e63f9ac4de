import { Partitioners, type Admin, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { CompletionHandle, type CompletionSink, type OutputRecord } from './completion';
import { decodeOffsetMap } from './offset-map';
import { PartitionProgress } from './partition-progress';
import { PartitionPublisher, type PublisherSettings } from './partition-publisher';

/**
 * opening: fencing the previous owner and reading the committed position; active: consuming and
 * committing; then one of the ends, after which the partition's records publish nothing:
 * revoked (a rebalance took it), fenced (another instance initialised its producer), failed (a
 * transaction failed), closed (shutdown).
 */
export type OwnerState = 'opening' | 'active' | 'revoked' | 'fenced' | 'failed' | 'closed';

export interface OwnerContext {
  kafka: Kafka;
  admin: Admin;
  /** Shared by every instance of the group: the same partition always gets the same transactional id. */
  transactionalIdPrefix: string;
  publisher: PublisherSettings;
  logger: Logger;
  onCommit(records: number, durationMs: number): void;
  onTransaction(delta: 1 | -1): void;
  /** Stop and restart fetching this partition (a retry tier waiting for its first record to be due). */
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  /** The owner ended on its own (fenced or failed): the registry decides when to open a new one. */
  onEnded(owner: PartitionOwner): void;
}

function transactionalIdFor(prefix: string, topic: string, partition: number): string {
  return `${prefix}.${topic}.${partition}`;
}

/**
 * Everything this instance holds of one assigned partition: its own transactional producer
 * (fenced per partition, as Kafka Streams' EOS v1 does), its commit progress, the publisher that
 * commits its records' outcomes with its offset, and (for a retry tier) the wait for its next due record.
 */
export class PartitionOwner implements CompletionSink {
  private stateNow: OwnerState = 'opening';
  private readonly producer: Producer;
  private progressNow: PartitionProgress | undefined;
  private publisher: PartitionPublisher | undefined;
  private waiting: NodeJS.Timeout | undefined;
  readonly opened: Promise<void>;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly context: OwnerContext,
  ) {
    this.producer = context.kafka.producer({
      transactionalId: transactionalIdFor(context.transactionalIdPrefix, topic, partition),
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      allowAutoTopicCreation: false,
      // The broker answers CONCURRENT_TRANSACTIONS for a few ms after each commit; KafkaJS's default
      // 300 ms first retry would stall every commit queued behind it.
      retry: { initialRetryTime: 20, maxRetryTime: 2_000, retries: 12 },
      // Java-compatible murmur2 placement, so outcome keys land where Java producers put them.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.opened = this.open();
  }

  get state(): OwnerState {
    return this.stateNow;
  }

  get active(): boolean {
    return this.stateNow === 'active';
  }

  /** Only valid once opened. */
  get progress(): PartitionProgress {
    if (!this.progressNow) throw new Error(`partition ${this.topic}/${this.partition} is not open`);
    return this.progressNow;
  }

  /** True while fetching is paused until the partition's next record is due. */
  get isWaiting(): boolean {
    return this.waiting !== undefined;
  }

  /** Takes a record into this partition's care; undefined when it was taken before (a re-fetch). */
  dispatch(message: KafkaMessage): CompletionHandle | undefined {
    const offset = Number(message.offset);
    if (!this.active || !this.progress.isNew(offset)) return undefined;
    this.progress.dispatch(offset);
    return new CompletionHandle(this, message);
  }

  publish(offset: number, records: OutputRecord[]): Promise<boolean> {
    return this.active && this.publisher ? this.publisher.publish(offset, records) : Promise.resolve(false);
  }

  /**
   * Pauses fetching until `dueAt`: the record at the consumer's position is not due yet and, in a
   * tier, none behind it is due sooner. Nothing is held meanwhile; the record is fetched again.
   */
  waitUntil(dueAt: number): void {
    if (!this.active || this.waiting) return;
    this.waiting = setTimeout(() => this.stopWaiting(), Math.max(0, dueAt - Date.now()));
    this.waiting.unref();
    this.context.pause(this.topic, this.partition);
  }

  /** Commits what is queued (shutdown, before leaving the group). */
  async flush(): Promise<void> {
    await this.publisher?.flush();
  }

  /** Ends ownership: queued and in-flight records publish nothing; the producer closes after its last transaction. */
  async end(state: 'revoked' | 'closed'): Promise<void> {
    await this.finish(state);
  }

  private async open(): Promise<void> {
    const started = Date.now();
    await this.producer.connect();
    // InitProducerId bumps the epoch: the previous owner's open transaction is aborted (the call
    // waits until it is) and every later send or commit of it fails as fenced. Only now is the
    // committed offset final.
    const fence = await this.producer.transaction();
    await fence.abort();
    const position = await this.committedPosition();
    if (this.stateNow !== 'opening') return;
    this.progressNow = new PartitionProgress(position.offset, position.completed);
    this.publisher = new PartitionPublisher(this.producer, this, this.progressNow, this.context.publisher, {
      onCommit: (records, ms) => this.context.onCommit(records, ms),
      onTransaction: (delta) => this.context.onTransaction(delta),
      onFailure: (error, fenced) => {
        this.context.logger.warn(
          { err: error, topic: this.topic, partition: this.partition, fenced },
          fenced ? 'partition fenced by another owner; its uncommitted work is dropped' : 'transaction failed; the partition is reopened from its committed offset',
        );
        void this.finish(fenced ? 'fenced' : 'failed').then(() => this.context.onEnded(this));
      },
    });
    this.stateNow = 'active';
    this.context.logger.debug({ topic: this.topic, partition: this.partition, offset: position.offset, inherited: position.completed.length, ms: Date.now() - started }, 'partition opened');
  }

  /** Where the previous owner got to: the next offset to read, and what it completed above it. */
  private async committedPosition(): Promise<{ offset: number; completed: number[] }> {
    const { admin } = this.context;
    const committed = (await admin.fetchOffsets({ groupId: this.context.publisher.groupId, topics: [this.topic] })).at(0);
    const entry = committed?.partitions.find((p) => p.partition === this.partition);
    const offset = entry ? Number(entry.offset) : -1;
    if (offset < 0) {
      // Never committed: start from the beginning of what the topic still holds.
      const ends = await admin.fetchTopicOffsets(this.topic);
      return { offset: Number(ends.find((p) => p.partition === this.partition)?.low ?? 0), completed: [] };
    }
    const { offsets, problem } = decodeOffsetMap(offset, entry!.metadata);
    if (problem)
      this.context.logger.warn({ topic: this.topic, partition: this.partition, problem }, 'ignoring unreadable offset metadata; completed records above the committed offset are processed again');
    return { offset, completed: offsets };
  }

  private stopWaiting(): void {
    if (!this.waiting) return;
    clearTimeout(this.waiting);
    this.waiting = undefined;
    this.context.resume(this.topic, this.partition);
  }

  private async finish(state: Exclude<OwnerState, 'opening' | 'active'>): Promise<void> {
    if (this.stateNow !== 'opening' && this.stateNow !== 'active') return;
    this.stateNow = state;
    // A partition left paused would stay paused if it came back to this instance.
    this.stopWaiting();
    await this.opened.catch(() => undefined);
    await this.publisher?.stop();
    await this.producer.disconnect().catch(() => undefined);
  }
}
