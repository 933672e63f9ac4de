import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { OutputRecord } from './completion';
import type { PartitionProgress } from './partition-progress';

export interface PublisherSettings {
  groupId: string;
  maxRecords: number;
  /** Output bytes per transaction, so one produce batch stays under the broker's message limit. */
  maxBytes: number;
  lingerMs: number;
}

export interface PublisherEvents {
  /** A transaction began (+1) or ended either way (-1). */
  onTransaction(delta: 1 | -1): void;
  onCommit(records: number, durationMs: number): void;
  /** The transaction failed and was aborted (or fenced); nothing more is published. */
  onFailure(error: Error, fenced: boolean): void;
}

interface Queued {
  offset: number;
  records: OutputRecord[];
  bytes: number;
  resolve: (committed: boolean) => void;
}

export function isFenced(error: unknown): boolean {
  const e = error as { name?: string; type?: string };
  return e.name === 'KafkaJSProducerFencedError' || e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED';
}

function size(data: Buffer | string | null | undefined): number {
  return data == null ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/**
 * One partition's outcomes and its offset, committed together in that partition's own
 * transactions, many records per transaction (up to `maxRecords`/`maxBytes`, or whatever
 * accumulated while the previous one committed). Transactions run one at a time, in order.
 * A failed transaction is never sent again by this publisher: it may have committed after all
 * (a lost answer), so only a new owner, after fencing, may read where the partition stands.
 */
export class PartitionPublisher {
  private queue: Queued[] = [];
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly producer: Producer,
    private readonly partition: { topic: string; partition: number },
    private readonly progress: PartitionProgress,
    private readonly settings: PublisherSettings,
    private readonly events: PublisherEvents,
  ) {}

  publish(offset: number, records: OutputRecord[]): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    const bytes = records.reduce((sum, { message }) => sum + size(message.key) + size(message.value), 0);
    return new Promise((resolve) => {
      this.queue.push({ offset, records, bytes, resolve });
      if (this.queue.length >= this.settings.maxRecords) this.kick();
      else if (!this.timer && !this.running) this.timer = setTimeout(() => this.kick(), this.settings.lingerMs);
    });
  }

  /** Commits everything queued so far (shutdown). */
  async flush(): Promise<void> {
    while (!this.stopped && (this.queue.length > 0 || this.running)) {
      this.kick();
      await this.running;
    }
  }

  /** Drops what is queued (resolved as not committed); a transaction already running finishes or fails. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const entry of this.queue.splice(0)) entry.resolve(false);
    return this.running ?? Promise.resolve();
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.stopped || this.queue.length === 0) return;
    this.running = this.commitNext().finally(() => {
      this.running = undefined;
      if (this.queue.length === 0 || this.stopped) return;
      // The next transaction waits a linger even when records queued meanwhile: the broker answers
      // CONCURRENT_TRANSACTIONS until the last one's markers are written, and with a transaction
      // per partition, back-to-back commits would multiply the broker's work for small batches.
      if (this.queue.length >= this.settings.maxRecords) this.kick();
      else this.timer = setTimeout(() => this.kick(), this.settings.lingerMs);
    });
  }

  private async commitNext(): Promise<void> {
    const batch = this.queue.splice(0, this.batchLength());
    try {
      await this.commit(batch);
      for (const entry of batch) entry.resolve(true);
    } catch (error) {
      this.stopped = true;
      for (const entry of [...batch, ...this.queue.splice(0)]) entry.resolve(false);
      this.events.onFailure(error as Error, isFenced(error));
    }
  }

  /** How many queued entries the next transaction takes: at least one, then within both limits. */
  private batchLength(): number {
    let bytes = 0;
    let count = 0;
    for (const entry of this.queue) {
      if (count >= this.settings.maxRecords) break;
      bytes += entry.bytes;
      if (count > 0 && bytes > this.settings.maxBytes) break;
      count++;
    }
    return count;
  }

  private async commit(entries: Queued[]): Promise<void> {
    const started = Date.now();
    const byTopic = new Map<string, Message[]>();
    for (const entry of entries) {
      for (const { topic, message } of entry.records) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(message);
      }
      this.progress.complete(entry.offset);
    }
    const point = this.progress.commitPoint();
    const topicMessages: TopicMessages[] = Array.from(byTopic, ([topic, messages]) => ({ topic, messages }));
    this.events.onTransaction(1);
    try {
      const transaction = await this.producer.transaction();
      try {
        if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages });
        if (point) {
          const { topic, partition } = this.partition;
          await transaction.sendOffsets({ consumerGroupId: this.settings.groupId, topics: [{ topic, partitions: [{ partition, ...point }] }] });
        }
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    } finally {
      this.events.onTransaction(-1);
    }
    this.events.onCommit(entries.length, Date.now() - started);
  }
}
