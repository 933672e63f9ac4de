import { withAdmin } from '../../../src/cli/admin';
import { readToEnd } from '../../support/kafka';
import { exactlyOnce, request, terminal, WorkerHarness } from '../../support/worker-harness';
import { cli } from './cli-process';

const DLQ_COPY = (source: string, offset: number, reason: string) => ({
  'dlq-reason': reason,
  'dlq-error': 'registry unreachable at the time',
  'dlq-source-topic': source,
  'dlq-source-partition': '0',
  'dlq-source-offset': String(offset),
});

describe('dlq list and dlq replay, through a running worker', () => {
  const h = new WorkerHarness('cli-dlq', 1);
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await h.setup();
    env = { ...h.env, KAFKA_CLIENT_ID: `${h.topics.group}-cli` };
  });
  afterAll(() => h.teardown());

  it('replays a valid request dead-lettered during a registry outage to exactly one outcome, once', async () => {
    await h.startWorker();
    const traced = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    // As the worker would have written them: a valid CaptureRequested it could not decode then,
    // another reason, and a copy that is only a reference to its source.
    await h.produce(
      [
        { key: 'replay-1', value: h.codec.encode('CaptureRequested', request('pay-replay-1', '700')), headers: { ...traced, ...DLQ_COPY(h.topics.requested, 0, 'NOT_CONFLUENT_AVRO') } },
        { key: 'other-1', value: Buffer.from('junk'), headers: DLQ_COPY(h.topics.requested, 1, 'MALFORMED_AVRO') },
        { key: 'big-1', value: Buffer.from('{"topic":"x"}'), headers: { ...DLQ_COPY(h.topics.requested, 2, 'NOT_CONFLUENT_AVRO'), 'dlq-value-encoding': 'reference' } },
      ],
      h.topics.dlq,
    );

    const listed = await cli(['dlq', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const summary = JSON.parse(listed.stdout) as { total: number; reasons: Record<string, { count: number; samples: unknown[] }> };
    expect(summary.total).toBe(3);
    expect(summary.reasons.NOT_CONFLUENT_AVRO.count).toBe(2);
    expect(summary.reasons.MALFORMED_AVRO.samples[0]).toMatchObject({ key: 'other-1', source: { topic: h.topics.requested, partition: 0, offset: '1' } });

    const dry = await cli(['dlq', 'replay', '--reason', 'NOT_CONFLUENT_AVRO', '--dry-run'], env);
    expect(dry.stderr).toContain('would replay 1 NOT_CONFLUENT_AVRO record(s)');
    expect(await h.allOutcomes()).toEqual([]);

    const replayed = await cli(['dlq', 'replay', '--reason', 'NOT_CONFLUENT_AVRO'], env);
    expect(replayed.stderr).toContain('replayed 1 NOT_CONFLUENT_AVRO record(s)');
    expect(replayed.stderr).toMatch(/not replayed: .* key big-1: the value is not in the DLQ .* the original stays at .*\[0\]@2/);
    // The reference was refused: exit 1 tells a script.
    expect(replayed.code).toBe(1);

    await h.outcomes((all) => terminal(all).some((o) => o.key === 'replay-1'));
    const requests = (await readToEnd(h.kafka, [h.topics.requested])).filter((r) => r.key?.toString() === 'replay-1');
    expect(requests).toHaveLength(1);
    expect(requests[0].headers).toEqual(traced);
    let outcomes = await h.allOutcomes();
    expect(exactlyOnce(outcomes, ['replay-1'])).toEqual({ missing: [], duplicates: [], unexpected: [] });
    expect(terminal(outcomes)[0]).toMatchObject({ topic: 'succeeded', event: { paymentId: 'pay-replay-1', captureAmount: { value: '700' } } });

    const again = await cli(['dlq', 'replay', '--reason', 'NOT_CONFLUENT_AVRO'], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('replayed 0 NOT_CONFLUENT_AVRO record(s)');
    expect((await readToEnd(h.kafka, [h.topics.requested])).filter((r) => r.key?.toString() === 'replay-1')).toHaveLength(1);
    outcomes = await h.allOutcomes();
    expect(exactlyOnce(outcomes, ['replay-1'])).toEqual({ missing: [], duplicates: [], unexpected: [] });

    // Another reason still finds its record: each reason has its own committed position.
    const other = await cli(['dlq', 'replay', '--reason', 'MALFORMED_AVRO', '--dry-run'], env);
    expect(other.stderr).toContain('would replay 1 MALFORMED_AVRO record(s)');

    // Every reader's group was deleted; the replay's own group holds the DLQ position.
    const groups = (await withAdmin(h.kafka, (admin) => admin.listGroups())).groups.map((g) => g.groupId);
    expect(groups.filter((g) => g.startsWith(env.KAFKA_CLIENT_ID!))).toEqual([]);
    expect(groups).toContain(`${h.topics.group}.dlq-replay.NOT_CONFLUENT_AVRO`);
  });

  it('replays CONFLICTING_REQUEST and OUTCOME_ENCODE_FAILED only with --force', async () => {
    for (const reason of ['CONFLICTING_REQUEST', 'OUTCOME_ENCODE_FAILED']) {
      const refused = await cli(['dlq', 'replay', '--reason', reason], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${reason} records are replayed only with --force`);
      expect((await cli(['dlq', 'replay', '--reason', reason, '--force', '--dry-run'], env)).stderr).toContain(`would replay 0 ${reason} record(s)`);
    }
  });
});
