/**
 * A live read_committed consumer for the benches: it follows topics from their beginning while a
 * run goes on (progress, timing), hands each record on once, and stops quietly. Verdicts are not
 * taken from it but from src/cli/topic-reader.ts, which reads to the end offsets.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, ConsumerConfig, IHeaders, Kafka } from 'kafkajs';
import { sleep } from '../../src/util/sleep';
import { errorMessage } from '../../src/util/errors';

export interface LiveRecord {
  topic: string;
  partition: number;
  offset: string;
  /** The record's timestamp (the producer's create time). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** When this reader got it (read_committed: after the commit). */
  seenAt: number;
}

export interface LiveReaderOptions {
  groupPrefix?: string;
  consumer?: Partial<ConsumerConfig>;
  partitionsConsumedConcurrently?: number;
  /** Wait until the consumer has joined its group before start() returns. */
  waitForJoin?: boolean;
  /** A consumer that crashed for good is replaced by a new one (reading again from the beginning), with this line logged. */
  onCrash?: (line: string) => void;
}

export class LiveReader {
  /** The same record (topic, partition, offset) delivered again: a KafkaJS-side re-delivery, not handed on. */
  redeliveries = 0;
  private readonly seen = new Set<string>();
  private consumer: Consumer | undefined;
  private stopped = false;
  private handling = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
    private readonly onRecord: (record: LiveRecord) => void | Promise<void>,
    private readonly o: LiveReaderOptions = {},
  ) {}

  static async start(kafka: Kafka, topics: string[], onRecord: (record: LiveRecord) => void | Promise<void>, o: LiveReaderOptions = {}): Promise<LiveReader> {
    const reader = new LiveReader(kafka, topics, onRecord, o);
    await reader.start();
    return reader;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const consumer = this.kafka.consumer({ groupId: `${this.o.groupPrefix ?? 'bench-live'}-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 50, ...this.o.consumer });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    if (this.o.onCrash) consumer.on(consumer.events.CRASH, ({ payload }) => this.crashed(consumer, payload));
    await consumer.run({
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch }) => {
        if (this.stopped) return;
        this.handling++;
        try {
          const seenAt = Date.now();
          for (const m of batch.messages) {
            const id = `${batch.topic}|${batch.partition}|${m.offset}`;
            if (this.seen.has(id)) {
              this.redeliveries++;
              continue;
            }
            this.seen.add(id);
            await this.onRecord({ topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key, value: m.value, headers: m.headers ?? {}, seenAt });
          }
        } finally {
          this.handling--;
        }
      },
    });
    if (this.o.waitForJoin ?? true) await joined;
  }

  /** start() again until it succeeds (after a broker restart the group coordinator takes a while). */
  async resume(attempts = 30): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (error) {
        await this.consumer?.disconnect().catch(() => undefined);
        if (attempt >= attempts) throw error;
        await sleep(2000);
      }
    }
  }

  /**
   * Pauses fetching and lets batches in progress finish before disconnecting: a KafkaJS consumer
   * disconnected while a batch is being handled heartbeats after it and opens a new connection to
   * the group coordinator that nothing closes (it kept the test process alive).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const consumer = this.consumer;
    if (!consumer) return;
    try {
      consumer.pause(this.topics.map((topic) => ({ topic })));
    } catch {
      // not running (crashed): nothing to pause
    }
    const deadline = Date.now() + 5000;
    while (this.handling > 0 && Date.now() < deadline) await sleep(50);
    await sleep(500);
    await consumer.disconnect().catch(() => undefined);
  }

  private crashed(consumer: Consumer, payload: { error: Error; restart: boolean }): void {
    if (payload.restart || this.stopped || consumer !== this.consumer) return;
    // A non-retriable crash (e.g. around a broker restart): read again from the beginning; records seen are not handed on twice.
    this.o.onCrash!(`  live consumer crashed (${payload.error.message}); starting a new one`);
    void consumer.disconnect().catch(() => undefined);
    void sleep(1000).then(() => (this.stopped ? undefined : this.start().catch((e: unknown) => this.o.onCrash!(`  live consumer restart failed: ${errorMessage(e)}`))));
  }
}
