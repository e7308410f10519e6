// A stand-in for the appliance in the speaker test: starts a BgpSpeaker from the JSON options
// in argv[2], announces, prints `running` once bird runs, then waits to be killed (SIGKILL).

import { BgpSpeaker } from '../../engine/bgp/speaker.js';
import type { BgpSettings } from '../../engine/bgp/settings.js';
import type { NicPath } from '../../engine/bgp/bird-config.js';

interface ChildOptions {
  runDir: string;
  commandPrefix: string[];
  settings: BgpSettings;
  paths: [string, NicPath][];
  prefixes: string[];
}

const options = JSON.parse(process.argv[2]!) as ChildOptions;
const speaker = new BgpSpeaker({ runDir: options.runDir, commandPrefix: options.commandPrefix });
speaker.follow(options.settings, new Map(options.paths));
speaker.announce(options.prefixes);
const timer = setInterval(() => {
  if (speaker.status().speakerRunning) {
    process.stdout.write('running\n');
    clearInterval(timer);
  }
}, 50);
