/** The part of the broker's (pino-style) logger the store uses. */
export interface StoreLog {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: StoreLog = {
  warn: () => undefined,
  info: () => undefined,
  error: () => undefined,
};
