#!/usr/bin/env node
import { CommandFailed, configCommand, configUsage, configUsageBrief } from './config-command.js';
import { parseServeOptions, usage as serveUsage, UsageError } from './options.js';
import { serve } from './serve.js';

/** serve's usage, with the config commands in its synopsis and their own section after it. */
const usage = `${serveUsage.replace(/^(Usage: l4lb serve \[options\]\n)/, '$1       l4lb config export|import … (l4lb config --help)\n')}\n${configUsageBrief}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'config') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(configUsage);
      return;
    }
    return configCommand(rest, process.env);
  }
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
    process.stderr.write(`l4lb: ${(err as Error).message}\n\n${process.argv[2] === 'config' ? configUsage : usage}`);
    process.exit(2);
  }
  if (err instanceof CommandFailed) {
    process.stderr.write(`l4lb: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`l4lb: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
