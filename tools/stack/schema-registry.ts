import { EventRegistry } from '../../src/events/registry';
import { apicurioLauncher } from './artifacts';
import { StackPaths, StackPorts, registryUrlFor } from './layout';
import { ManagedProcess, startDetached, waitUntil } from './processes';

/** Apicurio Registry (in-memory storage) whose Confluent-compatible API is what the worker uses. */
export async function startRegistry(paths: StackPaths, ports: StackPorts, proc: ManagedProcess): Promise<void> {
  const args = ['-Xms128m', '-Xmx512m', `-Dquarkus.http.port=${ports.registry}`, '-Dquarkus.http.host=127.0.0.1', '-jar', apicurioLauncher(paths.apicurioHome)];
  startDetached(proc, 'java', args, paths.apicurioHome);
  await waitUntil(`Schema registry on 127.0.0.1:${ports.registry}`, () => registryAnswers(ports), 120_000, proc);
}

export async function registryAnswers(ports: StackPorts): Promise<boolean> {
  const registry = EventRegistry.forUrl(registryUrlFor(ports));
  try {
    return await registry.reachable();
  } finally {
    await registry.close();
  }
}
