/**
 * RabbitMQ's list conventions: `sort` / `sort_reverse`, `columns`, and `page` / `page_size` / `name` /
 * `use_regex` with the paged wrapper object.
 *
 * `columns` is applied to every GET reply by the plugin's preSerialization hook (applyColumns).
 *
 * Big lists (10,000 queues) stay cheap: items are filtered and sorted on their raw fields, then only the
 * page being returned is formatted. A sort key the resource cannot read raw (a rate, say) formats every
 * item once, which is still linear.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { badRequest } from './errors.js';

export const listQueryProperties = {
  sort: { type: 'string', description: 'Field to sort by (dotted paths allowed)' },
  sort_reverse: { type: 'string', enum: ['true', 'false'] },
  columns: { type: 'string', description: 'Comma-separated fields to keep (dotted paths allowed)' },
  page: { type: 'string', description: 'Page number (from 1); turns on paging' },
  page_size: { type: 'string', description: '1..500, default 100' },
  name: { type: 'string', description: 'With page: case-insensitive substring filter on name' },
  use_regex: { type: 'string', enum: ['true', 'false'] },
  pagination: { type: 'string' },
  disable_stats: { type: 'string' },
  enable_queue_totals: { type: 'string' },
} as const;

/** The querystring of a list without rates. */
export const listQuery = { type: 'object', properties: listQueryProperties } as const;

/** What `list` reads; a route's own querystring (rate ranges…) has more keys and still fits. */
export type ListQuery = FromSchema<typeof listQuery>;

/** Returned by `ListSpec.key` for a key it cannot read without formatting the item. */
export const FORMAT = Symbol('format');

export interface ListSpec<T> {
  /** RabbitMQ's default keys; a `sort` key is put in front of them. */
  readonly defaultSort: readonly string[];
  /** Whether `page` is honoured (queues, exchanges, connections, channels, vhosts, users). */
  readonly pageable: boolean;
  name?(item: T): string;
  /** A sort key's value from the raw item, or FORMAT. */
  key?(item: T, key: string): unknown;
  format(item: T): Record<string, unknown>;
}

export interface Paged {
  filtered_count: number;
  item_count: number;
  items: unknown[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

const MAX_PAGE_SIZE = 500;

export function list<T>(items: readonly T[], query: ListQuery, spec: ListSpec<T>): unknown[] | Paged {
  const paging = spec.pageable ? parsePaging(query) : undefined;
  let selected = items;
  if (paging && query.name !== undefined && query.name !== '' && spec.name) {
    const matches = nameMatcher(query.name, query.use_regex === 'true');
    const name = spec.name;
    selected = items.filter((item) => matches(name(item)));
  }
  const formatted = new Map<T, Record<string, unknown>>();
  const format = (item: T): Record<string, unknown> => {
    let value = formatted.get(item);
    if (!value) {
      value = spec.format(item);
      formatted.set(item, value);
    }
    return value;
  };
  const keys = query.sort ? [query.sort, ...spec.defaultSort.filter((k) => k !== query.sort)] : spec.defaultSort;
  const read = (item: T, key: string): unknown => {
    const raw = spec.key ? spec.key(item, key) : FORMAT;
    return raw === FORMAT ? path(format(item), key) : raw;
  };
  const decorated = selected.map((item) => ({ item, sortKeys: keys.map((key) => read(item, key)) }));
  decorated.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const order = compareTerms(a.sortKeys[i], b.sortKeys[i]);
      if (order !== 0) return order;
    }
    return 0;
  });
  if (query.sort_reverse === 'true') decorated.reverse();
  if (!paging) return decorated.map(({ item }) => format(item));
  const pageCount = Math.ceil(decorated.length / paging.size);
  if (paging.page > Math.max(pageCount, 1)) {
    throw badRequest(`page ${paging.page} is past the last page (${pageCount})`, 'page_out_of_range');
  }
  const start = (paging.page - 1) * paging.size;
  const pageItems = decorated.slice(start, start + paging.size).map(({ item }) => format(item));
  return {
    filtered_count: decorated.length,
    item_count: pageItems.length,
    items: pageItems,
    page: paging.page,
    page_count: pageCount,
    page_size: paging.size,
    total_count: items.length,
  };
}

