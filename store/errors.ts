// Errors the store raises when a write would break the configuration. They carry what the
// API needs for a problem document without the store knowing about HTTP.

export type ConfigErrorKind = 'invalid' | 'conflict' | 'not-found' | 'precondition-failed';

export interface FieldError {
  /** JSON pointer into the request body, e.g. `/nic` or `/addresses/1`. */
  field: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly kind: ConfigErrorKind,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** A request that is well-formed but inconsistent with the rest of the configuration. */
export function invalid(field: string, message: string): ConfigError {
  return new ConfigError('invalid', message, [{ field, message }]);
}

export function conflict(field: string, message: string): ConfigError {
  return new ConfigError('conflict', message, field ? [{ field, message }] : []);
}
