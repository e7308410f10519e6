// The admin panel's static files: served at / and /panel/ from an exact map of web/, with the
// right types and a strict CSP, public even with a token (they hold no data) while the API
// behind them still needs it; anything else under them, traversal included, is the API's 404.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { projectFile } from '../../lib/project-files.js';
import { openapiDocument } from '../../api/openapi.js';
import { testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const webFiles = readdirSync(projectFile('web'));

test('/ is the panel page with a strict Content-Security-Policy', async () => {
  const t = await testApp();
  try {
    const page = await t.request('GET', '/');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline scripts');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]|\son[a-z]+=/i, 'no inline script or handler');
    assert.doesNotMatch(page.body, /https?:\/\//, 'nothing fetched from elsewhere');
  } finally {
    await t.close();
  }
});

test('every file the page loads is served with its type, and every module it imports too', async () => {
  const t = await testApp();
  try {
    const page = (await t.request('GET', '/')).body;
    const urls = new Set([...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!));
    for (const file of webFiles.filter((f) => f.endsWith('.js'))) {
      const js = (await t.request('GET', `/panel/${file}`)).body;
      for (const m of js.matchAll(/from '\.\/([^']+)'/g)) urls.add(`/panel/${m[1]}`);
      assert.doesNotMatch(js, /innerHTML|insertAdjacentHTML|document\.write|eval\(/, `${file} builds DOM from data only`);
      assert.doesNotMatch(js, /https?:\/\//, `${file} fetches nothing from elsewhere`);
    }
    assert.ok(urls.has('/panel/app.js') && urls.has('/panel/style.css') && urls.has('/panel/forms.js'), [...urls].join(' '));
    for (const url of urls) {
      const r = await t.request('GET', url);
      assert.equal(r.statusCode, 200, url);
      const type = url.endsWith('.js') ? /^text\/javascript/ : /^text\/css/;
      assert.match(String(r.headers['content-type']), type, url);
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/, url);
    }
  } finally {
    await t.close();
  }
});

test('traversal and unknown files are the API\'s 404 problem', async () => {
  const t = await testApp();
  try {
    for (const url of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/panel/../package.json',
      '/panel/%2e%2e/package.json',
      '/panel/..%2fpackage.json',
      '/panel/%2e%2e%2fpackage.json',
      '/panel/../../etc/passwd',
      '/panel/nope.js',
      '/panel/',
      '/panel',
      '/index.html',
      '/panel/app.js/x',
    ]) {
      const r = await t.request('GET', url);
      assertProblem(r, 404);
      assert.doesNotMatch(r.body, /"devDependencies"|root:/, url);
    }
  } finally {
    await t.close();
  }
});

test('with a token the panel\'s files load without it, while the API still needs it', async () => {
  const t = await testApp({ token: 'panel-secret' });
  try {
    for (const url of ['/', '/panel/app.js', '/panel/style.css', '/openapi.json']) assert.equal((await t.request('GET', url)).statusCode, 200, url);
    assertProblem(await t.request('GET', '/api/v1/nics'), 401);
    assertProblem(await t.request('GET', '/metrics'), 401);
    // A path that starts like the panel's but leads elsewhere gains nothing.
    for (const url of ['/panel/../api/v1/nics', '/panel/%2e%2e/api/v1/nics', '/panel/..%2fapi%2fv1%2fnics']) {
      const r = await t.request('GET', url);
      assert.notEqual(r.statusCode, 200, url);
      assert.doesNotMatch(r.body, /"items"/, url);
    }
    const bearer = { authorization: 'Bearer panel-secret' };
    assert.equal((await t.request('GET', '/api/v1/nics', undefined, bearer)).statusCode, 200);
  } finally {
    await t.close();
  }
});

test('the API\'s own pages are untouched: /docs, /healthz, /metrics, /openapi.json', async () => {
  const t = await testApp();
  try {
    assert.ok([200, 302].includes((await t.request('GET', '/docs')).statusCode));
    assert.equal((await t.request('GET', '/healthz')).json().status, 'ok');
    assert.match(String((await t.request('GET', '/metrics')).headers['content-type']), /^text\/plain/);
    assert.equal((await t.request('GET', '/openapi.json')).json().openapi, openapiDocument.openapi);
  } finally {
    await t.close();
  }
});

test('the kinds the panel edits name collections and schemas of the API\'s document', async () => {
  // web/resources.js touches the DOM only when drawing, so Node can load it.
  const { kinds } = (await import(pathToFileURL(projectFile('web/resources.js')).href)) as { kinds: { path: string; schema: string }[] };
  const schemas = (openapiDocument as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
  for (const kind of kinds) {
    assert.ok(openapiDocument.paths[kind.path]?.post, `POST ${kind.path}`);
    assert.ok(openapiDocument.paths[`${kind.path}/{name}`]?.patch, `PATCH ${kind.path}/{name}`);
    assert.ok(schemas[kind.schema], kind.schema);
  }
  for (const schema of ['VirtualService', 'RealServer', 'Sync']) assert.ok(schemas[schema], schema);
});
