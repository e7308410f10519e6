// The web admin panel: the static files of web/ (HTML, CSS, ES modules, no data in them),
// served at `/` and under /panel/. The file map is built once at startup from the directory's
// plain files, so a request names one of them exactly or gets the API's 404 problem: no path
// from the URL ever reaches the filesystem. Everything the panel shows it fetches from the
// REST API with the operator's bearer token.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { projectFile } from '../lib/project-files.js';

export const panelPrefix = '/panel/';

/** The panel's own paths; auth lets them through, since they carry code but no data. */
export function isPanelPath(path: string): boolean {
  return path === '/' || path.startsWith(panelPrefix);
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// Scripts and styles from this origin only (no inline code), API calls to this origin only,
// and no framing: the page holds a token.
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface PanelFile {
  body: Buffer;
  type: string;
}

function loadFiles(dir: string): Map<string, PanelFile> {
  const files = new Map<string, PanelFile>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = contentTypes[extname(entry.name)];
    if (entry.isFile() && type) files.set(entry.name, { body: readFileSync(`${dir}/${entry.name}`), type });
  }
  return files;
}

export function registerPanel(app: FastifyInstance): void {
  const files = loadFiles(projectFile('web'));
  const serve = (file: PanelFile) => async (_request: unknown, reply: FastifyReply) =>
    reply
      .type(file.type)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(file.body);
  const index = files.get('index.html');
  if (!index) throw new Error('l4lb: web/index.html is missing');
  app.get('/', { schema: { hide: true } }, serve(index));
  for (const [name, file] of files) app.get(`${panelPrefix}${name}`, { schema: { hide: true } }, serve(file));
}
