import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { Intake, isConfigurationError } from '../../../src/pipeline/intake';
import { sleep } from '../../../src/util/sleep';

/** Stands in for a KafkaJS consumer: it only emits the two events the intake listens to. */
class FakeConsumer extends EventEmitter {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash', FETCH_START: 'consumer.fetch_start', HEARTBEAT: 'consumer.heartbeat' };
  connected = false;
  disconnected = false;
  async connect() {
    this.connected = true;
  }
  async subscribe() {}
  async run() {}
  async disconnect() {
    this.disconnected = true;
  }
  join(memberId: string) {
    this.emit(this.events.GROUP_JOIN, { payload: { memberAssignment: { t: [0] }, memberId } });
  }
  crash(error: Error, restart = false) {
    this.emit(this.events.CRASH, { payload: { error, restart } });
  }
}

function setup(backoff = [5, 5]) {
  const consumers: FakeConsumer[] = [];
  const kafka = { consumer: () => consumers[consumers.push(new FakeConsumer()) - 1] } as unknown as Kafka;
  const seen = { assignments: [] as string[], rejoins: [] as number[], crashes: [] as Error[] };
  const intake = new Intake(
    kafka,
    { groupId: 'g', topics: ['t'], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, partitionsConcurrency: 1, fetchMaxWaitMs: 50, rejoinBackoffMs: backoff },
    {
      onAssignment: (_a, memberId) => void seen.assignments.push(memberId),
      onRejoin: (_e, attempt) => void seen.rejoins.push(attempt),
      onCrash: (error) => void seen.crashes.push(error),
      onBatch: async () => undefined,
    },
  );
  return { intake, consumers, seen };
}

const coordinatorLost = () => Object.assign(new Error('Failed to find group coordinator'), { name: 'KafkaJSGroupCoordinatorNotFound' });

describe('Intake', () => {
  it('joins again with a new consumer after KafkaJS gave up on the first, and is not ready meanwhile', async () => {
    const { intake, consumers, seen } = setup();
    await intake.start();
    consumers[0].join('m1');
    expect(intake.hasJoined).toBe(true);
    consumers[0].crash(coordinatorLost());
    expect(intake.hasJoined).toBe(false);
    expect(seen.rejoins).toEqual([1]);
    await sleep(30);
    expect(consumers).toHaveLength(2);
    expect(consumers[1].connected).toBe(true);
    consumers[1].join('m2');
    expect(seen.assignments).toEqual(['m1', 'm2']);
    expect(seen.crashes).toEqual([]);
  });

  it('leaves a crash KafkaJS restarts by itself to KafkaJS', async () => {
    const { intake, consumers, seen } = setup();
    await intake.start();
    consumers[0].crash(new Error('retriable'), true);
    await sleep(30);
    expect(consumers).toHaveLength(1);
    expect(seen.rejoins).toEqual([]);
  });

  it('gives up after as many crashes in a row as it has waits, and a join resets the count', async () => {
    const { intake, consumers, seen } = setup([5, 5]);
    await intake.start();
    consumers[0].crash(coordinatorLost());
    await sleep(30);
    consumers[1].join('m2');
    consumers[1].crash(coordinatorLost());
    await sleep(30);
    consumers[2].crash(coordinatorLost());
    await sleep(30);
    expect(seen.rejoins).toEqual([1, 1, 2]);
    expect(seen.crashes).toEqual([]);
    consumers[3].crash(coordinatorLost());
    await sleep(30);
    expect(seen.crashes).toHaveLength(1);
    expect(consumers).toHaveLength(4);
  });

  it('ends at once on a credential or ACL error', async () => {
    const { intake, consumers, seen } = setup();
    await intake.start();
    const denied = Object.assign(new Error('Not authorized to access group'), { name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' });
    consumers[0].crash(Object.assign(new Error('wrapped'), { name: 'KafkaJSNonRetriableError', cause: denied }));
    await sleep(30);
    expect(seen.crashes).toHaveLength(1);
    expect(seen.rejoins).toEqual([]);
    expect(consumers).toHaveLength(1);
  });

  it('does not rejoin once disconnected', async () => {
    const { intake, consumers, seen } = setup();
    await intake.start();
    await intake.disconnect();
    consumers[0].crash(coordinatorLost());
    await sleep(30);
    expect(consumers).toHaveLength(1);
    expect(seen.crashes).toEqual([]);
  });
});

describe('isConfigurationError', () => {
  it.each([
    [{ name: 'KafkaJSSASLAuthenticationError' }, true],
    [{ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED' }, true],
    [{ name: 'KafkaJSNumberOfRetriesExceeded', cause: { name: 'KafkaJSProtocolError', type: 'SASL_AUTHENTICATION_FAILED' } }, true],
    [{ name: 'KafkaJSGroupCoordinatorNotFound' }, false],
    [{ name: 'KafkaJSProtocolError', type: 'NOT_COORDINATOR' }, false],
    [{ name: 'KafkaJSConnectionError' }, false],
  ])('%j → %s', (error, expected) => {
    expect(isConfigurationError(error)).toBe(expected);
  });
});
