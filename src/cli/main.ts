#!/usr/bin/env node
// First: replaces KafkaJS's read_committed filter before anything loads kafkajs.
import '../app/install-aborted-filter';
import { ConfigError } from '../config/config';
import { runCli } from './commands';
import { UsageError } from './usage';
import { errorMessage } from '../util/errors';

/** Exit codes: 2 a usage error, 78 a configuration error (EX_CONFIG), 1 anything else. */
runCli(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`capture-worker: ${error.message}\n${error.hint}`);
    process.exit(2);
  }
  console.error(error instanceof ConfigError ? error.message : `capture-worker: ${errorMessage(error)}`);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
