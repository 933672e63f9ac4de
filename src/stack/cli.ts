import { stackDown, stackStatus, stackUp } from './native-stack';

const say = (line: string) => console.log(`[stack] ${line}`);

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const started = Date.now();
      const stack = await stackUp(say);
      say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      console.log(`KAFKA_BROKERS=${stack.brokers}\nSCHEMA_REGISTRY_URL=${stack.registryUrl}`);
      return;
    }
    case 'down':
      return stackDown(say);
    case 'status': {
      const rows = await stackStatus();
      for (const row of rows) say(`${row.name.padEnd(16)} ${row.pid ? `pid ${row.pid}` : 'not running'}  ${row.ready ? 'ready' : 'not ready'}  log ${row.log}`);
      if (!rows.every((row) => row.ready)) process.exitCode = 1;
      return;
    }
    default:
      console.error('usage: stack <up|down|status>');
      process.exitCode = 2;
  }
}

main(process.argv[2]).catch((error: Error) => {
  console.error(`[stack] ${error.message}`);
  process.exitCode = 1;
});
