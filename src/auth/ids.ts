/**
 * PostgreSQL accepts a UUID in upper case, without hyphens or in braces, and maps all of them to
 * one row. A document name is compared as a string, though: were `ABC...` and `abc...` both let
 * in, one scene would be loaded as two independent in-memory documents, each appending to the same
 * log without seeing the other's edits. Only the canonical lower-case form is a scene id.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isCanonicalUuid(value: string): boolean {
  return CANONICAL_UUID.test(value);
}

/** A short, printable form of an untrusted identifier for a refusal reason or a log line. */
export function describeId(value: string): string {
  const printable = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return printable;
}
