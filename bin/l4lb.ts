#!/usr/bin/env node
import { parseServeOptions, usage, UsageError } from './options.js';
import { serve } from './serve.js';

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage);
    return;
  }
  if (command !== 'serve') throw new UsageError(`unknown command '${command}'`);
  const app = await serve(parseServeOptions(rest, process.env));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`l4lb: ${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  process.stderr.write(`l4lb: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
