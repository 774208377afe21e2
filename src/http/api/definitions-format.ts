/**
 * RabbitMQ's definitions JSON (`GET/POST /api/definitions`, `rabbitmqadmin export/import`): what export
 * and import share. Export is in definitions-export.ts, import in definitions-import.ts (the document's
 * shape in definitions-document.ts), each section Warren added later in a file of its own. It lives beside
 * the REST API that speaks it; the data dir keeps definitions in a log of its own (src/store).
 */
/** The RabbitMQ release whose definitions format (and management API) Warren follows. */
export const RABBITMQ_VERSION = '3.13.7';

export interface ExportOptions {
  /** Export one vhost, in RabbitMQ's per-vhost shape (no users, vhosts or permissions; no `vhost` keys). */
  readonly vhost?: string | undefined;
  /** Warren's version, for `product_version`. */
  readonly version: string;
  /**
   * Also export transient (non-durable) queues, exchanges and bindings, as RabbitMQ's export does.
   * Off by default: a durability snapshot must not bring transient objects back after a restart.
   */
  readonly includeTransient?: boolean | undefined;
}

export interface ImportOptions {
  /** Import into this vhost only; items' own `vhost` keys are ignored (and users, vhosts, permissions). */
  readonly vhost?: string | undefined;
  /** Who imports: recorded as `user_who_performed_action` (default `rmq-internal`). */
  readonly actingUser?: string | undefined;
}

/** RabbitMQ accepts tags as an array or a comma-separated string. */
export function parseTags(tags: unknown): string[] {
  const list = Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' ? tags.split(',') : [];
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ''))];
}
