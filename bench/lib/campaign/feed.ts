/** The campaign's requests: published at a steady rate, a share of them scripted unknowns, paused while the broker is away. */
import type { Message } from 'kafkajs';
import type { EventCodec } from '../../../src/events/event-codec';
import type { CaptureRequested } from '../../../src/events/types.generated';
import { sleep } from '../../../src/util/sleep';
import type { RequestProducer } from '../kafka';
import type { CampaignOptions, Log } from './types';

export class RequestFeed {
  /** Every key sent, in order. */
  readonly keys: string[] = [];
  produced = 0;
  private gate: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: RequestProducer,
    private readonly codec: EventCodec,
    private readonly runId: string,
    private readonly o: CampaignOptions,
    private readonly random: () => number,
    private readonly log: Log,
    private readonly ts: () => string,
  ) {}

  /** Holds production until the returned function is called. */
  pause(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return release;
  }

  /** Sends every request, `rate` a second (0: all at once). */
  async run(): Promise<void> {
    const start = Date.now();
    while (this.produced < this.o.events) {
      await this.gate;
      const due = this.o.rate > 0 ? Math.min(this.o.events, Math.floor(((Date.now() - start) / 1000) * this.o.rate)) : this.o.events;
      if (due > this.produced) {
        await this.send(this.requests(this.produced, due));
        this.produced = due;
      }
      await sleep(100);
    }
  }

  private requests(from: number, to: number): Message[] {
    const messages: Message[] = [];
    const now = Date.now();
    for (let i = from; i < to; i++) {
      const key = `fc-${this.runId}-${i}`;
      const unknown = this.random() < this.o.unknownShare;
      const paymentId = unknown ? `unknown-${1 + Math.floor(this.random() * 3)}-p-${this.runId}-${i}` : `p-${this.runId}-${i}`;
      const value: CaptureRequested = { paymentId, captureAmount: { currency: 'USD', value: '100' }, requestedAt: now, metadata: { campaign: this.runId } };
      messages.push({ key, value: this.codec.encode('CaptureRequested', value) });
      this.keys.push(key);
    }
    return messages;
  }

  private async send(messages: Message[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.producer.sendRaw(messages);
        return;
      } catch (error) {
        // A resend after an ambiguous failure could put a request in the log twice: the final read checks the input.
        if (attempt >= 60) throw error;
        this.log(`  ${this.ts()} producing failed (${(error as Error).message}); retrying`);
        await sleep(1000);
      }
    }
  }
}
