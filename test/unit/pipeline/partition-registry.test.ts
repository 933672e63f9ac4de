import { createLogger } from '../../../src/observability/logger';
import type { OwnerState, PartitionOwner } from '../../../src/pipeline/partition-owner';
import { PartitionProgress } from '../../../src/pipeline/partition-progress';
import { PartitionRegistry } from '../../../src/pipeline/partition-registry';

/** Stands in for an owner: opens when told to, and records how it ended. */
class FakeOwner {
  state: OwnerState = 'opening';
  readonly progress: PartitionProgress;
  readonly opened: Promise<void>;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  constructor(
    readonly topic: string,
    readonly partition: number,
    startOffset: number,
  ) {
    this.progress = new PartitionProgress(startOffset);
    this.opened = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }
  get active(): boolean {
    return this.state === 'active';
  }
  open(): void {
    this.state = 'active';
    this.settle.resolve();
  }
  fail(): void {
    this.settle.reject(new Error('broker unreachable'));
  }
  async end(state: OwnerState): Promise<void> {
    if (this.state === 'opening' || this.state === 'active') this.state = state;
  }
}

function setup(fencedReopenMs = 1000, seekFails = () => false) {
  const created: FakeOwner[] = [];
  const seeks: string[] = [];
  const registry = new PartitionRegistry({
    create: (topic, partition) => {
      const owner = new FakeOwner(topic, partition, 100 + created.length);
      created.push(owner);
      return owner as unknown as PartitionOwner;
    },
    seek: (topic, partition, offset) => {
      if (seekFails()) throw new Error('Consumer group was not initialized, consumer#run must be called first');
      seeks.push(`${topic}/${partition}@${offset}`);
    },
    logger: createLogger('silent'),
    fencedReopenMs,
  });
  return { registry, created, seeks };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('PartitionRegistry', () => {
  afterEach(() => jest.useRealTimers());

  it('opens an owner per assigned partition and positions the consumer at its committed offset once open', async () => {
    const { registry, created, seeks } = setup();
    registry.assign({ req: [0, 1] }, 'm1');
    expect(created.map((o) => `${o.topic}/${o.partition}`)).toEqual(['req/0', 'req/1']);
    const pending = registry.owner('req', 0);
    created[0].open();
    expect(await pending).toBe(created[0]);
    expect(seeks).toEqual(['req/0@100']);
    expect(await registry.owner('req', 7)).toBeUndefined();
  });

  it('keeps owners of partitions retained under the same member id and ends the ones taken away', async () => {
    const { registry, created } = setup();
    registry.assign({ req: [0, 1] }, 'm1');
    created.forEach((o) => o.open());
    await flush();
    registry.assign({ req: [1, 2] }, 'm1');
    expect(created[0].state).toBe('revoked');
    expect(created[1].state).toBe('active');
    expect(created.map((o) => o.partition)).toEqual([0, 1, 2]);
  });

  it('opens every partition afresh after the member id changed (the instance was out of the group)', async () => {
    const { registry, created } = setup();
    registry.assign({ req: [0] }, 'm1');
    created[0].open();
    await flush();
    registry.assign({ req: [0] }, 'm2');
    expect(created[0].state).toBe('revoked');
    expect(created).toHaveLength(2);
    created[1].open();
    expect(await registry.owner('req', 0)).toBe(created[1]);
  });

  it('reopens a fenced partition that is still assigned only after the fenced delay, and a failed one sooner', async () => {
    jest.useFakeTimers();
    const { registry, created } = setup(10_000);
    registry.assign({ req: [0, 1] }, 'm1');
    created.forEach((o) => o.open());
    await Promise.resolve();
    created[0].state = 'fenced';
    registry.ended(created[0] as unknown as PartitionOwner);
    created[1].state = 'failed';
    registry.ended(created[1] as unknown as PartitionOwner);
    jest.advanceTimersByTime(500);
    expect(created.map((o) => o.partition)).toEqual([0, 1, 1]);
    jest.advanceTimersByTime(9_600);
    expect(created.map((o) => o.partition)).toEqual([0, 1, 1, 0]);
  });

  it('does not reopen an ended partition that a new assignment took away', async () => {
    jest.useFakeTimers();
    const { registry, created } = setup(1000);
    registry.assign({ req: [0] }, 'm1');
    created[0].open();
    await Promise.resolve();
    created[0].state = 'fenced';
    registry.ended(created[0] as unknown as PartitionOwner);
    registry.assign({ req: [] }, 'm1');
    jest.advanceTimersByTime(5000);
    expect(created).toHaveLength(1);
  });

  it('ends an owner the consumer could not be positioned for (KafkaJS restarting it) and opens the partition again', async () => {
    jest.useFakeTimers();
    let consumerDown = true;
    const { registry, created, seeks } = setup(1000, () => consumerDown);
    registry.assign({ req: [0] }, 'm1');
    created[0].open();
    await jest.advanceTimersByTimeAsync(0);
    expect(created[0].state).toBe('revoked');
    expect(await registry.owner('req', 0)).toBeUndefined();
    consumerDown = false;
    await jest.advanceTimersByTimeAsync(300);
    expect(created).toHaveLength(2);
    created[1].open();
    await jest.advanceTimersByTimeAsync(0);
    expect(seeks).toEqual(['req/0@101']);
    expect(await registry.owner('req', 0)).toBe(created[1]);
  });

  it('retries opening a partition whose owner could not open', async () => {
    jest.useFakeTimers();
    const { registry, created } = setup();
    registry.assign({ req: [3] }, 'm1');
    created[0].fail();
    await Promise.resolve();
    await Promise.resolve();
    expect(await registry.owner('req', 3)).toBeUndefined();
    jest.advanceTimersByTime(250);
    expect(created).toHaveLength(2);
  });
});
