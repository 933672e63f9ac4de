/**
 * An instance frozen (SIGSTOP) for longer than its session timeout while it has captures in flight,
 * so that the group gives its partitions to the other instance, which redoes and commits that work.
 * When it is continued, the frozen instance's calls complete: those results must not be published
 * too. Checked on every outcome topic read to its high watermarks after both instances stopped.
 */
import { CountingProxy } from '../../support/counting-proxy';
import { describeGroup } from '../../support/kafka';
import { sleep } from '../../../src/util/sleep';
import { waitFor } from '../../support/wait';
import { exactlyOnce, OutcomeWatcher, repeatedAttempts, request, terminal, WorkerHarness } from '../../support/worker-harness';
import { WorkerProcess } from '../../support/worker-process';

const KEYS = 400;
const PARTITIONS = 6;
/** The worker's default session timeout is 10 s; the freeze has to outlast it. */
const FREEZE_MS = 15_000;
/** Attempts at freezing the instance with work outstanding; the freeze is a race with the sandbox. */
const ATTEMPTS = 3;
/** What one attempt takes when nothing goes wrong: another is only started with that much time left. */
const ATTEMPT_MS = 45_000;
/** Two scripted unknowns: each of these keys runs a retry chain of three attempts (scenarios.ts). */
const isChained = (i: number) => i % 5 === 0;

interface Freeze {
  /** The frozen instance's calls at the sandbox when it was confirmed stopped. */
  inFlight: number;
  /** Of those, answered to it while it was stopped: results it holds, not committed. */
  answeredWhileStopped: number;
  /** Requests the vendor had not settled yet, so without a terminal outcome. */
  unsettled: number;
  /** Members of the group just before the frozen instance was continued (its session expired: 1). */
  membersBeforeResume: number;
}

describe('worker processes: one frozen past its session timeout', () => {
  it('publishes nothing twice when the frozen instance is continued after the other took over', async () => {
    const misses: string[] = [];
    // Every wait ends before the test's timeout, so a failure is reported and cleaned up, not cut off.
    const deadline = Date.now() + 155_000;
    for (let attempt = 1; attempt <= ATTEMPTS && deadline - Date.now() > ATTEMPT_MS; attempt++) {
      const shown = await runAttempt(attempt, misses, (ms) => Math.max(1_000, Math.min(ms, deadline - Date.now())));
      if (shown) return;
    }
    throw new Error(`the freeze never landed with work outstanding in ${misses.length} attempt(s): ${misses.join('; ')}`);
  }, 170_000);
});

