/** The fields an `ok` reply carries besides `op` and `id`. */
export type Reply = Record<string, unknown>;
