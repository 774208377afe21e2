import { ClusterError, ClusterErrorCodes } from './cluster-errors.js';

/**
 * etcd values are JSON objects written by Warren. Reading one back checks its shape, so a key written
 * by something else (or a later Warren) is a clear BAD_RECORD error rather than a wrong decision.
 */
export type Json = Record<string, unknown>;

export function encodeRecord(value: Json): string {
  return JSON.stringify(value);
}

export function decodeRecord(key: string, raw: Buffer | string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString());
  } catch {
    throw badRecord(key, 'not JSON');
  }
  if (!isJsonObject(parsed)) throw badRecord(key, 'not a JSON object');
  return parsed;
}

function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(key: string, record: Json, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw badRecord(key, `field '${field}' is not a string`);
  return value;
}

export function integerField(key: string, record: Json, field: string): number {
  const value = record[field];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRecord(key, `field '${field}' is not an integer`);
  return value;
}

export function stringListField(key: string, record: Json, field: string): string[] {
  const value = record[field];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw badRecord(key, `field '${field}' is not a list of strings`);
  }
  return value;
}

function badRecord(key: string, why: string): ClusterError {
  return new ClusterError(ClusterErrorCodes.BAD_RECORD, `etcd key ${key} holds a value Warren cannot read: ${why}`);
}
