/**
 * KafkaJS 2.2's read_committed filter assumes the broker lists a fetch's aborted transactions by
 * first offset, and enters at most one of them per record. The broker lists them by where they
 * ended, so when two producers' transactions interleave in one partition (every input partition
 * has a producer of its own here, all writing the same outcome and retry partitions) a record of
 * an aborted transaction can be delivered as if committed: an aborted retry would run again beside
 * the one committed after it. This module replaces that filter with one that follows the Java
 * consumer: every aborted transaction whose first offset a record has reached is entered, and a
 * producer's abort marker ends it. ./install-aborted-filter puts it in KafkaJS's place.
 */
// KafkaJS internals rather than its public types: producer ids are decoded as decimal strings in 2.2; String()
// keeps the set lookups comparing values should a decoder hand over another representation.
interface FilteredMessage {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: unknown; inTransaction: boolean; isControlBatch?: boolean };
}

interface AbortedTransaction {
  producerId: unknown;
  firstOffset: string;
}

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

export function filterAbortedMessages<M extends FilteredMessage>({ messages, abortedTransactions }: { messages: M[]; abortedTransactions?: AbortedTransaction[] }): M[] {
  if (!abortedTransactions?.length) return messages;
  const pending = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : 1));
  const aborting = new Set<string>();
  return messages.filter((message) => {
    const offset = BigInt(message.offset);
    while (pending.length > 0 && offset >= BigInt(pending[0].firstOffset)) aborting.add(String(pending.shift()!.producerId));
    const { producerId, inTransaction } = message.batchContext;
    if (message.key && Buffer.from(message.key).equals(ABORT_MARKER_KEY)) {
      aborting.delete(String(producerId));
      return true;
    }
    return !(inTransaction && aborting.has(String(producerId)));
  });
}
