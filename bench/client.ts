/**
 * Client ↔ sandbox captures/s, client CPU ms per call (process.cpuUsage) and sandbox CPU ms per
 * call (/proc of its child process), at concurrency 1, 64 and 512. The sandbox runs as its CLI in
 * a child process, so the two sides' CPU is measured apart (they still share this machine's cores).
 * Run: npx tsx bench/client.ts [seconds per cell, default 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { CaptureClient, type CaptureResult } from '../src/api/capture-client';
import { loadPrivateKey, loadPublicKey } from '../src/api/keys';
import { build } from './lib/build';
import { printedUsage } from './lib/cli';
import { runMain, stopAll } from './lib/proc';
import { makeKeys, startSandboxProcess } from './lib/setup';

let seq = 0;
async function drive(client: CaptureClient, concurrency: number, seconds: number): Promise<{ calls: number; notS: number }> {
  const deadline = performance.now() + seconds * 1000;
  let calls = 0;
  let notS = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const id = `bench-${process.pid}-${++seq}`;
        const r: CaptureResult = await client.capture({
          captureRequestId: id,
          paymentId: `pay-${id}`,
          captureAmount: { currency: 'USD', value: '100' },
        });
        calls++;
        if (r.status !== 'S') notS++;
      }
    }),
  );
  return { calls, notS };
}

async function main(): Promise<void> {
  if (printedUsage(__filename)) return;
  const seconds = Number(process.argv[2] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'bench-client-'));
  const keys = await makeKeys(dir);
  const { proc, url } = await startSandboxProcess(build(true), keys, 0);
  try {
    const privateKey = loadPrivateKey({ name: 'merchant private key', file: keys.merchantPrivate });
    const vendorPublicKey = loadPublicKey({ name: 'sandbox public key', file: keys.sandboxPublic });
    console.log(`sandbox ${url} (child pid ${proc.pid}), ${seconds}s per cell`);
    console.log('conc | conns | captures/s | client CPU ms/call | sandbox CPU ms/call | not S');
    for (const concurrency of [1, 64, 512]) {
      const connections = Math.min(concurrency, 64);
      const client = new CaptureClient({
        baseUrl: url,
        clientId: 'BENCH',
        privateKey,
        vendorPublicKey,
        timeoutMs: 30_000,
        connections,
        sandbox: true,
      });
      await drive(client, concurrency, 1); // warm-up: connections, JIT
      const cpu0 = process.cpuUsage();
      const sandboxCpu0 = proc.cpuMs();
      const t0 = performance.now();
      const { calls, notS } = await drive(client, concurrency, seconds);
      const elapsed = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const clientMs = (cpu.user + cpu.system) / 1000 / calls;
      const sandboxMs = (proc.cpuMs() - sandboxCpu0) / calls;
      console.log(
        `${String(concurrency).padStart(4)} | ${String(connections).padStart(5)} | ${(calls / elapsed).toFixed(0).padStart(10)} | ` +
          `${clientMs.toFixed(3).padStart(17)} | ${sandboxMs.toFixed(3).padStart(19)} | ${notS}`,
      );
      await client.close();
      await (await request(`${url}/sandbox/reset`, { method: 'POST' })).body.dump();
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
