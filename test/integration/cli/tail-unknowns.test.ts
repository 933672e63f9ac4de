import { withAdmin } from '../../../src/cli/admin';
import { outcomeTopics, topicEnv } from '../../../src/events/contract';
import { EventRegistry } from '../../../src/events/registry';
import type { CaptureUnknown } from '../../../src/events/types.generated';
import { createTopics, registryUrl, testKafka, uniqueTopics } from '../../support/kafka';
import { cli, startCli } from './cli-process';

const HOUR = 3600_000;

function unknown(key: string, final: boolean, attempt: number): CaptureUnknown {
  return {
    captureRequestId: key,
    paymentId: `pay-${key}`,
    captureAmount: { currency: 'HKD', value: '500' },
    requestedAt: 1_700_000_000_000,
    metadata: {},
    result: { resultStatus: 'U', resultCode: 'PROCESS_FAIL', resultMessage: 'try again', local: false },
    attempt,
    firstAttemptAt: 1_700_000_000_000,
    completedAt: 1_700_000_060_000,
    nextAttemptAt: final ? null : 1_700_000_120_000,
    final,
  };
}

describe('tail and unknowns read to the end offsets and leave no consumer group', () => {
  const kafka = testKafka();
  const topics = uniqueTopics('cli-tail');
  const { codec } = EventRegistry.forUrl(registryUrl());
  const env: NodeJS.ProcessEnv = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    SCHEMA_REGISTRY_URL: registryUrl(),
    ...topicEnv(topics),
    KAFKA_CLIENT_ID: `${topics.group}-cli`,
  };
  const leftGroups = async () => (await withAdmin(kafka, (admin) => admin.listGroups())).groups.map((g) => g.groupId).filter((g) => g.startsWith(env.KAFKA_CLIENT_ID!));

  beforeAll(async () => {
    await withAdmin(kafka, (admin) => createTopics(admin, outcomeTopics(topics), 1));
    await codec.useSubject('CaptureUnknown', topics.unknown);
    const producer = kafka.producer({ transactionalId: `${topics.group}-writer`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({
        topic: topics.unknown,
        messages: [
          { key: 'u-old', value: codec.encode('CaptureUnknown', unknown('u-old', true, 6)), timestamp: String(Date.now() - 2 * HOUR) },
          { key: 'u-1', value: codec.encode('CaptureUnknown', unknown('u-1', false, 1)), headers: { traceparent: 'tp-1' } },
          { key: 'u-2', value: codec.encode('CaptureUnknown', unknown('u-2', true, 6)) },
        ],
      });
      await committed.commit();
      // The partition ends in an aborted transaction: its records and its marker are the last offsets.
      const aborted = await producer.transaction();
      await aborted.send({ topic: topics.unknown, messages: [{ key: 'u-aborted', value: codec.encode('CaptureUnknown', unknown('u-aborted', true, 6)) }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }
  });

  it('tail --json stops by itself at a partition ending in an aborted transaction, with every field', async () => {
    const tailed = await cli(['tail', '--topic', 'unknown', '--json'], env);
    expect(tailed.code).toBe(0);
    const rows = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string });
    expect(rows.map((r) => r.key)).toEqual(['u-old', 'u-1', 'u-2']);
    expect(rows[1]).toEqual({
      topic: topics.unknown,
      partition: 0,
      offset: '1',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      key: 'u-1',
      headers: { traceparent: 'tp-1' },
      event: unknown('u-1', false, 1),
    });
    expect(await leftGroups()).toEqual([]);
  });

  it('tail --since starts at the first record at or after the time; an empty topic ends at once', async () => {
    const since = new Date(Date.now() - HOUR).toISOString();
    const tailed = await cli(['tail', '--topic', 'unknown', '--since', since, '--json'], env);
    expect(
      tailed.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key),
    ).toEqual(['u-1', 'u-2']);
    const empty = await cli(['tail', '--topic', 'succeeded', '--topic', 'failed'], env);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
  });

  it('unknowns --final lists the captures to reconcile', async () => {
    const listed = await cli(['unknowns', '--final'], env);
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(
      ['u-old', 'u-2'].map((key) => ({
        key,
        paymentId: `pay-${key}`,
        amount: { currency: 'HKD', value: '500' },
        attempt: 6,
        completedAt: new Date(1_700_000_060_000).toISOString(),
        final: true,
        resultCode: 'PROCESS_FAIL',
        resultMessage: 'try again',
      })),
    );
  });

  it('tail --follow keeps reading until SIGINT, then deletes its group and exits 0', async () => {
    const { child, done } = startCli(['tail', '--topic', 'unknown', '--follow'], env);
    let seen = '';
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes('u-2')) resolve();
      }),
    );
    expect(await leftGroups()).toHaveLength(1);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
    expect(await leftGroups()).toEqual([]);
  });
});
