import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { WorkerConfig } from '../config/config';
import { routeRetry, type RetryRoute } from '../retry/retry-route';
import type { RetryTier } from '../retry/tiers';
import { sleep } from '../util/sleep';
import type { InFlightWindow } from './in-flight-window';
import type { PartitionOwner } from './partition-owner';

const ROOM_POLL_MS = 20;
const SHORT_WAIT_MS = 200;

export interface AdmissionContext {
  window: InFlightWindow;
  /** A batch waiting for room heartbeats this often, to keep its group membership. */
  heartbeatMs: number;
  retry: WorkerConfig['retry'];
  /** Retry topics and their tier (null: the single retry topic of earlier releases). */
  retrySources: ReadonlyMap<string, RetryTier | null>;
  /** False once the worker stops: admission ends where it is. */
  running(): boolean;
  /**
   * A record holds a window slot: the caller dispatches it to its owner and sets it off (`route`
   * undefined: a request); false when the owner took no more records (the slot is released).
   */
  admitted(owner: PartitionOwner, message: KafkaMessage, route: RetryRoute | undefined): boolean;
}

/**
 * Admits one fetched batch of a partition, in offset order: each record waits for room in its
 * partition's offset map, for its retry tier's due time, and for a slot in the in-flight window,
 * heartbeating while it waits. Returns at the first record that cannot be admitted now (stopping,
 * a revoked or ended owner, a retry not yet due): the rest is fetched again.
 */
export async function admitBatch(context: AdmissionContext, owner: PartitionOwner, payload: EachBatchPayload): Promise<void> {
  const { batch } = payload;
  const { window, heartbeatMs, retry } = context;
  // undefined: the request topic; null: the single retry topic of earlier releases; else a tier.
  const source = context.retrySources.get(batch.topic);
  const halted = () => !payload.isRunning() || payload.isStale() || !context.running() || !owner.active;
  let lastHeartbeat = Date.now();
  const beat = async () => {
    await payload.heartbeat();
    lastHeartbeat = Date.now();
  };
  for (const message of batch.messages) {
    if (halted()) return;
    const offset = Number(message.offset);
    if (!owner.progress.isNew(offset)) {
      payload.resolveOffset(message.offset);
      continue;
    }
    while (!owner.progress.hasRoomFor(offset)) {
      await sleep(ROOM_POLL_MS);
      if (Date.now() - lastHeartbeat > heartbeatMs) await beat();
      if (halted()) return;
    }
    let route = source === undefined ? undefined : routeRetry(message, source ?? undefined, retry, retry.tiers, Date.now());
    while (route?.kind === 'wait') {
      const wait = route.dueAt - Date.now();
      // A long wait pauses the partition (refetched when due); a short one is not worth a refetch.
      if (wait > SHORT_WAIT_MS) {
        owner.waitUntil(route.dueAt);
        return;
      }
      await sleep(Math.max(0, wait));
      if (halted()) return;
      route = routeRetry(message, source ?? undefined, retry, retry.tiers, Date.now());
    }
    while (!(await window.acquireWithin(heartbeatMs))) {
      await beat();
      if (halted()) return;
    }
    if (!context.admitted(owner, message, route)) return;
    payload.resolveOffset(message.offset);
    if (Date.now() - lastHeartbeat > heartbeatMs) await beat();
  }
}
