/**
 * The signing ceiling: how many capture requests this machine can sign per second with the
 * project's signing (src/api/signing.ts signMessage: SHA256withRSA-2048 via crypto.sign's
 * callback form on the libuv threadpool), the same measurement as bench/signing.ts 'sign async'
 * at concurrency 64, plus the CPU it costs per signature.
 */
import { generateKeyPairSync } from 'node:crypto';
import { signMessage } from '../../src/api/signing';
import { CAPTURE_PATH } from '../../src/api/types';
import { closedLoop } from './sampler';

export interface SigningCeiling {
  signsPerSec: number;
  cpuMsPerSign: number;
  /** One signature at a time, on the event loop's side: the single-core rate. */
  serialSignsPerSec: number;
  seconds: number;
  concurrency: number;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const body = Buffer.from('{"captureRequestId":"cr-bench-000001","paymentId":"pay-bench-000001","captureAmount":{"currency":"USD","value":"100"}}');
const sign = (): Promise<string> => signMessage({ method: 'POST', path: CAPTURE_PATH, clientId: 'BENCH_CLIENT', time: String(Date.now()), body }, privateKey, '1');

async function drive(concurrency: number, seconds: number): Promise<{ perSec: number; cpuMsPer: number }> {
  const cpu0 = process.cpuUsage();
  const { calls, perSec } = await closedLoop(sign, concurrency, seconds);
  const cpu = process.cpuUsage(cpu0);
  return { perSec, cpuMsPer: (cpu.user + cpu.system) / 1000 / calls };
}

export async function measureSigningCeiling(seconds = 3, concurrency = 64): Promise<SigningCeiling> {
  await drive(16, 0.5); // warm-up
  const serial = await drive(1, Math.min(1, seconds));
  const parallel = await drive(concurrency, seconds);
  return { signsPerSec: parallel.perSec, cpuMsPerSign: parallel.cpuMsPer, serialSignsPerSec: serial.perSec, seconds, concurrency };
}
