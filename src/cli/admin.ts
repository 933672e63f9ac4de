import type { Admin, Kafka } from 'kafkajs';

/** An admin client for the length of `fn`, always disconnected (an open one keeps the process alive). */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    // A failed disconnect must not hide what fn returned or threw.
    await admin.disconnect().catch(() => undefined);
  }
}
