import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { toError } from '../util/errors';

export interface IntakeSettings {
  groupId: string;
  topics: string[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  fetchMaxWaitMs: number;
  partitionsConcurrency: number;
  /** Waits before each rejoin after KafkaJS gave up on its consumer; one more crash in a row ends the intake. */
  rejoinBackoffMs?: readonly number[];
}

export interface IntakeEvents {
  /** A group generation began with this member's assignment. */
  onAssignment(assignment: Record<string, number[]>, memberId: string): void;
  /** KafkaJS gave up on its consumer and the intake is joining again with a new one. */
  onRejoin?(error: Error, attempt: number, delayMs: number): void;
  /** The intake stopped for good: a configuration error, or as many crashes in a row as it rejoins. */
  onCrash(error: Error): void;
  onBatch(payload: EachBatchPayload): Promise<void>;
}

// Coordinator moves and broker stalls exhaust KafkaJS's own retries within a minute or two; a
// rejoin after that usually finds the group again.
const REJOIN_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000];

interface ErrorLike {
  name?: string;
  type?: string;
  cause?: unknown;
}

/** Credentials and ACLs do not heal by rejoining: these end the intake at once. */
export function isConfigurationError(error: unknown): boolean {
  for (let e = error as ErrorLike | undefined, depth = 0; e && depth < 10; e = e.cause as ErrorLike | undefined, depth++) {
    if (e.name === 'KafkaJSSASLAuthenticationError') return true;
    if (e.type && /AUTHORIZATION_FAILED|SASL_AUTHENTICATION_FAILED|UNSUPPORTED_SASL_MECHANISM/.test(e.type)) return true;
  }
  return false;
}

/**
 * The KafkaJS consumer, behind the few things the pipeline does with it: join the group, hand
 * batches over, pause and resume topics, and position a partition. Offsets are never committed
 * here: they travel in each partition's transactions. When KafkaJS stops its consumer for good
 * (it does after a lost group coordinator), the intake joins again with a new one; the new member
 * id makes every partition reopen from its committed offset, so nothing is read twice unfenced.
 */
export class Intake {
  private consumer: Consumer | undefined;
  private joined = false;
  private everJoined = false;
  private lastPoll = Date.now();
  private stopped = false;
  private crashesInARow = 0;
  private rejoinTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: IntakeSettings,
    private readonly events: IntakeEvents,
  ) {}

  get hasJoined(): boolean {
    return this.joined;
  }

  get hasEverJoined(): boolean {
    return this.everJoined;
  }

  /** Last fetch or heartbeat (also while a batch blocks on a full window: it heartbeats). */
  get lastPollAt(): number {
    return this.lastPoll;
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: this.settings.fetchMaxWaitMs,
      // Read-ahead per partition and per fetch: a retry tier's partition is fetched and dropped at
      // its first record not yet due, so what a fetch brings must stay small (KafkaJS: 1 MiB / 10 MiB).
      maxBytesPerPartition: 256 * 1024,
      maxBytes: 4 * 1024 * 1024,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    const polled = () => {
      if (this.consumer === consumer) this.lastPoll = Date.now();
    };
    consumer.on(consumer.events.FETCH_START, polled);
    consumer.on(consumer.events.HEARTBEAT, polled);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.joined = true;
      this.everJoined = true;
      this.lastPoll = Date.now();
      this.crashesInARow = 0;
      this.events.onAssignment(payload.memberAssignment, payload.memberId);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.consumer === consumer && !payload.restart) this.crashed(payload.error);
    });
    await consumer.subscribe({ topics: this.settings.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConcurrency,
      eachBatch: (payload) => this.events.onBatch(payload),
    });
  }

  pausePartition(topic: string, partition: number): void {
    try {
      this.consumer?.pause([{ topic, partitions: [partition] }]);
    } catch {
      // not running (rejoining): the new consumer's assignment reopens the partition anyway
    }
  }

  /** Tolerates a consumer that stopped meanwhile. */
  resumePartition(topic: string, partition: number): void {
    try {
      this.consumer?.resume([{ topic, partitions: [partition] }]);
    } catch {
      // not running
    }
  }

  /** Tolerates a consumer that never joined (nothing to pause then). */
  pauseAll(): void {
    try {
      this.consumer?.pause(this.settings.topics.map((topic) => ({ topic })));
    } catch {
      // not running
    }
  }

  /** Only applies to partitions assigned right now; a batch fetched before it is stale. */
  seek(topic: string, partition: number, offset: number): void {
    this.consumer?.seek({ topic, partition, offset: String(offset) });
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rejoinTimer);
    await this.consumer?.disconnect();
  }

  /** KafkaJS has already disconnected this consumer and left the group. */
  private crashed(error: Error): void {
    this.joined = false;
    if (this.stopped) return;
    const backoff = this.settings.rejoinBackoffMs ?? REJOIN_BACKOFF_MS;
    this.crashesInARow++;
    if (isConfigurationError(error) || this.crashesInARow > backoff.length) {
      this.stopped = true;
      this.events.onCrash(error);
      return;
    }
    const delayMs = backoff[this.crashesInARow - 1];
    this.events.onRejoin?.(error, this.crashesInARow, delayMs);
    this.rejoinTimer = setTimeout(() => {
      if (this.stopped) return;
      this.start().catch(async (startError: unknown) => {
        await this.consumer?.disconnect().catch(() => undefined);
        this.crashed(toError(startError));
      });
    }, delayMs);
  }
}
