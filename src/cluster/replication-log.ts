/** The pino-like logger the replication layer writes to (a FastifyBaseLogger fits). */
export interface ReplicationLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
