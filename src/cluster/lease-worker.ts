/**
 * The lease keep-alive, in a worker thread of its own. The main thread's event loop can stall — a long
 * GC, a synchronous burst of work — for longer than a keep-alive interval; had the keep-alive run there,
 * such a stall would let the lease expire and cost the node its leadership for nothing. Here it runs on
 * an event loop that does nothing else, with its own etcd connection.
 *
 * The worker publishes, in shared memory, until when the lease is surely alive: the time a keep-alive
 * was *sent* plus the TTL etcd answered, less a margin. etcd counts the TTL from when it received that
 * keep-alive, later, so the published deadline is never later than etcd's. The main thread reads it
 * before anything only a leader may do, which stays right even while this thread is stopped with the
 * whole process (SIGSTOP): after the stop, the deadline has passed before any message could say so.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EtcdLeaseInvalidError, type Lease } from 'etcd3';
import { connectEtcd } from './etcd-client.js';
import { LeaseSlot, LeaseStateCode, monotonicNow, parseMainMessage, parseWorkerData, type WorkerToMain } from './lease-protocol.js';
import { stallReason } from './stall-watchdog.js';

const port = parentPort;
if (!port) throw new Error('lease-worker.js runs only as a worker thread');

const data = parseWorkerData(workerData);
const slots = new BigInt64Array(data.shared);
const ttlMs = data.ttlSeconds * 1000;
// Three keep-alives per TTL, as etcd's own clients do: two may be lost before the lease is at risk.
const intervalMs = Math.max(200, Math.floor(ttlMs / 3));
const marginMs = Math.min(1000, Math.floor(ttlMs / 10));
// One attempt may go to a member that just died or lost its raft leader: it is given half an interval,
// and a failed one is retried at once (on another member, the client picks at random) rather than after a
// whole interval, so a single dead member costs a fraction of the TTL, not two intervals of it.
const attemptMs = Math.max(300, Math.floor(intervalMs / 2));
const RETRY_MS = 100;
const client = connectEtcd({ endpoints: data.endpoints, callTimeoutMs: attemptMs });
let lease: Lease | undefined;
let timer: NodeJS.Timeout | undefined;
let watchdog: NodeJS.Timeout | undefined;
let finished = false;
const WATCHDOG_MS = 100;

function send(message: WorkerToMain): void {
  port?.postMessage(message);
}

function publish(validUntil: number, state: bigint): void {
  Atomics.store(slots, LeaseSlot.VALID_UNTIL, BigInt(Math.floor(validUntil)));
  Atomics.store(slots, LeaseSlot.STATE, state);
}

function finish(): void {
  finished = true;
  if (timer) clearTimeout(timer);
  if (watchdog) clearInterval(watchdog);
  lease?.release();
  client.close();
  port?.close();
}

function lose(reason: string): void {
  if (finished) return;
  // Shared memory first: the main thread may read it before it gets to the message.
  publish(0, LeaseStateCode.LOST);
  send({ type: 'lost', reason });
  finish();
}

/**
 * Gives the lease up on purpose: invalid here first (the main thread stops confirming), then revoked in
 * etcd so the leader key goes now rather than a TTL later, and a follower can take over at once.
 */
function giveUp(current: Lease, reason: string): void {
  if (finished) return;
  publish(0, LeaseStateCode.LOST);
  finished = true;
  if (timer) clearTimeout(timer);
  if (watchdog) clearInterval(watchdog);
  void current
    .revoke()
    .catch(() => undefined)
    .then(() => {
      send({ type: 'lost', reason: `gave the lease up: ${reason}` });
      client.close();
      port?.close();
    });
}

async function keepAlive(current: Lease): Promise<void> {
  const sentAt = monotonicNow();
  try {
    const response = await current.keepaliveOnce({ deadline: Date.now() + attemptMs });
    if (finished) return;
    const ttl = Number(response.TTL);
    if (ttl <= 0) return lose('etcd says the lease has expired');
    publish(sentAt + ttl * 1000 - marginMs, LeaseStateCode.ALIVE);
  } catch (error) {
    if (finished) return;
    if (error instanceof EtcdLeaseInvalidError) return lose('etcd says the lease has expired or was revoked');
    // Unanswered: etcd may be unreachable or electing. The lease may still live, but once the deadline
    // of the last answered keep-alive has passed, nothing says it does.
    const validUntil = Number(Atomics.load(slots, LeaseSlot.VALID_UNTIL));
    if (monotonicNow() >= validUntil) {
      const detail = error instanceof Error ? error.message : String(error);
      return lose(`no keep-alive answered within the lease TTL (last error: ${detail})`);
    }
    if (!finished) timer = setTimeout(() => void keepAlive(current), RETRY_MS);
    return;
  }
  if (!finished) timer = setTimeout(() => void keepAlive(current), intervalMs);
}

port.on('message', (raw: unknown) => {
  const message = parseMainMessage(raw);
  if (!message || finished) return;
  if (message.type === 'abandon') {
    publish(0, LeaseStateCode.LOST);
    finish();
    return;
  }
  publish(0, LeaseStateCode.LOST);
  const revoking = lease ? lease.revoke().catch(() => undefined) : Promise.resolve();
  finished = true;
  if (timer) clearTimeout(timer);
  if (watchdog) clearInterval(watchdog);
  void revoking.then(() => {
    send({ type: 'revoked' });
    client.close();
    port?.close();
  });
});

async function start(): Promise<void> {
  const sentAt = monotonicNow();
  const granted = client.lease(data.ttlSeconds, { autoKeepAlive: false });
  // The client reports a failed grant as 'lost' too; grant() below is where it is handled.
  granted.on('lost', () => undefined);
  lease = granted;
  let leaseId: string;
  try {
    leaseId = await granted.grant();
  } catch (error) {
    publish(0, LeaseStateCode.LOST);
    send({ type: 'grant-failed', message: error instanceof Error ? error.message : String(error) });
    finish();
    return;
  }
  if (finished) return;
  publish(sentAt + ttlMs - marginMs, LeaseStateCode.ALIVE);
  send({ type: 'granted', leaseId });
  timer = setTimeout(() => void keepAlive(granted), intervalMs);
  watchdog = setInterval(() => {
    const reason = stallReason(slots, monotonicNow(), data);
    if (reason) giveUp(granted, reason);
  }, WATCHDOG_MS);
}

void start();
