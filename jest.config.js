/** Unit tests are pure logic; integration tests run against real Kafka, a real registry and the sandbox. */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] };
// The worker's read_committed filter in place of KafkaJS's, as src/app/install-aborted-filter.ts puts it outside jest.
const moduleNameMapper = { '^\\./filterAbortedMessages$': '<rootDir>/test/support/kafkajs-aborted-filter.ts' };

module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform, testEnvironment: 'node' },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
  ],
};
