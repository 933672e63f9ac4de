import { Writable } from 'node:stream';
import { createKafka } from '../../../src/app/kafka-client';
import { createLogger } from '../../../src/observability/logger';

/** KafkaJS's lines reach the worker's log as JSON, less the one warning that is wrong about this design. */
function loggedBy(build: (kafka: ReturnType<typeof createKafka>) => void): Array<{ level: string; msg: string; kafka?: string }> {
  const lines: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('info', sink);
  build(createKafka({ brokers: ['127.0.0.1:1'], clientId: 'log-test', protocol: 'PLAINTEXT' }, { logger, level: 'info' }));
  logger.flush();
  return lines.map((line) => JSON.parse(line) as { level: string; msg: string; kafka?: string });
}

describe("KafkaJS's log lines", () => {
  it('drop the bounded-retries warning of every partition producer (a failed send aborts its transaction)', () => {
    const lines = loggedBy((kafka) => kafka.producer({ idempotent: true, transactionalId: 'log-test.t.0', retry: { retries: 12 } }));
    expect(lines.map((line) => line.msg)).not.toContain('Limiting retries for the idempotent producer may invalidate EoS guarantees');
  });

  it('keep its other warnings, as warn lines from the kafkajs logger', () => {
    const lines = loggedBy((kafka) => kafka.logger().warn('a broker went away', { broker: 'b1' }));
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'a broker went away', kafka: 'kafkajs' })]);
  });
});
