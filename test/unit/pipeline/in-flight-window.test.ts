import { InFlightWindow } from '../../../src/pipeline/in-flight-window';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('InFlightWindow', () => {
  afterEach(() => jest.useRealTimers());

  it('admits up to the limit at once', async () => {
    const window = new InFlightWindow(3);
    await window.acquire();
    await window.acquire();
    await expect(window.acquireWithin(10)).resolves.toBe(true);
    expect(window.inFlight).toBe(3);
    expect(window.waiting).toBe(0);
    expect(window.limit).toBe(3);
  });

  it('makes the next caller wait when full, until a slot is released', async () => {
    const window = new InFlightWindow(1);
    await window.acquire();
    let admitted = false;
    const next = window.acquire().then(() => {
      admitted = true;
    });
    await flush();
    expect(admitted).toBe(false);
    expect(window.waiting).toBe(1);
    window.release();
    await next;
    expect(admitted).toBe(true);
    // The slot passed straight to the waiter.
    expect(window.inFlight).toBe(1);
    expect(window.waiting).toBe(0);
  });

  it('serves waiters first come, first served', async () => {
    const window = new InFlightWindow(1);
    await window.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => window.acquire().then(() => order.push(n)));
    const timed = window.acquireWithin(60_000).then(() => order.push(4));
    expect(window.waiting).toBe(4);
    for (let i = 0; i < 4; i++) {
      window.release();
      await flush();
      expect(order).toHaveLength(i + 1);
    }
    await Promise.all([...waits, timed]);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('frees the slot when released with nobody waiting', async () => {
    const window = new InFlightWindow(2);
    await window.acquire();
    await window.acquire();
    window.release();
    expect(window.inFlight).toBe(1);
    window.release();
    expect(window.inFlight).toBe(0);
  });

  it('acquireWithin gives up after the timeout and leaves the queue', async () => {
    jest.useFakeTimers();
    const window = new InFlightWindow(1);
    await window.acquire();
    const result = window.acquireWithin(1000);
    expect(window.waiting).toBe(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(window.waiting).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(false);
    expect(window.waiting).toBe(0);
    // Releasing now frees the slot instead of handing it to the timed-out waiter.
    window.release();
    expect(window.inFlight).toBe(0);
  });

  it('a timed-out waiter does not take the slot meant for the one behind it', async () => {
    jest.useFakeTimers();
    const window = new InFlightWindow(1);
    await window.acquire();
    const timedOut = window.acquireWithin(100);
    let laterAdmitted = false;
    const later = window.acquire().then(() => {
      laterAdmitted = true;
    });
    await jest.advanceTimersByTimeAsync(100);
    await expect(timedOut).resolves.toBe(false);
    expect(window.waiting).toBe(1);
    window.release();
    await later;
    expect(laterAdmitted).toBe(true);
    expect(window.inFlight).toBe(1);
  });

  it('acquireWithin resolves true when a slot frees before the timeout, and its timer does not fire later', async () => {
    jest.useFakeTimers();
    const window = new InFlightWindow(1);
    await window.acquire();
    const result = window.acquireWithin(1000);
    window.release();
    await expect(result).resolves.toBe(true);
    expect(window.inFlight).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
