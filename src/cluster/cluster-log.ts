/** The logger a cluster node writes to: pino's shape, as the server's own (FastifyBaseLogger fits). */
export interface ClusterLog {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
}
