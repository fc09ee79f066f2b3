/**
 * Typed errors shared by every layer. Adapters and handlers branch on `instanceof`.
 * Every error names what was wrong so a bad record can be reported and failed alone.
 */
export class PushGuardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message body or field that does not match any supported event shape. */
export class MalformedEventError extends PushGuardError {
  /** Dotted path of the offending field, e.g. `Records[0].s3.object.key`. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
  }
}

/** A repository name or digest that fails validation; never used to build a Redis key. */
export class InvalidReferenceError extends PushGuardError {
  readonly value: string;
  constructor(what: string, value: string, reason: string) {
    super(`invalid ${what} ${JSON.stringify(value.slice(0, 200))}: ${reason}`);
    this.value = value;
  }
}

/** Configuration that cannot be used; lists every problem at once. */
export class ConfigError extends PushGuardError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** A safety rule refused an action (wrong Redis DB, key outside the allow-list, cap reached...). */
export class SafetyRefusalError extends PushGuardError {}

/** A doubt that time may resolve (a storage check timed out...): retry the record later. */
export class RetryableError extends PushGuardError {}

/** The audit log could not write, refused to overwrite, or read a tampered or invalid record. */
export class AuditLogError extends PushGuardError {
  readonly code: 'exists' | 'write-failed' | 'not-found' | 'tampered' | 'invalid';
  constructor(code: AuditLogError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
