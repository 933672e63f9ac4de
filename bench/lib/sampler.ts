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
