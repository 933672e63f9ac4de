/**
 * What one worker instance holds open per partition count: transactional producers (one per
 * owned input partition, requested + retry topics) and TCP connections by peer, once every
 * partition is open and after a short burst of traffic through all of them.
 *
 *   npx tsx bench/connections.ts [--partitions 12,48] [--events 2000]
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { EventRegistry } from '../src/events/registry';
import { sleep } from '../src/util/sleep';
import { benchArgs, log } from './lib/cli';
import { build } from './lib/build';
import { benchKafka, createTopics, freshTopics, OutcomeCollector, RequestProducer, withAdmin } from './lib/kafka';
import { scrapeMetrics } from './lib/metrics';
import { Proc, runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { ensureStack, makeKeys, startSandboxProcess, workerEnv } from './lib/setup';

/** Established TCP connections of `pid`, counted by the peer's port. */
function connectionsByPeerPort(pid: number): Map<string, number> {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established'], { encoding: 'utf8' });
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const peer = line.trim().split(/\s+/)[3] ?? '';
    const port = peer.slice(peer.lastIndexOf(':') + 1);
    counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  return counts;
}

async function partitionsOwned(port: number): Promise<number> {
  return (await scrapeMetrics(port, 5000))?.sum('capture_partitions_owned') ?? NaN;
}

async function main(): Promise<void> {
  const values = benchArgs(__filename, { partitions: { type: 'string', default: '12,48' }, events: { type: 'string', default: '2000' } });
  if (!values) return;
  stopChildrenOnExit();
  const stack = await ensureStack();
  const brokerPort = stack.brokers.split(',')[0].split(':')[1];
  const entry = build();
  const dir = mkdtempSync(join(tmpdir(), 'bench-conn-'));
  const kafka = benchKafka(stack.brokers);
  const registry = EventRegistry.forUrl(stack.registryUrl);
  const rows: string[] = ['| partitions per topic | producers (owned partitions) | connections to the broker | to the registry | to the API | peak RSS MB |', '|---|---|---|---|---|---|'];
  try {
    const keys = await makeKeys(dir);
    const sandbox = await startSandboxProcess(entry, keys, 5);
    for (const partitions of values.partitions.split(',').map(Number)) {
      const topics = freshTopics(`bench-conn-${partitions}`);
      await withAdmin(kafka, (admin) => createTopics(admin, topics, partitions));
      const proc = new Proc(`worker K=${partitions}`, process.execPath, [...entry.worker, 'run'], workerEnv(stack, keys, sandbox.url, topics), false);
      const port = Number((await proc.waitFor(/"healthPort":(\d+)/))[1]);
      const deadline = Date.now() + 60_000;
      while (!((await partitionsOwned(port)) >= 2 * partitions) && Date.now() < deadline) await sleep(200);
      // Traffic through every partition, so each producer has talked to the leaders it writes to.
      const collector = await OutcomeCollector.start(kafka, topics);
      const producer = await RequestProducer.create(kafka, registry.codec, topics.requested, topics.id);
      await producer.send(Number(values.events));
      while (collector.count < Number(values.events) && Date.now() < deadline + 60_000) await sleep(100);
      const owned = await partitionsOwned(port);
      const connections = connectionsByPeerPort(proc.pid);
      const at = (url: string) => connections.get(new URL(url).port) ?? 0;
      const toBroker = connections.get(brokerPort) ?? 0;
      log(`K=${partitions}: ${owned} producers, ${toBroker} connections to the broker, ${at(stack.registryUrl)} to the registry, ${at(sandbox.url)} to the API; ${collector.count} outcomes`);
      rows.push(`| ${partitions} | ${owned} | ${toBroker} | ${at(stack.registryUrl)} | ${at(sandbox.url)} | ${proc.peakRssMb().toFixed(0)} |`);
      await producer.disconnect();
      await collector.stop();
      await proc.stop();
    }
    log(`\n${rows.join('\n')}`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
