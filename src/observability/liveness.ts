/** What liveness is judged on; times are epoch ms. */
export interface LivenessSnapshot {
  /** The consumer joined its group at least once (before that the process is starting). */
  started: boolean;
  /** The consumer is a member right now (not between a crash and its rejoin). */
  joined: boolean;
  /** Last fetch or heartbeat of the consumer. */
  lastPollAt: number;
  inFlight: number;
  /** Last time a record settled, or the in-flight window went from empty to busy. */
  lastProgressAt: number;
  /** Calls may go out: an open or halted circuit holds records by design, not by a fault of this process. */
  circuitClosed: boolean;
}

export interface LivenessBounds {
  pollMs: number;
  progressMs: number;
}

export type LivenessVerdict = { alive: true } | { alive: false; reason: string };

/**
 * Alive unless a restart would help: a consumer that stopped polling (no fetch and no heartbeat
 * for `pollMs`), or records that made no progress for `progressMs` while the API was callable.
 */
export function judgeLiveness(now: number, s: LivenessSnapshot, bounds: LivenessBounds): LivenessVerdict {
  if (!s.started) return { alive: false, reason: 'starting: the consumer has not joined its group yet' };
  if (s.joined && now - s.lastPollAt > bounds.pollMs) return { alive: false, reason: `the consumer has not fetched or heartbeated for ${Math.round((now - s.lastPollAt) / 1000)} s` };
  if (s.inFlight > 0 && s.circuitClosed && now - s.lastProgressAt > bounds.progressMs) {
    return { alive: false, reason: `${s.inFlight} records in flight and none settled for ${Math.round((now - s.lastProgressAt) / 1000)} s` };
  }
  return { alive: true };
}
