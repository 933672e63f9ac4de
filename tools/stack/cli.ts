import { parseArgs } from 'node:util';
import { brokersFor, registryUrlFor, stackPorts } from './layout';
import { secureStack, stackDown, stackStatus, stackUp } from './native-stack';
import type { SecureStack } from './secure-stack';
import { errorMessage } from '../../src/util/errors';

const say = (line: string) => console.log(`[stack] ${line}`);

const USAGE = `usage: stack <up|down|status> [--secure]
  up        start the native Kafka (127.0.0.1:9092) and schema registry (127.0.0.1:8081), or reuse them
  down      stop everything this stack started
  status    which parts run and answer (exit 1 if one does not)
  --secure  also the secured broker (SASL_SSL: PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; SSL with client
            certificates) and the registry behind TLS and authentication; prints the environment to use`;

/** The environment a client sets for the secured stack: SCRAM-SHA-512 and the registry's admin, the other ways in as comments. */
function printSecureEnvironment(stack: SecureStack, plain: { brokers: string; registryUrl: string }): void {
  console.log('# secured stack: SASL_SSL with SCRAM-SHA-512, the registry over TLS with basic auth');
  for (const [name, value] of Object.entries({ ...stack.kafka['scram-sha-512'], ...stack.registry.admin })) console.log(`${name}=${value}`);
  console.log('# other ways in: replace the KAFKA_* lines above with one of');
  for (const [profile, env] of Object.entries(stack.kafka)) {
    if (profile !== 'scram-sha-512')
      console.log(
        `#   ${profile}: ${Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
  }
  console.log(
    `# registry as a read-only user: ${Object.entries(stack.registry.reader)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  console.log(
    `# registry with a bearer token: ${Object.entries(stack.registry.bearer)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  console.log(`# plain stack: KAFKA_BROKERS=${plain.brokers} SCHEMA_REGISTRY_URL=${plain.registryUrl}`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { secure: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  const [command] = positionals;
  if (values.help || command === 'help') {
    console.log(USAGE);
    return;
  }
  switch (command) {
    case 'up': {
      const started = Date.now();
      const stack = await stackUp(say, undefined, { secure: values.secure });
      say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (stack.secure) printSecureEnvironment(stack.secure, stack);
      else console.log(`KAFKA_BROKERS=${stack.brokers}\nSCHEMA_REGISTRY_URL=${stack.registryUrl}`);
      return;
    }
    case 'down':
      return stackDown(say);
    case 'status': {
      const rows = await stackStatus(undefined, { secure: values.secure });
      for (const row of rows) say(`${row.name.padEnd(16)} ${row.pid ? `pid ${row.pid}` : 'not running'}  ${row.ready ? 'ready' : 'not ready'}  log ${row.log}`);
      if (!rows.every((row) => row.ready)) process.exitCode = 1;
      const secure = values.secure ? secureStack() : undefined;
      if (secure) printSecureEnvironment(secure, { brokers: brokersFor(stackPorts()), registryUrl: registryUrlFor(stackPorts()) });
      return;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`[stack] ${errorMessage(error)}`);
  process.exitCode = 1;
});
