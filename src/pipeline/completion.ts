import type { KafkaMessage, Message } from 'kafkajs';

/** A record this pipeline writes: an outcome, a retry or a DLQ copy. */
export interface OutputRecord {
  topic: string;
  message: Message;
}

/** What a completion handle needs from the partition that dispatched it. */
export interface CompletionSink {
  readonly topic: string;
  readonly partition: number;
  /** False once the partition was revoked, fenced or failed: its records publish nothing. */
  readonly active: boolean;
  /** Resolves true once the records and the offset are committed, false when they were dropped. */
  publish(offset: number, records: OutputRecord[]): Promise<boolean>;
}

/**
 * One consumed record's way from dispatch to its committed outcome. It holds the record's
 * in-flight slot (when it has one) and frees it exactly once, whether the record completes, is
 * dropped with its partition, or is abandoned at shutdown.
 */
export class CompletionHandle {
  private release: (() => void) | undefined;
  private settled = false;

  constructor(
    readonly sink: CompletionSink,
    readonly message: KafkaMessage,
  ) {}

  get offset(): number {
    return Number(this.message.offset);
  }

  /** Whether working on the record can still lead anywhere: a dropped partition's work is wasted. */
  get live(): boolean {
    return !this.settled && this.sink.active;
  }

  /** Takes ownership of an in-flight slot (a held retry gets one only when it is due). */
  holdSlot(release: () => void): void {
    if (this.release) throw new Error('completion handle already holds a slot');
    this.release = release;
  }

  /** Publishes the record's output with its offset; true once committed. */
  async complete(records: OutputRecord[]): Promise<boolean> {
    if (this.settled) throw new Error(`record ${this.sink.topic}/${this.sink.partition}@${this.offset} completed twice`);
    try {
      return await this.sink.publish(this.offset, records);
    } finally {
      this.settle();
    }
  }

  /** Gives the record up without publishing: whoever owns the partition next consumes it again. */
  abandon(): void {
    this.settle();
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
