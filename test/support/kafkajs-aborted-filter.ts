// Jest's module registry ignores require.cache: here jest.config.js maps KafkaJS's read_committed filter to the worker's.
import { filterAbortedMessages } from '../../src/app/aborted-transactions';
export = filterAbortedMessages;
