import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';

export interface IntakeSettings {
  groupId: string;
  topics: string[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  partitionsConsumedConcurrently: number;
}

export interface IntakeEvents {
  /** A group generation began with this member's assignment. */
  onAssignment(assignment: Record<string, number[]>, memberId: string): void;
  /** The consumer stopped for good (KafkaJS will not restart it). */
  onCrash(error: Error): void;
  onBatch(payload: EachBatchPayload): Promise<void>;
}

/**
 * The KafkaJS consumer, behind the few things the pipeline does with it: join the group, hand
 * batches over, pause and resume topics, and position a partition. Offsets are never committed
 * here: they travel in each partition's transactions.
 */
export class Intake {
  private readonly consumer: Consumer;
  private joined = false;

  constructor(
    kafka: Kafka,
    private readonly settings: IntakeSettings,
    private readonly events: IntakeEvents,
  ) {
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 50,
      // Read-ahead per partition and per fetch: a retry tier's partition is fetched and dropped at
      // its first record not yet due, so what a fetch brings must stay small (KafkaJS: 1 MiB / 10 MiB).
      maxBytesPerPartition: 256 * 1024,
      maxBytes: 4 * 1024 * 1024,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
  }

  get hasJoined(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    const { consumer } = this;
    await consumer.connect();
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.events.onAssignment(payload.memberAssignment, payload.memberId);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.events.onCrash(payload.error);
    });
    await consumer.subscribe({ topics: this.settings.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.events.onBatch(payload),
    });
  }

  pausePartition(topic: string, partition: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
  }

  /** Tolerates a consumer that stopped meanwhile. */
  resumePartition(topic: string, partition: number): void {
    try {
      this.consumer.resume([{ topic, partitions: [partition] }]);
    } catch {
      // not running
    }
  }

  /** Tolerates a consumer that never joined (nothing to pause then). */
  pauseAll(): void {
    try {
      this.consumer.pause(this.settings.topics.map((topic) => ({ topic })));
    } catch {
      // not running
    }
  }

  /** Only applies to partitions assigned right now; a batch fetched before it is stale. */
  seek(topic: string, partition: number, offset: number): void {
    this.consumer.seek({ topic, partition, offset: String(offset) });
  }

  disconnect(): Promise<void> {
    return this.consumer.disconnect();
  }
}
