// openapi.yaml is the contract. This module turns it into what Fastify needs: validators for
// each operation's body, path, query and headers, compiled by Ajv from the document's own
// component schemas, so there is no second, hand-kept copy of any schema.

import { Ajv, type ValidateFunction, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchema } from 'fastify';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { projectFile } from '../lib/project-files.js';

type Json = Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const openapiText = readFileSync(projectFile('openapi.yaml'), 'utf8');
export const openapiDocument = parse(openapiText) as Json & {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; parameters: Record<string, Json> };
};

const componentPrefix = '#/components/schemas/';

/** Rewrites `#/components/schemas/X` references to the id `X` under which X is registered. */
export function localRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(localRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof inner === 'string' && inner.startsWith(componentPrefix)
      ? inner.slice(componentPrefix.length)
      : localRefs(inner);
  }
  return out;
}

/**
 * A component schema as a request body sees it: the server's `status` may be sent back (an
 * object read back can be PUT as is) but may hold only the fields the server writes there,
 * so `status` becomes a closed object of its own and the common ObjectStatus fields.
 */
function closedStatus(schema: Json): Json {
  const properties = schema.properties as Record<string, Json> | undefined;
  const status = properties?.status;
  if (!status) return schema;
  const common = (status.allOf as Json[] | undefined)?.map((part) => resolveComponent<Json>(part as { $ref: string }).properties as Json) ?? [];
  const own = (status.$ref ? resolveComponent<Json>(status as { $ref: string }) : status).properties as Json | undefined;
  const closed = { type: 'object', readOnly: true, additionalProperties: false, properties: Object.assign({}, ...common, own) };
  return { ...schema, properties: { ...properties, status: closed } };
}

/** An Ajv that knows every component schema of openapi.yaml by name; `requests`: as request bodies see them. */
export function createAjv(options: Options, requests = false): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, ...options });
  addFormats(ajv);
  // OpenAPI 3.0 annotation keywords that are not JSON Schema.
  ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
  for (const [name, schema] of Object.entries(openapiDocument.components.schemas)) {
    ajv.addSchema({ ...(localRefs(requests ? closedStatus(schema) : schema) as Json), $id: name });
  }
  return ajv;
}

/**
 * Bodies are validated strictly (no type coercion, unknown fields rejected, defaults filled);
 * path, query and header values arrive as text and are coerced to the declared types.
 */
export const bodyAjv = createAjv({ useDefaults: true, coerceTypes: false, removeAdditional: false }, true);
const textAjv = createAjv({ useDefaults: true, coerceTypes: true, removeAdditional: false });

export function compileValidator(schema: Json, httpPart: string | undefined): ValidateFunction {
  return (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
}

/** The validator of one component schema, e.g. `Nic`, for merged PATCH results. */
export function componentValidator(name: string): ValidateFunction {
  const validate = bodyAjv.getSchema(name);
  if (!validate) throw new Error(`openapi.yaml has no schema ${name}`);
  return validate;
}

/** `/api/v1/nics/{name}` → `/api/v1/nics/:name` */
export function fastifyPath(openapiPath: string): string {
  return openapiPath.replace(/\{([^}]+)\}/g, ':$1');
}

function objectOf(parameters: Json[]): Json | undefined {
  if (parameters.length === 0) return undefined;
  const properties: Json = {};
  const required: string[] = [];
  for (const p of parameters) {
    // Header names are matched in lower case, as Node delivers them.
    const name = p.in === 'header' ? (p.name as string).toLowerCase() : (p.name as string);
    properties[name] = localRefs(p.schema);
    if (p.required) required.push(name);
  }
  return { type: 'object', properties, required };
}

/** Resolves `#/components/<section>/<name>` references one level. */
export function resolveComponent<T>(value: T | { $ref: string }): T {
  const ref = (value as { $ref?: string }).$ref;
  if (!ref) return value as T;
  const [, , section, name] = ref.split('/');
  return (openapiDocument.components as unknown as Record<string, Record<string, T>>)[section][name];
}

/** The Fastify schema of one operation, built from its parameters and request body. */
export function operationSchema(openapiPath: string, method: string): FastifySchema {
  const pathItem = openapiDocument.paths[openapiPath];
  const operation = pathItem?.[method];
  if (!operation) throw new Error(`openapi.yaml has no operation ${method.toUpperCase()} ${openapiPath}`);
  const parameters = [...((pathItem.parameters as unknown as Json[]) ?? []), ...((operation.parameters as Json[]) ?? [])].map((p) => resolveComponent<Json>(p));
  const byPlace = (place: string) => objectOf(parameters.filter((p) => p.in === place));
  const schema: Json = {
    params: byPlace('path'),
    querystring: byPlace('query'),
    headers: byPlace('header'),
  };
  const requestBody = operation.requestBody as Json | undefined;
  if (requestBody) {
    const body = resolveComponent<Json>(requestBody);
    const content = body.content as Record<string, { schema: Json }>;
    schema.body = localRefs(Object.values(content)[0].schema);
  }
  for (const key of Object.keys(schema)) if (schema[key] === undefined) delete schema[key];
  return schema as FastifySchema;
}
