import type { Kafka } from 'kafkajs';
import type { WorkerConfig } from '../config/config';
import type { WorkerMetrics } from './metrics';

export interface OwnedPartition {
  topic: string;
  partition: number;
}

/**
 * Consumer lag (high watermark minus committed offset) of the partitions this instance owns,
 * sampled on an interval: summed over pods it is the group's lag once, not once per pod. A retry
 * tier's lag is its backlog of pending retries. A failed sample clears the gauge rather than
 * leave numbers that are no longer true.
 */
export function startLagReporter(kafka: Kafka, config: WorkerConfig, metrics: WorkerMetrics, owned: () => OwnedPartition[], everyMs = 10_000): { stop(): void } {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  const sample = async () => {
    connected ??= admin.connect();
    await connected;
    const byTopic = new Map<string, Set<number>>();
    for (const { topic, partition } of owned()) byTopic.set(topic, (byTopic.get(topic) ?? new Set()).add(partition));
    const lags: Array<[OwnedPartition, number]> = [];
    for (const [topic, partitions] of byTopic) {
      const [ends, topicOffsets] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] })]);
      const committed = topicOffsets.at(0);
      for (const end of ends.filter((e) => partitions.has(e.partition))) {
        const done = committed?.partitions.find((p) => p.partition === end.partition);
        const next = done && Number(done.offset) >= 0 ? Number(done.offset) : Number(end.low);
        lags.push([{ topic, partition: end.partition }, Math.max(0, Number(end.high) - next)]);
      }
    }
    metrics.consumerLag.reset();
    for (const [{ topic, partition }, lag] of lags) metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
  };
  const timer = setInterval(() => void sample().catch(() => metrics.consumerLag.reset()), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      void admin.disconnect();
    },
  };
}
