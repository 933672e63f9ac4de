import { KeyLanes } from '../../../src/pipeline/key-lanes';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyLanes', () => {
  it('returns the task result', async () => {
    const lanes = new KeyLanes();
    await expect(lanes.run('a', async () => 42)).resolves.toBe(42);
  });

  it('runs tasks of one key one at a time, in submit order', async () => {
    const lanes = new KeyLanes();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      lanes.run('k', async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await flush();
    expect(log).toEqual(['start 0']);
    // Finishing later tasks' gates first must not let them start early.
    gates[2].resolve();
    gates[1].resolve();
    await flush();
    expect(log).toEqual(['start 0']);
    gates[0].resolve();
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('keeps going in order after a task fails, and reports each failure to its own caller', async () => {
    const lanes = new KeyLanes();
    const log: string[] = [];
    const first = deferred();
    const a = lanes.run('k', async () => {
      log.push('a');
      await first.promise;
      throw new Error('a failed');
    });
    const b = lanes.run('k', async () => {
      log.push('b');
      throw new Error('b failed');
    });
    const c = lanes.run('k', async () => {
      log.push('c');
      return 'c ok';
    });
    await flush();
    expect(log).toEqual(['a']);
    first.resolve();
    await expect(a).rejects.toThrow('a failed');
    await expect(b).rejects.toThrow('b failed');
    await expect(c).resolves.toBe('c ok');
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('runs different keys concurrently', async () => {
    const lanes = new KeyLanes();
    const started: string[] = [];
    const gate = deferred();
    const runs = ['a', 'b', 'c'].map((key) =>
      lanes.run(key, async () => {
        started.push(key);
        await gate.promise;
      }),
    );
    await flush();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(lanes.activeKeys).toBe(3);
    gate.resolve();
    await Promise.all(runs);
  });

  it('does not hold one key behind a slow task of another key', async () => {
    const lanes = new KeyLanes();
    const slow = deferred();
    const slowRun = lanes.run('slow', () => slow.promise);
    await expect(lanes.run('fast', async () => 'done')).resolves.toBe('done');
    slow.resolve();
    await slowRun;
  });

  it('removes a lane once its last task settled, whether it succeeded or failed', async () => {
    const lanes = new KeyLanes();
    const gate = deferred();
    const one = lanes.run('a', () => gate.promise);
    const two = lanes.run('a', async () => {
      throw new Error('boom');
    });
    const other = lanes.run('b', async () => 'b');
    expect(lanes.activeKeys).toBe(2);
    await other;
    await flush();
    expect(lanes.activeKeys).toBe(1);
    gate.resolve();
    await one;
    await expect(two).rejects.toThrow('boom');
    await flush();
    expect(lanes.activeKeys).toBe(0);
  });

  it('keeps the lane while a task submitted later is still pending', async () => {
    const lanes = new KeyLanes();
    const first = deferred();
    const second = deferred();
    const a = lanes.run('k', () => first.promise);
    const b = lanes.run('k', () => second.promise);
    first.resolve();
    await a;
    await flush();
    expect(lanes.activeKeys).toBe(1);
    // A new task still queues behind the pending one.
    const log: string[] = [];
    const c = lanes.run('k', async () => {
      log.push('c');
    });
    await flush();
    expect(log).toEqual([]);
    second.resolve();
    await b;
    await c;
    expect(log).toEqual(['c']);
    await flush();
    expect(lanes.activeKeys).toBe(0);
  });
});
