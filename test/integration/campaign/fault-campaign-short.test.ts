/**
 * The fault campaign (bench/fault-campaign.ts) in small: real worker processes killed with SIGKILL,
 * the sandbox process down and back on the same port, the shared broker restarted, and every
 * committed outcome counted per request with a read_committed consumer.
 */
import { nativeBrokerInUse, outageTimelineLines, runCampaign, summaryLines } from '../../../bench/lib/fault-campaign';

// The broker restart needs the native stack's broker (not one from testcontainers or elsewhere).
const brokerRestart = nativeBrokerInUse(process.env.KAFKA_BROKERS ?? '');

const title = `short fault campaign — 2000 requests (20% scripted unknowns), 2 × kill -9 of the worker, sandbox down 5 s, ${
  brokerRestart ? 'broker restarted once' : 'NO broker restart (the broker in use is not the native stack’s)'
}`;

describe(title, () => {
  it('every request gets exactly one terminal outcome under read_committed, none lost, the broker left healthy', async () => {
    const lines: string[] = [];
    const log = (line: string): void => void lines.push(line);
    const r = await runCampaign(
      {
        events: 2000,
        rate: 400,
        unknownShare: 0.2,
        kills: 2,
        outageSeconds: 5,
        brokerRestart,
        // Broker stalls have a test of their own (broker-stall.test.ts).
        stalls: [],
        partitions: 6,
        inflight: 200,
        latencyMs: 10,
        jitterMs: 10,
        retryBaseDelayMs: 250,
        retryMaxDelayMs: 2000,
        killPauseMs: [200, 800],
        faultSpanSeconds: 9,
        minFaultGapSeconds: 3,
        timeoutSeconds: 110,
        seed: Number(process.env.CAMPAIGN_SEED ?? Math.floor(Math.random() * 2 ** 31)),
        logLevel: 'info',
        extraEnv: { SHUTDOWN_GRACE_MS: '5000' },
      },
      log,
    ).catch((error: unknown) => {
      console.log(lines.join('\n'));
      throw error;
    });
    const report = [...lines, ...outageTimelineLines(r), ...summaryLines(r)].join('\n');
    console.log(report);
    expect({ finished: r.finished, lost: r.lost, duplicates: r.duplicates, dlq: r.dlq, brokerHealthy: r.broker.healthyAtEnd }).toEqual({
      finished: true,
      lost: 0,
      duplicates: 0,
      dlq: 0,
      brokerHealthy: true,
    });
    expect(r.requestRecordsInLog).toBe(2000);
    expect(r.terminalOutcomes).toBe(2000);
    expect(r.workerRestarts.afterKill).toBe(2);
    expect(r.outage.actualSec).toBeGreaterThanOrEqual(5);
    if (brokerRestart) expect(r.broker.restarted).toBe(true);
  }, 170_000);
});