/** False when the freeze did not land with work outstanding (nothing else is checked then). */
async function runAttempt(attempt: number, misses: string[], left: (ms: number) => number): Promise<boolean> {
  const h = new WorkerHarness(`stall${attempt}`, PARTITIONS);
  // Slow answers: the instance to be frozen always has calls pending at the vendor.
  await h.setup({ latencyMs: 300, jitterMs: 500 }, { API_TIMEOUT_MS: '5000', LOG_LEVEL: 'info' }).catch(async (error: unknown) => {
    await h.teardown();
    throw error;
  });
  const toFrozen = await CountingProxy.start(h.sandbox.url);
  const toOther = await CountingProxy.start(h.sandbox.url);
  // No TRANSACTIONAL_ID: both share the group's default prefix, as replicas of one deployment do.
  const frozen = new WorkerProcess({ ...h.env, ANTOM_BASE_URL: toFrozen.url, MAX_IN_FLIGHT: '20' });
  // Wider, so that it finishes its own share early and then takes over the frozen one's quickly.
  const other = new WorkerProcess({ ...h.env, ANTOM_BASE_URL: toOther.url, MAX_IN_FLIGHT: '100' });
  let watcher: OutcomeWatcher | undefined;
  const started = Date.now();
  const log = (line: string) => console.log(`[stall attempt ${attempt}, ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`);
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `stall-${attempt}-${i}`);
    watcher = await h.watchOutcomes();
    frozen.start();
    other.start();
    // Both members before any request, so both have a share of the partitions.
    await waitFor(
      async () => {
        const group = await describeGroup(h.kafka, h.topics.group);
        return group.state === 'Stable' && group.members === 2;
      },
      left(60_000),
      () => `(both instances in the group; output:\n${frozen.output}\n${other.output})`,
      200,
    );
    await h.produce(keys.map((key, i) => ({ key, value: request(isChained(i) ? `unknown-2-${key}` : `pay-${key}`) })));

    // Freeze once it is well into its share and has calls pending. The proxy runs in this process,
    // so its count cannot change between this check and the signal.
    await waitFor(
      () => {
        if (!frozen.running) throw new Error(`the instance to freeze ended before the freeze:\n${frozen.output.slice(-4000)}`);
        return toFrozen.answeredAt.length >= 40 && toFrozen.inFlight > 0;
      },
      left(60_000),
      () => `(answered ${toFrozen.answeredAt.length}, in flight ${toFrozen.inFlight})`,
    );
    frozen.signal('SIGSTOP');
    await waitFor(
      () => frozen.state() === 'T',
      5_000,
      () => `(state ${frozen.state()})`,
      5,
    );
    const stoppedAt = Date.now();
    const freeze: Freeze = {
      inFlight: toFrozen.inFlight,
      answeredWhileStopped: 0,
      unsettled: keys.filter((k) => h.sandbox.requestStats(k).finalStatus === null).length,
      membersBeforeResume: 0,
    };
    log(`frozen pid ${frozen.pid} with ${freeze.inFlight} calls in flight, ${freeze.unsettled} of ${KEYS} requests unsettled at the vendor`);

    // The other instance takes over once the session has expired, and finishes every request.
    await sleep(FREEZE_MS);
    await watcher.allTerminal(keys, left(60_000));
    const group = await describeGroup(h.kafka, h.topics.group);
    freeze.membersBeforeResume = group.members;
    freeze.answeredWhileStopped = toFrozen.answeredSince(stoppedAt);
    log(
      `every request terminal after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s frozen; ${freeze.answeredWhileStopped} answers wait in the frozen instance; group ${group.state} with ${group.members} member(s)`,
    );

    const miss = [
      freeze.inFlight > 0 ? '' : 'no calls in flight',
      freeze.answeredWhileStopped > 0 ? '' : 'no answers reached it while stopped',
      freeze.unsettled > 0 ? '' : 'no request outstanding',
      freeze.membersBeforeResume === 1 ? '' : `${freeze.membersBeforeResume} members before resume (session did not expire)`,
    ].filter(Boolean);
    if (miss.length > 0) {
      misses.push(`attempt ${attempt}: ${miss.join(', ')}`);
      return false;
    }

    frozen.signal('SIGCONT');
    const resumedAt = Date.now();
    // Give it the time to act on what it holds: it rejoins the group (or ends itself), and a retry
    // chain it may have restarted would produce outcomes within the retry delay (at most 1 s here).
    await waitFor(
      async () => {
        if (!frozen.running) return true;
        const g = await describeGroup(h.kafka, h.topics.group);
        return g.state === 'Stable' && g.members === 2;
      },
      left(30_000),
      () => `(the continued instance neither rejoined nor ended; output:\n${frozen.output.slice(-4000)})`,
      200,
    );
    // Then until no outcome has come for 3 s, which is longer than a retry delay plus a call here.
    const quietBy = Date.now() + left(30_000);
    for (let seen = -1; watcher.outcomes.length !== seen;) {
      if (Date.now() >= quietBy) throw new Error(`outcomes still coming ${((Date.now() - resumedAt) / 1000).toFixed(0)} s after SIGCONT (${watcher.outcomes.length})`);
      seen = watcher.outcomes.length;
      await sleep(3_000);
    }
    const frozenExit = await frozen.stop('SIGTERM', 15_000);
    const otherExit = await other.stop('SIGTERM', 15_000);
    log(`continued instance ${frozenExit === 0 ? 'stopped' : `ended with ${frozenExit}`} ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after SIGCONT; other instance exit ${otherExit}`);

    // Both instances have exited: the outcome topics are final.
    const outcomes = await h.allOutcomes();
    const report = exactlyOnce(outcomes, keys);
    const repeated = repeatedAttempts(outcomes);
    log(`${outcomes.length} outcomes: ${report.missing.length} keys missing, ${report.duplicates.length} with more than one terminal outcome, ${repeated.length} key attempts published twice`);
    expect(report).toEqual({ missing: [], duplicates: [], unexpected: [] });
    expect(repeated).toEqual([]);
    // pay- captures on the first call, unknown-2- on the third: every terminal outcome is a success.
    expect(terminal(outcomes).filter((o) => o.topic !== 'succeeded')).toEqual([]);
    expect(otherExit).toBe(0);
    return true;
  } catch (error) {
    console.log(`[stall attempt ${attempt}] frozen instance output:\n${frozen.output.slice(-6000)}\nother instance output:\n${other.output.slice(-6000)}`);
    throw error;
  } finally {
    await frozen.stop('SIGKILL');
    await other.stop('SIGKILL');
    await watcher?.close();
    await toFrozen.close();
    await toOther.close();
    await h.teardown();
  }
}
