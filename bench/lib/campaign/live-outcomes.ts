/** A live read_committed consumer of the campaign's outcome topics: which keys have a terminal outcome so far. */
import type { Kafka } from 'kafkajs';
import { outcomeTopics, TOPIC_CONTRACT } from '../../../src/events/contract';
import type { EventCodec } from '../../../src/events/event-codec';
import type { BenchTopics } from '../kafka';
import { LiveReader, type LiveRecord } from '../live-reader';
import type { Log } from './types';

export class LiveOutcomes {
  readonly terminalKeys = new Set<string>();
  records = 0;
  private readonly reader: LiveReader;

  constructor(
    kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly topics: BenchTopics,
    log: Log,
  ) {
    // A short session: after the broker restart the group is reloaded and a stale member must expire quickly.
    this.reader = new LiveReader(kafka, outcomeTopics(topics), (r) => this.take(r), {
      groupPrefix: 'campaign-live',
      consumer: { maxWaitTimeInMs: 200, sessionTimeout: 6000, heartbeatInterval: 500 },
      waitForJoin: false,
      onCrash: log,
    });
  }

  start(): Promise<void> {
    return this.reader.start();
  }

  /**
   * Around a broker restart or freeze the consumer is closed and a new one started: a KafkaJS
   * consumer that lives through a broker restart keeps heartbeating through a coordinator Broker
   * object its client no longer tracks, so disconnect() leaves that socket open (and the process alive).
   */
  suspend(): Promise<void> {
    return this.reader.stop();
  }

  resume(): Promise<void> {
    return this.reader.resume();
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  private async take(r: LiveRecord): Promise<void> {
    this.records++;
    const key = r.key?.toString() ?? '';
    if (r.topic !== this.topics.unknown) this.terminalKeys.add(key);
    else if ((await this.codec.decode(TOPIC_CONTRACT.unknown.event, r.value)).final) this.terminalKeys.add(key);
  }
}
