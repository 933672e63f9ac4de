import { DueQueue } from '../../../src/retry/due-queue';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('DueQueue', () => {
  let fired: string[];
  let queue: DueQueue<string>;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_700_000_000_000 });
    fired = [];
    queue = new DueQueue<string>((item) => fired.push(item));
  });
  afterEach(() => {
    queue.close();
    jest.useRealTimers();
  });

  it('fires an item when it is due, not before', () => {
    queue.add(Date.now() + 5 * SECOND, 'a');
    expect(queue.size).toBe(1);
    jest.advanceTimersByTime(5 * SECOND - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
    expect(queue.size).toBe(0);
  });

  it('never holds a 1 s item behind a 10 min item added first', () => {
    queue.add(Date.now() + 10 * MINUTE, 'ten minutes');
    queue.add(Date.now() + SECOND, 'one second');
    jest.advanceTimersByTime(SECOND);
    expect(fired).toEqual(['one second']);
    jest.advanceTimersByTime(10 * MINUTE - SECOND);
    expect(fired).toEqual(['one second', 'ten minutes']);
  });

  it('fires in due order whatever the insertion order', () => {
    const now = Date.now();
    const dues = [7, 3, 9, 1, 8, 2, 6, 4, 10, 5, 0];
    for (const s of dues) queue.add(now + s * SECOND, `t${s}`);
    for (let s = 0; s <= 10; s++) {
      jest.advanceTimersByTime(s === 0 ? 0 : SECOND);
      expect(fired).toEqual(Array.from({ length: s + 1 }, (_, i) => `t${i}`));
    }
  });

  it('keeps insertion order among items due at the same time', () => {
    const dueAt = Date.now() + SECOND;
    for (const name of ['a', 'b', 'c', 'd', 'e']) queue.add(dueAt, name);
    jest.advanceTimersByTime(SECOND);
    expect(fired).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('fires at once an item already past due', () => {
    queue.add(Date.now() - MINUTE, 'late');
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(0);
    expect(fired).toEqual(['late']);
  });

  it('orders a large random set correctly', () => {
    const now = Date.now();
    const dues = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 997) * 10);
    dues.forEach((d, i) => queue.add(now + d, `${d}:${i}`));
    jest.advanceTimersByTime(10_000);
    const firedDues = fired.map((f) => Number(f.split(':')[0]));
    expect(firedDues).toHaveLength(500);
    expect(firedDues).toEqual([...firedDues].sort((a, b) => a - b));
  });

  it('uses one timer for the earliest item', () => {
    queue.add(Date.now() + MINUTE, 'a');
    queue.add(Date.now() + SECOND, 'b');
    queue.add(Date.now() + 2 * MINUTE, 'c');
    expect(jest.getTimerCount()).toBe(1);
  });

  it('remove drops matching items without firing them and keeps the rest in order', () => {
    const now = Date.now();
    queue.add(now + 3 * SECOND, 'p1-a');
    queue.add(now + SECOND, 'p2-a');
    queue.add(now + 2 * SECOND, 'p1-b');
    queue.add(now + 4 * SECOND, 'p2-b');
    expect(queue.remove((item) => item.startsWith('p1'))).toBe(2);
    expect(queue.size).toBe(2);
    jest.advanceTimersByTime(10 * SECOND);
    expect(fired).toEqual(['p2-a', 'p2-b']);
  });

  it('remove of the earliest item re-arms for the next one', () => {
    const now = Date.now();
    queue.add(now + SECOND, 'gone');
    queue.add(now + 5 * SECOND, 'kept');
    expect(queue.remove((item) => item === 'gone')).toBe(1);
    jest.advanceTimersByTime(5 * SECOND - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['kept']);
  });

  it('remove of everything leaves no timer', () => {
    queue.add(Date.now() + SECOND, 'a');
    expect(queue.remove(() => true)).toBe(1);
    expect(queue.remove(() => true)).toBe(0);
    expect(queue.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(MINUTE);
    expect(fired).toEqual([]);
  });

  it('close stops firing', () => {
    queue.add(Date.now() + SECOND, 'a');
    queue.close();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(MINUTE);
    expect(fired).toEqual([]);
  });

  it('waits past 2^31 ms instead of firing early', () => {
    const far = 2 ** 31 + 10 * SECOND;
    queue.add(Date.now() + far, 'far');
    jest.advanceTimersByTime(SECOND);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(2 ** 31 - 1 - SECOND);
    expect(fired).toEqual([]);
    expect(queue.size).toBe(1);
    jest.advanceTimersByTime(far - (2 ** 31 - 1) - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['far']);
  });

  it('an earlier item added while waiting on a far one still fires on time', () => {
    queue.add(Date.now() + 2 ** 32, 'far');
    queue.add(Date.now() + SECOND, 'near');
    jest.advanceTimersByTime(SECOND);
    expect(fired).toEqual(['near']);
  });

  it('an item added from onDue that is already due fires in the same pass', () => {
    const chained: string[] = [];
    const q = new DueQueue<string>((item) => {
      chained.push(item);
      if (item === 'first') q.add(Date.now(), 'second');
    });
    q.add(Date.now() + SECOND, 'first');
    jest.advanceTimersByTime(SECOND);
    expect(chained).toEqual(['first', 'second']);
    q.close();
  });

  it('uses the injected clock', () => {
    let clock = 0;
    const seen: string[] = [];
    const q = new DueQueue<string>((item) => seen.push(item), () => clock);
    q.add(100, 'a');
    clock = 50; // the timer fires (after 100 ms real-fake time) but the clock says not yet due
    jest.advanceTimersByTime(100);
    expect(seen).toEqual([]);
    clock = 100;
    jest.advanceTimersByTime(50);
    expect(seen).toEqual(['a']);
    q.close();
  });
});
