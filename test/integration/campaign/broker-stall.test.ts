/**
 * A broker that freezes mid-stream (SIGSTOP for 20 s, then SIGCONT: a long GC pause, a stuck disk,
 * a paused VM) while the worker has partition transactions open: no request lost, no terminal
 * outcome twice, and the worker process itself keeps running.
 */
import { runCampaign, summaryLines, type CampaignResult } from '../../../bench/lib/fault-campaign';

// Freezing needs the native stack's broker; with another one the campaign refuses with a message saying so.
describe('broker stall: 3000 requests (10% scripted unknowns), the broker frozen 20 s with transactions open', () => {
  it('loses nothing, duplicates nothing, and the worker does not exit', async () => {
    let r: CampaignResult | undefined;
    // The freeze must land while a transaction is open; a run where none was open proves nothing.
    for (let attempt = 1; attempt <= 3 && !(r && (r.stalls[0]?.transactionsInFlight ?? 0) > 0); attempt++) {
      const lines: string[] = [];
      r = await runCampaign(
        {
          events: 3000,
          rate: 300,
          unknownShare: 0.1,
          kills: 0,
          outageSeconds: 0,
          brokerRestart: false,
          stalls: [20],
          partitions: 6,
          inflight: 200,
          latencyMs: 50,
          jitterMs: 10,
          retryBaseDelayMs: 250,
          retryMaxDelayMs: 2000,
          faultSpanSeconds: 6,
          minFaultGapSeconds: 2,
          timeoutSeconds: 150,
          seed: Number(process.env.CAMPAIGN_SEED ?? Math.floor(Math.random() * 2 ** 31)),
          logLevel: 'info',
          extraEnv: { SHUTDOWN_GRACE_MS: '5000' },
        },
        (line) => void lines.push(line),
      );
      console.log([...lines, ...summaryLines(r)].join('\n'));
    }
    expect(r!.stalls[0].transactionsInFlight).toBeGreaterThan(0);
    expect({
      finished: r!.finished,
      lost: r!.lost,
      duplicates: r!.duplicates,
      workerExits: r!.workerRestarts.afterExit,
      hung: r!.workerRestarts.afterHang,
      brokerHealthy: r!.broker.healthyAtEnd,
    }).toEqual({
      finished: true,
      lost: 0,
      duplicates: 0,
      workerExits: 0,
      hung: 0,
      brokerHealthy: true,
    });
    expect(r!.terminalOutcomes).toBe(3000);
    expect(r!.stalls[0].recoverySec).toBeDefined();
  }, 600_000);
});
