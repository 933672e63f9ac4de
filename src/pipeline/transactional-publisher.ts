import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { PartitionProgress } from './partition-progress';

/** One consumed record's contribution to a transaction: its output records, and its offset. */
export interface Completion {
  progress: PartitionProgress;
  offset: number;
  messages: Array<{ topic: string; message: Message }>;
}

export interface PublisherOptions {
  groupId: string;
  maxRecords: number;
  /** Output bytes per transaction, so one produce batch stays under the broker's message limit. */
  maxBytes: number;
  lingerMs: number;
  onCommit?: (records: number, durationMs: number) => void;
}

const COMMIT_ATTEMPTS = 6;

function size(data: Buffer | string | null | undefined): number {
  return data == null ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

function isFenced(error: unknown): boolean {
  const e = error as { name?: string; type?: string };
  return e.name === 'KafkaJSProducerFencedError' || e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED';
}

interface Queued extends Completion {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Publishes outcomes and commits consumed offsets in the same Kafka transaction, many records per
 * transaction (up to `maxRecords`, or whatever accumulated while the previous one committed), so
 * throughput does not pay one commit per record. Transactions run one at a time, in order.
 */
export class TransactionalPublisher {
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private held = false;

  constructor(
    private readonly producer: Producer,
    private readonly options: PublisherOptions,
  ) {}

  /** Resolves once the outcome and the offset are committed; rejects if they never can be. */
  publish(completion: Completion): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ ...completion, resolve, reject });
      if (this.queue.length >= this.options.maxRecords) this.kick();
      else if (!this.timer && !this.flushing) this.timer = setTimeout(() => this.kick(), this.options.lingerMs);
    });
  }

  /**
   * No new transaction starts until release(): while the group rebalances, this instance may be
   * losing partitions, and a late commit could race the new owner reading the committed offsets.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.kick();
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Commits everything queued so far. */
  async flush(): Promise<void> {
    while ((this.queue.length > 0 && !this.held) || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.held || this.queue.length === 0) return;
    this.flushing = this.commitLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.timer = setTimeout(() => this.kick(), this.options.lingerMs);
    });
  }

  private async commitLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.failure && !this.held) {
      const batch = this.queue.splice(0, this.batchLength());
      const live = batch.filter((entry) => !entry.progress.revoked);
      try {
        if (live.length > 0) await this.commit(live);
        for (const entry of batch) entry.resolve();
      } catch (error) {
        // A failed transaction is aborted, so nothing of it is visible; the records stay
        // uncommitted and are consumed again after the restart that this failure forces.
        this.failure = error as Error;
        for (const entry of [...batch, ...this.queue.splice(0)]) entry.reject(this.failure);
      }
    }
  }

  /** How many queued entries the next transaction takes: at least one, then within both limits. */
  private batchLength(): number {
    let bytes = 0;
    let count = 0;
    for (const entry of this.queue) {
      if (count >= this.options.maxRecords) break;
      bytes += entry.messages.reduce((sum, { message }) => sum + size(message.key) + size(message.value), 0);
      if (count > 0 && bytes > this.options.maxBytes) break;
      count++;
    }
    return count;
  }

  private async commit(entries: Queued[]): Promise<void> {
    const started = Date.now();
    const byTopic = new Map<string, Message[]>();
    const touched = new Set<PartitionProgress>();
    for (const entry of entries) {
      for (const { topic, message } of entry.messages) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(message);
      }
      entry.progress.complete(entry.offset);
      touched.add(entry.progress);
    }
    const offsets = new Map<string, Array<{ partition: number; offset: string; metadata: string }>>();
    for (const progress of touched) {
      const point = progress.commitPoint();
      if (!point) continue;
      let list = offsets.get(progress.topic);
      if (!list) offsets.set(progress.topic, (list = []));
      list.push({ partition: progress.partition, ...point });
    }
    const topicMessages: TopicMessages[] = Array.from(byTopic, ([topic, messages]) => ({ topic, messages }));
    const topics = Array.from(offsets, ([topic, partitions]) => ({ topic, partitions }));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transact(topicMessages, topics);
        break;
      } catch (error) {
        // An aborted transaction leaves nothing visible, so the same content can be sent again;
        // a fenced producer (another instance took over its id) must stop instead.
        if (attempt >= COMMIT_ATTEMPTS || isFenced(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
    this.options.onCommit?.(entries.length, Date.now() - started);
  }

  private async transact(topicMessages: TopicMessages[], topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string }> }>): Promise<void> {
    const transaction = await this.producer.transaction();
    try {
      if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages });
      if (topics.length > 0) await transaction.sendOffsets({ consumerGroupId: this.options.groupId, topics });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }
}