function parsePaging(query: ListQuery): { page: number; size: number } | undefined {
  if (query.page === undefined) return undefined;
  const page = Number(query.page);
  const size = query.page_size === undefined ? 100 : Number(query.page_size);
  if (!Number.isInteger(page) || !Number.isInteger(size)) throw badRequest('Pagination parameters are invalid');
  if (page < 1) throw badRequest(`page must be at least 1, got ${page}`, 'invalid_pagination_parameters');
  if (size < 1 || size > MAX_PAGE_SIZE) {
    throw badRequest(`page_size must be from 1 to ${MAX_PAGE_SIZE}, got ${size}`, 'invalid_pagination_parameters');
  }
  return { page, size };
}

function nameMatcher(name: string, useRegex: boolean): (value: string) => boolean {
  if (!useRegex) {
    const needle = name.toLowerCase();
    return (value) => value.toLowerCase().includes(needle);
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(name, 'i');
  } catch (error) {
    throw badRequest(`invalid regular expression in name: ${(error as Error).message}`);
  }
  return (value) => pattern.test(value);
}

/** Erlang term order, which RabbitMQ sorts by: numbers < atoms (booleans, null) < strings < the rest. */
export function compareTerms(a: unknown, b: unknown): number {
  const x = a === undefined ? 0 : a;
  const y = b === undefined ? 0 : b;
  const rankX = rank(x);
  const rankY = rank(y);
  if (rankX !== rankY) return rankX - rankY;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  const sx = typeof x === 'string' ? x : JSON.stringify(x) ?? '';
  const sy = typeof y === 'string' ? y : JSON.stringify(y) ?? '';
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}

function rank(value: unknown): number {
  if (typeof value === 'number') return 0;
  if (typeof value === 'boolean' || value === null) return 1;
  if (typeof value === 'string') return 2;
  return 3;
}

/** `a.b.c` read from nested objects. */
export function path(value: unknown, dotted: string): unknown {
  let current = value;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

type ColumnTree = Map<string, ColumnTree | true>;

export function parseColumns(columns: string | undefined): ColumnTree | undefined {
  if (columns === undefined || columns.trim() === '') return undefined;
  const tree: ColumnTree = new Map();
  for (const column of columns.split(',')) {
    const parts = column.trim().split('.').filter((p) => p !== '');
    let node = tree;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node.set(part, true);
      else {
        let child = node.get(part);
        if (child === true) return;
        if (!child) {
          child = new Map();
          node.set(part, child);
        }
        node = child;
      }
    });
  }
  return tree;
}

/** Keeps only the named keys (and dotted sub-keys), in the object's own key order. */
export function pick(value: unknown, columns: ColumnTree | undefined): unknown {
  if (!columns || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const wanted = columns.get(key);
    if (wanted === true) out[key] = field;
    else if (wanted) out[key] = pick(field, wanted);
  }
  return out;
}

/**
 * `columns` applied to whatever a GET returns: each element of a list, the `items` of a page, or a
 * single object (one queue, the overview…).
 */
export function applyColumns(payload: unknown, columns: string | undefined): unknown {
  const tree = parseColumns(columns);
  if (!tree) return payload;
  if (Array.isArray(payload)) return payload.map((item) => pick(item, tree));
  if (isPaged(payload)) return { ...payload, items: payload.items.map((item) => pick(item, tree)) };
  return pick(payload, tree);
}

function isPaged(value: unknown): value is Paged {
  return value !== null && typeof value === 'object' && Array.isArray((value as Paged).items) && typeof (value as Paged).page_count === 'number';
}
