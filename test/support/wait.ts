import { sleep } from '../../src/util/sleep';

/** Polls `condition` every `everyMs` until it holds; throws after `timeoutMs`, with `describe()` when given. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => '', everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`condition not met within ${timeoutMs} ms ${describe()}`.trim());
    await sleep(everyMs);
  }
}
