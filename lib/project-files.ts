import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Code runs from dist/, data files (openapi.yaml, migrations/) live at the package root:
// walk up from this module to the directory that holds package.json.
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('l4lb: cannot find the package root');
    dir = parent;
  }
  return dir;
}

const root = findRoot();

export function projectFile(...parts: string[]): string {
  return join(root, ...parts);
}
