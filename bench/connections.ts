/**
 * What one worker instance holds open per partition count: transactional producers (one per
 * owned input partition, requested + retry topics) and TCP connections by peer, once every
 * partition is open and after a short burst of traffic through all of them.
 *
 *   npx tsx bench/connections.ts [--partitions 12,48] [--events 2000]
 */
// First: outcome readers must not see aborted records (KafkaJS's own filter lets some through).
import '../src/app/install-aborted-filter';
import { printedUsage } from './lib/cli';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { EventCodec } from '../src/events/event-codec';
import { build } from './lib/build';
import { benchKafka, createTopics, freshTopics, OutcomeCollector, RequestProducer, withAdmin } from './lib/kafka';
import { Proc, runMain, stopAll, stopChildrenOnExit } from './lib/proc';
import { ensureStack, makeKeys, startSandboxProcess, workerEnv } from './lib/setup';

const log = (line: string): void => void process.stdout.write(`${line}\n`);

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

async function scrape(port: number, metric: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function main(): Promise<void> {
  if (printedUsage(__filename)) return;
  const { values } = parseArgs({ options: { partitions: { type: 'string', default: '12,48' }, events: { type: 'string', default: '2000' } } });
  stopChildrenOnExit();
  const stack = await ensureStack();
  const brokerPort = stack.brokers.split(',')[0].split(':')[1];
  const entry = build();
  const dir = mkdtempSync(join(tmpdir(), 'bench-conn-'));
  const kafka = benchKafka(stack.brokers);
  const codec = EventCodec.forUrl(stack.registryUrl);
  const rows: string[] = ['| partitions per topic | producers (owned partitions) | connections to the broker | to the registry | to the API | peak RSS MB |', '|---|---|---|---|---|---|'];
  try {
    const keys = await makeKeys(dir);
    const sandbox = await startSandboxProcess(entry, keys, 5);
    for (const partitions of values.partitions!.split(',').map(Number)) {
      const topics = freshTopics(`bench-conn-${partitions}`);
      await withAdmin(kafka, (admin) => createTopics(admin, topics, partitions));
      const proc = new Proc(`worker K=${partitions}`, process.execPath, [...entry.worker, 'run'], workerEnv(stack, keys, sandbox.url, topics, {}), false);
      const port = Number((await proc.waitFor(/"healthPort":(\d+)/))[1]);
      const deadline = Date.now() + 60_000;
      while ((await scrape(port, 'capture_partitions_owned')) < 2 * partitions && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      // Traffic through every partition, so each producer has talked to the leaders it writes to.
      const collector = await OutcomeCollector.start(kafka, [topics.succeeded, topics.failed, topics.unknown]);
      const producer = await RequestProducer.create(kafka, codec, topics.requested, topics.id);
      await producer.send(Number(values.events));
      while (collector.count < Number(values.events) && Date.now() < deadline + 60_000) await new Promise((r) => setTimeout(r, 100));
      const owned = await scrape(port, 'capture_partitions_owned');
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
