// The operations of openapi.yaml, and the check that a response is what the document declares
// for its operation and status: a declared status (or `default`), a declared content type,
// and a body valid against that schema as sent (no defaults filled in, no coercion).

import assert from 'node:assert/strict';
import type { ValidateFunction } from 'ajv';
import type { LightMyRequestResponse } from 'fastify';
import { createAjv, localRefs, openapiDocument, resolveComponent } from '../api/openapi.js';

type Json = Record<string, any>;

export interface Operation {
  /** As in openapi.yaml: `/api/v1/nics/{name}` */
  path: string;
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  operation: Json;
}

const ajv = createAjv({ useDefaults: false, coerceTypes: false });
const methods = ['get', 'put', 'post', 'patch', 'delete'] as const;

export const operations: Operation[] = Object.entries(openapiDocument.paths).flatMap(([path, item]) =>
  methods.filter((m) => item[m]).map((method) => ({ path, method, operation: item[method] as Json })),
);

export const operationById = new Map(operations.map((o) => [o.operation.operationId as string, o]));

// Compiled once per declared schema: Ajv's own cache would serialize the schema on every call.
const validators = new Map<Json, ValidateFunction>();

function validatorOf(schema: Json): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(localRefs(schema) as Json);
    validators.set(schema, validate);
  }
  return validate;
}

function declaredSchema(operation: Json, status: number, contentType: string, where: string): Json | undefined {
  const declared = operation.responses[String(status)] ?? operation.responses.default;
  assert.ok(declared, `${where}: status ${status} is not declared`);
  const response = resolveComponent<Json>(declared);
  if (status === 204) return undefined;
  const mediaType = contentType.split(';')[0];
  const content = response.content?.[mediaType];
  assert.ok(content, `${where}: content type ${mediaType} is not declared for ${status}`);
  return content.schema;
}

/** Asserts that `response` matches what `operation` declares for its status; `where` prefixes failures. */
export function assertDeclared(operation: Json, response: LightMyRequestResponse, where: string): void {
  const schema = declaredSchema(operation, response.statusCode, String(response.headers['content-type'] ?? ''), where);
  if (!schema) return;
  const body = schema.type === 'string' ? response.body : response.json();
  const validate = validatorOf(schema);
  assert.ok(validate(body), `${where}: ${ajv.errorsText(validate.errors)} in ${response.body.slice(0, 400)}`);
}
