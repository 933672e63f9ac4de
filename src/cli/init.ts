import { SETTINGS } from '../config/settings';
import { ensureTopics } from '../app/topics';
import { withAdmin } from './admin';
import { connectCli } from './connect';
import { parseCommand } from './usage';

export const initCommand = {
  name: 'init',
  usage: `usage: capture-worker init
  Creates the missing topics (TOPIC_*, the retry tiers of RETRY_TIERS) with TOPIC_PARTITIONS
  (${SETTINGS.TOPIC_PARTITIONS.fallback}), TOPIC_REPLICATION_FACTOR (${SETTINGS.TOPIC_REPLICATION_FACTOR.fallback}) and TOPIC_MIN_INSYNC_REPLICAS (${SETTINGS.TOPIC_MIN_INSYNC_REPLICAS.fallback}), and registers every
  event schema under <topic>-value (BACKWARD-checked). Needs KAFKA_BROKERS and
  SCHEMA_REGISTRY_URL (and their security settings); exits 78 on a configuration error.`,
  options: {},
} as const;

/** One-shot: creates the missing topics and registers every schema under `<topic>-value`. */
export async function runInit(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!parseCommand(initCommand, args)) return;
  // Registry credentials and CA are checked before any topic is created.
  const { kafka, registry, settings } = await connectCli('capture-worker-init', env);
  const { topics, tiers, layout } = settings;
  const created = await withAdmin(kafka, (admin) => ensureTopics(admin, [...Object.values(topics), ...tiers.map((tier) => tier.topic)], layout));
  console.log(created.length ? `created topics: ${created.join(', ')}` : 'all topics exist');
  try {
    for (const { subject, id } of await registry.registerEvents(topics)) console.log(`registered ${subject} (id ${id})`);
  } finally {
    await registry.close();
  }
}
