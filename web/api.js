// Every call to the REST API goes through here: the bearer token (kept in sessionStorage, so
// it lasts as long as the tab and is never written into the page), JSON bodies, and RFC 9457
// problems turned into ApiError so the views can show them and mark the fields they name.

const tokenKey = 'l4lb.token';

export function getToken() {
  return sessionStorage.getItem(tokenKey) ?? '';
}

export function setToken(token) {
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
}

export class ApiError extends Error {
  /** problem: the problem document (or one made up for a non-problem answer). */
  constructor(method, path, status, problem) {
    super(`${problem.title ?? 'Error'}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.method = method;
    this.path = path;
    this.status = status;
    this.problem = problem;
  }

  /** The field errors, each with `path` (the pointer without its /body prefix) for the forms. */
  get fieldErrors() {
    return (this.problem.errors ?? []).map((e) => ({ ...e, path: String(e.field ?? '').replace(/^\/body(?=\/|$)/, '') }));
  }
}

let unauthorized = () => {};

/** Called on every 401, so the page can ask for the token. */
export function onUnauthorized(listener) {
  unauthorized = listener;
}

/**
 * request('PATCH', '/api/v1/nics/a', { mtu: 9000 }, { contentType, ifMatch }) → parsed JSON,
 * or null for 204. Throws ApiError for any non-2xx answer and for a network failure.
 */
export async function request(method, path, body, { contentType = 'application/json', ifMatch } = {}) {
  const headers = { accept: 'application/json, application/problem+json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (err) {
    throw new ApiError(method, path, 0, { title: 'The appliance does not answer', detail: String(err.message ?? err) });
  }
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const data = text && /json/.test(type) ? JSON.parse(text) : text;
  if (!response.ok) {
    const problem = typeof data === 'object' && data ? data : { title: `${response.status} ${response.statusText}`, detail: text };
    if (response.status === 401) unauthorized();
    throw new ApiError(method, path, response.status, problem);
  }
  return response.status === 204 ? null : data;
}

/** Every item of a list, following nextCursor. */
export async function list(path) {
  const items = [];
  let cursor;
  do {
    const page = await request('GET', cursor ? `${path}?cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The API's own OpenAPI document, which the forms are built from. */
export function openapi() {
  return request('GET', '/openapi.json');
}
