/** Runs `sample` every `ms` until stopped; a tick is skipped while the previous one is still running. */
export function every(ms: number, sample: () => unknown): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void Promise.resolve()
      .then(sample)
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, ms);
  return { stop: () => clearInterval(timer) };
}

/** `concurrency` loops each calling `op` back to back until `seconds` have passed: the calls made and their rate. */
export async function closedLoop(op: () => Promise<unknown>, concurrency: number, seconds: number): Promise<{ calls: number; perSec: number }> {
  const deadline = performance.now() + seconds * 1000;
  let calls = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        calls++;
      }
    }),
  );
  return { calls, perSec: calls / ((performance.now() - start) / 1000) };
}
