import type { Kafka } from 'kafkajs';
import type { WorkerConfig } from '../config/config';
import type { WorkerMetrics } from './metrics';

/** Consumer lag per partition (high watermark minus committed offset), sampled on an interval; a retry tier's lag is its backlog of pending retries. */
export function startLagReporter(kafka: Kafka, config: WorkerConfig, metrics: WorkerMetrics, everyMs = 10_000): { stop(): void } {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  const sample = async () => {
    connected ??= admin.connect();
    await connected;
    for (const topic of [config.topics.requested, config.topics.retry, ...config.retry.tiers.map((tier) => tier.topic)]) {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] })]);
      for (const end of ends) {
        const done = committed?.partitions.find((p) => p.partition === end.partition);
        const next = done && Number(done.offset) >= 0 ? Number(done.offset) : Number(end.low);
        metrics.consumerLag.set({ topic, partition: String(end.partition) }, Math.max(0, Number(end.high) - next));
      }
    }
  };
  const timer = setInterval(() => void sample().catch(() => undefined), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      void admin.disconnect();
    },
  };
}
