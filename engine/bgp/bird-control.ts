// The speaker's side of bird's control socket: `birdc configure` and `birdc show protocols
// all`, each a birdc process with an argument array and a timeout, and the parser of that
// table. birdc exits non-zero on an error reply (a configuration bird refuses: 8002) and when
// it cannot reach the socket; its output then says why.

import { execFile } from 'node:child_process';
import { canonicalAddress } from '../../store/ip.js';

/** One protocol of `show protocols all`, as far as the speaker reads it. */
export interface BirdProtocol {
  name: string;
  /** The protocol type column: BGP, Static, BFD, Device. */
  proto: string;
  /** bird's protocol state: up, start, down, flush. */
  state: string;
  /** When the protocol state last changed, ISO 8601; null when bird printed none. */
  since: string | null;
  info: string;
  /** BGP only: the FSM state (Idle, Connect, Active, OpenSent, OpenConfirm, Established). */
  bgpState?: string;
  /** BGP only: the neighbour in canonical text (IPv6 as RFC 5952), without the `%interface` bird appends. */
  neighborAddress?: string;
  lastError?: string;
}

export interface ShowProtocols {
  /** From birdc's banner (`BIRD 2.0.12 ready.`). */
  version: string | undefined;
  protocols: BirdProtocol[];
}

const bannerPattern = /^BIRD (\S+) ready\.$/;
const headerPattern = /^Name\s+Proto\s+Table\s+State\s+Since\s+Info/;
const timeoutMs = 5_000;

/** bird prints times as `timeformat protocol "%FT%T.%3f%z"` (bird-config.ts): 2024-05-01T12:00:00.250+0200. */
function isoTime(text: string | undefined): string | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Parses `show protocols all`: a row per protocol, then its indented details. */
export function parseShowProtocols(text: string): ShowProtocols {
  let version: string | undefined;
  const protocols: BirdProtocol[] = [];
  for (const line of text.split('\n')) {
    const banner = bannerPattern.exec(line);
    if (banner) {
      version = banner[1];
      continue;
    }
    if (!line.trim() || headerPattern.test(line)) continue;
    const current = protocols.at(-1);
    if (/^\s/.test(line)) {
      if (current) readDetail(current, line.trim());
      continue;
    }
    const [name = '', proto = '', , state = '', since, ...info] = line.trim().split(/\s+/);
    protocols.push({ name, proto, state, since: isoTime(since), info: info.join(' ') });
  }
  return { version, protocols };
}

function readDetail(p: BirdProtocol, detail: string): void {
  const colon = detail.indexOf(':');
  if (colon < 0) return;
  const key = detail.slice(0, colon);
  const value = detail.slice(colon + 1).trim();
  if (key === 'BGP state') p.bgpState = value;
  else if (key === 'Neighbor address') p.neighborAddress = canonicalOrAsIs(value.split('%')[0]);
  else if (key === 'Last error') p.lastError = value;
}

/** The settings' spelling of bird's address, so status finds a neighbour by text; anything else as printed. */
function canonicalOrAsIs(text: string): string {
  try {
    return canonicalAddress(text);
  } catch {
    return text;
  }
}

export class BirdcError extends Error {}

/** Runs birdc against one control socket. */
export class BirdControl {
  constructor(
    private readonly birdcPath: string,
    private readonly socket: string,
  ) {}

  /** Makes bird re-read its configuration file; rejects with bird's reason when it refuses it. */
  async configure(): Promise<void> {
    await this.run(['configure']);
  }

  async showProtocols(): Promise<ShowProtocols> {
    return parseShowProtocols(await this.run(['show', 'protocols', 'all']));
  }

  private run(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.birdcPath,
        ['-s', this.socket, ...args],
        { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const said = `${stdout}\n${stderr}`
            .split('\n')
            .filter((l) => l.trim() && !bannerPattern.test(l))
            .join('; ');
          reject(new BirdcError(`birdc ${args.join(' ')} failed${err.killed ? ' (timeout)' : ''}: ${said || err.message}`));
        },
      );
    });
  }
}
