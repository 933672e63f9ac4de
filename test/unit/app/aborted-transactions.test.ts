import { filterAbortedMessages } from '../../../src/app/aborted-transactions';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const record = (offset: number, producerId: string, key: Buffer | null = Buffer.from('k'), inTransaction = true) => ({ offset: String(offset), key, batchContext: { producerId, inTransaction } });
const kept = (messages: ReturnType<typeof record>[], aborted: Array<{ producerId: string; firstOffset: string }>) =>
  filterAbortedMessages({ messages, abortedTransactions: aborted })
    .filter((m) => !m.key?.equals(ABORT) && !m.key?.equals(COMMIT))
    .map((m) => Number(m.offset));

describe("read_committed filter for interleaved producers' transactions", () => {
  // P1 opens at 0, P2 writes 1 and aborts (marker 2), P1 writes 3 and aborts (marker 4), P2 commits 5 (marker 6).
  const log = [record(0, 'p1'), record(1, 'p2'), record(2, 'p2', ABORT), record(3, 'p1'), record(4, 'p1', ABORT), record(5, 'p2'), record(6, 'p2', COMMIT)];

  it('drops every record of an aborted transaction although the broker lists them by where they ended', () => {
    // The broker's order: P2's transaction ended first.
    expect(
      kept(log, [
        { producerId: 'p2', firstOffset: '1' },
        { producerId: 'p1', firstOffset: '0' },
      ]),
    ).toEqual([5]);
  });

  it('enters every aborted transaction that began before a fetch that starts in their middle', () => {
    // P1 opened at 0 and P2 at 1, both before the fetch at 2; both abort later; P3 commits 6.
    const fetched = [record(2, 'p1'), record(3, 'p2'), record(4, 'p2', ABORT), record(5, 'p1', ABORT), record(6, 'p3'), record(7, 'p3', COMMIT)];
    expect(
      kept(fetched, [
        { producerId: 'p2', firstOffset: '1' },
        { producerId: 'p1', firstOffset: '0' },
      ]),
    ).toEqual([6]);
  });

  it('keeps committed records and records outside transactions', () => {
    expect(kept([record(0, 'p3', Buffer.from('x'), false), record(1, 'p2'), record(2, 'p2', COMMIT)], [])).toEqual([0, 1]);
    expect(kept([record(7, 'p1'), record(8, 'p9', Buffer.from('x'), false)], [{ producerId: 'p1', firstOffset: '7' }])).toEqual([8]);
  });
});
