/**
 * Side effect only: replaces KafkaJS's read_committed filter with ./aborted-transactions (see
 * there why). Must run before anything loads kafkajs, so src/cli/main.ts imports it first.
 */
import Module from 'node:module';
import { filterAbortedMessages } from './aborted-transactions';

/** Puts the filter in KafkaJS's place; throws if kafkajs was loaded first (too late to swap). */
function installAbortedTransactionsFilter(): void {
  const require = Module.createRequire(__filename);
  const target = require.resolve('kafkajs/src/consumer/filterAbortedMessages');
  const batch = require.resolve('kafkajs/src/consumer/batch');
  if (require.cache[batch] && require.cache[target]?.exports !== filterAbortedMessages) {
    throw new Error('kafkajs was loaded before its read_committed filter could be replaced: import src/app/install-aborted-filter first');
  }
  const module = new Module(target);
  module.filename = target;
  module.loaded = true;
  module.exports = filterAbortedMessages;
  require.cache[target] = module;
}

installAbortedTransactionsFilter();
