/**
 * Signs/s and verifies/s of SHA256withRSA (RSA-2048): synchronous crypto.sign on the event loop
 * against crypto.sign with a callback (libuv threadpool), at concurrency 1, 64 and 512.
 * Also reports the worst event-loop delay, which is what a busy worker would feel.
 * Run: npx tsx bench/signing.ts [seconds per cell, default 3]
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { printedUsage } from './lib/cli';
import { closedLoop } from './lib/sampler';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const content = Buffer.from(
  'POST /ams/api/v1/payments/capture\nSANDBOX_5X00000000000000.1685599933871.' +
    '{"captureRequestId":"capture-000001","paymentId":"20220919194010890100111740275820195","captureAmount":{"currency":"HKD","value":"10"}}',
);
const signature = sign('sha256', content, privateKey);

type Op = () => Promise<unknown>;

const ops: Record<string, Op> = {
  'sign sync': () => Promise.resolve(sign('sha256', content, privateKey)),
  'sign async': () => new Promise((resolve, reject) => sign('sha256', content, privateKey, (e, s) => (e ? reject(e) : resolve(s)))),
  'verify sync': () => Promise.resolve(verify('sha256', content, publicKey, signature)),
  'verify async': () => new Promise((resolve, reject) => verify('sha256', content, publicKey, signature, (e, ok) => (e ? reject(e) : resolve(ok)))),
};

async function run(op: Op, concurrency: number, seconds: number): Promise<{ perSec: number; maxLagMs: number }> {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const { perSec } = await closedLoop(
    async () => {
      await op();
      // A sync op never yields on its own; yield so the loop (and the lag monitor) can run.
      await new Promise((r) => setImmediate(r));
    },
    concurrency,
    seconds,
  );
  lag.disable();
  return { perSec, maxLagMs: lag.max / 1e6 };
}

async function main(): Promise<void> {
  if (printedUsage(__filename)) return;
  const seconds = Number(process.argv[2] ?? 3);
  console.log(`UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ${seconds}s per cell`);
  console.log('operation     | conc |   ops/s | max loop delay ms');
  for (const [name, op] of Object.entries(ops)) {
    await run(op, 16, 0.5); // warm-up
    for (const concurrency of [1, 64, 512]) {
      const { perSec, maxLagMs } = await run(op, concurrency, seconds);
      console.log(`${name.padEnd(13)} | ${String(concurrency).padStart(4)} | ${perSec.toFixed(0).padStart(7)} | ${maxLagMs.toFixed(1)}`);
    }
  }
}

void main();
