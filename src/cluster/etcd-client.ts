import { Etcd3 } from 'etcd3';

export interface EtcdClientOptions {
  /** `http://host:port` of each etcd member. */
  readonly endpoints: readonly string[];
  /** Deadline of each unary call: a request to a member that stopped answering fails rather than hangs. */
  readonly callTimeoutMs?: number;
}

const DEFAULT_CALL_TIMEOUT_MS = 5000;

export function connectEtcd(options: EtcdClientOptions): Etcd3 {
  if (options.endpoints.length === 0) throw new RangeError('at least one etcd endpoint is needed');
  const timeout = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  return new Etcd3({
    hosts: [...options.endpoints],
    dialTimeout: timeout,
    // Streams (watches, keep-alives) live as long as they are needed; every other call gets a deadline.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
  });
}

/** Revisions are int64 in etcd; the client hands them over as decimal strings. */
export function revision(value: string | number | undefined | null): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  return BigInt(value);
}
