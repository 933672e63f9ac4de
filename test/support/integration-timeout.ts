// Integration tests wait on real brokers, retries and restarts: allow minutes, not jest's 5 s.
jest.setTimeout(180_000);
