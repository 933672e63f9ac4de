import { WorkerHarness } from '../../support/worker-harness';
import { cli } from './cli-process';
import { sleep } from '../../../src/util/sleep';

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('produce → worker → tail, with /metrics moving', () => {
  const h = new WorkerHarness('cli', 2);

  beforeAll(() => h.setup());
  afterAll(() => h.teardown());

  it('integrating teams publish JSON lines and read outcomes back as JSON lines', async () => {
    const worker = await h.startWorker();
    const port = worker.healthPort;
    for (let i = 0; i < 100 && (await fetch(`http://127.0.0.1:${port}/readyz`)).status !== 200; i++) await sleep(100);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const consumedBefore = await metric(port, 'capture_records_consumed_total');

    const lines = [
      JSON.stringify({ captureRequestId: 'cli-ok', paymentId: 'pay-cli', captureAmount: { currency: 'USD', value: '2500' }, metadata: { order: 'A-1' } }),
      JSON.stringify({ captureRequestId: 'cli-risk', paymentId: 'fail-RISK_REJECT-1', captureAmount: { currency: 'USD', value: '10' } }),
      JSON.stringify({ captureRequestId: 'cli-bad', paymentId: 'pay-x', captureAmount: { currency: 'usd', value: '10' } }),
    ].join('\n');
    const produced = await cli(['produce'], h.env, lines);
    expect(produced.stderr).toContain('line 3: captureAmount.currency');
    expect(produced.stderr).toContain('produced 2 CaptureRequested');
    expect(produced.code).toBe(1);

    await h.outcomes((all) => all.length >= 2);
    const tailed = await cli(['tail', '--key', 'cli-ok', '--json'], h.env);
    expect(tailed.code).toBe(0);
    const rows = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      topic: h.topics.succeeded,
      partition: 0,
      offset: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-/),
      key: 'cli-ok',
      headers: expect.any(Object),
      event: { paymentId: 'pay-cli', captureAmount: { currency: 'USD', value: '2500' }, metadata: { order: 'A-1' }, result: { resultCode: 'SUCCESS' } },
    });

    expect(await metric(port, 'capture_records_consumed_total')).toBe(consumedBefore + 2);
    expect(await metric(port, 'capture_outcomes_total{status="S",code="SUCCESS",final="false"}')).toBe(1);
    expect(await metric(port, 'capture_outcomes_total{status="F",code="RISK_REJECT",final="false"}')).toBe(1);
    expect(await metric(port, 'capture_api_latency_seconds_count')).toBe(2);
    expect(await metric(port, 'capture_transaction_commit_seconds_count')).toBeGreaterThan(0);
  });
});
