/** Stops only what global setup started; a stack that was already running stays up. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__captureWorkerStop?.();
}
