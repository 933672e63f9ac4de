import { WorkerProcess } from './worker-process';

// Integration tests wait on real brokers, retries and restarts: allow minutes, not jest's 5 s.
jest.setTimeout(180_000);

// A test that failed half-way must not leave a worker process behind (it would keep jest from exiting).
afterAll(() => WorkerProcess.killAll());
