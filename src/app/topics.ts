import type { Admin } from 'kafkajs';

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** Creates the missing product topics (existing ones are left as they are); returns the created names. */
export async function ensureTopics(admin: Admin, topics: readonly string[], layout: TopicLayout): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: layout.partitions,
      replicationFactor: layout.replicationFactor,
      configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(layout.minInsyncReplicas, layout.replicationFactor)) }],
    })),
  });
  return missing;
}
