// Jest's module registry ignores require.cache: here jest.config.js maps KafkaJS's read_committed filter to the worker's.
export = require('../../src/app/aborted-transactions').filterAbortedMessages;
