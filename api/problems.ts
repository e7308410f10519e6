// Every error leaves as an RFC 9457 problem document naming the offending fields, whatever
// raised it: schema validation, the store's configuration checks, the engine, or Fastify.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ConfigError, type FieldError } from '../store/errors.js';
import { EngineFailed, EngineUnavailable } from '../engine/engine.js';
import { ConfigStoreUnavailable } from '../store/etcd/cluster-writes.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error that knows its HTTP status and problem type; throw it from any handler. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }
}

export function notFound(detail: string): Problem {
  return new Problem(404, 'not-found', detail);
}

const configStatus: Record<ConfigError['kind'], [number, string]> = {
  invalid: [422, 'invalid-configuration'],
  conflict: [409, 'conflict'],
  'not-found': [404, 'not-found'],
  'precondition-failed': [412, 'precondition-failed'],
};

/** Ajv's error → a body/query/path pointer naming the field itself, and a sentence about it. */
function fieldError(context: string, e: ErrorObject): FieldError {
  let pointer = `/${context}${e.instancePath}`;
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'required') {
    pointer += `/${e.params.missingProperty as string}`;
    message = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    pointer += `/${e.params.additionalProperty as string}`;
    message = 'is not a known field';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  }
  return { field: pointer, message };
}

/** What a value of these either-or schemas must be, by a component its anyOf or branches name. */
const anyOfMeaning: [string[], string][] = [
  [['IPAddress'], 'must be an IPv4 or IPv6 address'],
  [['IPv4CIDR', 'IPv6CIDR'], 'must be an IPv4 or IPv6 prefix such as 10.0.0.0/24 or 2001:db8::/64'],
];

/**
 * Ajv's errors with one sentence for a failed anyOf: every branch reports its own failure at
 * the same place ("must match format ipv4", "… ipv6", or a pattern per family), which says
 * less than what the value must be.
 */
function withoutAnyOfBranches(errors: ErrorObject[]): ErrorObject[] {
  const failed = new Map(errors.filter((e) => e.keyword === 'anyOf').map((e) => [e.instancePath, e]));
  return errors.flatMap((e) => {
    const anyOf = failed.get(e.instancePath);
    if (!anyOf) return [e];
    if (e !== anyOf) return [];
    const named = errors.filter((b) => b.instancePath === e.instancePath).map((b) => b.schemaPath.split('/')[0]);
    const meaning = anyOfMeaning.find(([components]) => components.some((c) => named.includes(c)));
    return [meaning ? { ...e, message: meaning[1] } : e];
  });
}

/** Collapses Ajv's duplicate reports (allOf branches repeat the same failure) into one list. */
export function validationProblem(context: string, errors: ErrorObject[]): Problem {
  const seen = new Map<string, FieldError>();
  for (const e of withoutAnyOfBranches(errors)) {
    const f = fieldError(context, e);
    seen.set(`${f.field} ${f.message}`, f);
  }
  const list = [...seen.values()];
  const detail = list.map((f) => `${f.field} ${f.message}`).join('; ');
  return new Problem(400, 'validation', detail, list);
}

/** `Unsupported Media Type` → `unsupported-media-type` */
function problemType(title: string): string {
  return title.toLowerCase().replace(/ /g, '-');
}

/** The problem an error becomes in a response. */
export function toProblem(error: FastifyError | Error): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof ConfigError) {
    const [status, type] = configStatus[error.kind];
    const errors = error.errors.map((e) => ({ field: `/body${e.field}`, message: e.message }));
    return new Problem(status, type, error.message, errors);
  }
  if (error instanceof ConfigStoreUnavailable) return new Problem(503, 'config-store-unavailable', error.message);
  if (error instanceof EngineUnavailable) return new Problem(503, 'engine-unavailable', error.message);
  if (error instanceof EngineFailed) return new Problem(503, 'engine-failed', error.message);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    // Fastify says "querystring"; pointers name the query `/query/…` as the contract does.
    const context = fastifyError.validationContext === 'querystring' ? 'query' : fastifyError.validationContext ?? 'body';
    return validationProblem(context, fastifyError.validation as ErrorObject[]);
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    // secure-json-parse also refuses valid JSON that could poison prototypes.
    return new Problem(400, 'validation', 'the body is not JSON this API accepts', [
      { field: '/body', message: 'is not valid JSON, or has a __proto__ or constructor.prototype key' },
    ]);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own codes (FST_ERR_…) are its internals: the type says what the status says.
    return new Problem(status, problemType(titles[status] ?? 'request'), error.message);
  }
  return new Problem(500, 'internal', 'internal error; the log has the details');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem): FastifyReply {
  const body: ProblemDocument = {
    type: `urn:l4lb:problem:${problem.type}`,
    title: titles[problem.status] ?? 'Error',
    status: problem.status,
    detail: problem.message,
    instance: request.url,
  };
  if (problem.errors.length > 0) body.errors = problem.errors;
  return reply.code(problem.status).type('application/problem+json').send(body);
}

export function registerProblems(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error as Error);
    if (problem.status >= 500 && problem.status !== 503) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, notFound(`no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
