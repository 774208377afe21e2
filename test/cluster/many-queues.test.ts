// Catch-up with thousands of queues (docs/cluster.md, LavinMQ's "full sync wedging with thousands of
// queues"): 2,000 durable queues with a backlog each, a follower killed, more published while it is
// down, then restarted. It must catch up and rejoin the ISR while a confirmed load goes on, and the
// load's confirms must keep coming while it catches up: the leader never waits for a follower outside
// the ISR, however much it has to send it.
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { skipReason as etcdSkipReason } from './etcd-server.js';
import { declareDurableQueues, publishConfirmed, spread } from './harness/backlog.js';
import { ClusterProcesses, clusterSkipReason } from './harness/cluster-processes.js';
import { getJson } from './harness/amqp-endpoints.js';
import { allInSync, nodeTails, verdict } from './harness/fault-run.js';
import { LoadDriver } from './harness/load-driver.js';

const skip = etcdSkipReason ?? clusterSkipReason();
const QUEUES = 2000;
const BEFORE = { perQueue: 3, bodyBytes: 512 };
/** Enough bytes that catching up takes a while: the load must go on meanwhile. */
const WHILE_DOWN = { perQueue: 8, bodyBytes: 4096 };
// The default --replica-ack-timeout (5 s): the killed follower leaves the ISR at once anyway (its link
// drops with acks owed), and the backlog's bursts must not push the remaining follower out for a slow fsync
// on a busy machine — with min-insync 2 that would refuse the backlog itself.
const flags = { leaseTtl: 3, minInsync: 2 };

let cluster: ClusterProcesses | undefined;
let driver: LoadDriver | undefined;

afterEach(async () => {
  await driver?.close();
  await cluster?.stop();
  driver = undefined;
  cluster = undefined;
});

/** The `time` (ms) pino put on a JSON log line. */
function loggedAt(line: string): number {
  const time: unknown = (JSON.parse(line) as { time?: unknown }).time;
  if (typeof time !== 'number') throw new Error(`no time in ${line}`);
  return time;
}

describe.skipIf(skip !== undefined)(`catch-up with ${QUEUES} queues${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('a restarted follower catches up on every queue and rejoins the ISR; confirms keep coming meanwhile', async () => {
    cluster = await ClusterProcesses.start(flags);
    const started = cluster;
    onTestFailed(() => console.log(nodeTails(started)));
    const leader = await cluster.leader();
    await allInSync(cluster);
    const leaderUrl = leader.process.endpoint().amqpUrl;
    const queues = Array.from({ length: QUEUES }, (_, i) => `many-q${String(i).padStart(4, '0')}`);
    await declareDurableQueues(leaderUrl, queues);
    await publishConfirmed(leaderUrl, spread(queues, BEFORE.perQueue, BEFORE.bodyBytes));

    const live = cluster;
    driver = await LoadDriver.start({ endpoints: () => live.endpoints(), queues: ['many-load-1', 'many-load-2'], ratePerSec: 300 });
    await driver.confirmsSince(0, 200, 60_000);

    const [follower] = cluster.followers(leader);
    if (!follower) throw new Error('no follower');
    const id = follower.process.id;
    follower.process.kill('SIGKILL');
    await follower.process.exited();
    await cluster.waitForIsr((isr) => !isr.includes(id));
    await publishConfirmed(leaderUrl, spread(queues, WHILE_DOWN.perQueue, WHILE_DOWN.bodyBytes));

    const leaderFrom = leader.process.lines.length;
    await follower.process.start();
    // From the follower's first link to the leader to the leader putting it back in the ISR (both
    // as logged, same clock): the load's confirms must go on in between.
    const following = await follower.process.waitForLog(/cluster: following /, { timeoutMs: 30_000 });
    const added = await leader.process.waitForLog(new RegExp(`"follower":"${id}".*added to the ISR`), { from: leaderFrom, timeoutMs: 60_000 });
    await cluster.waitForIsr((isr) => isr.includes(id));
    const catchUpFrom = loggedAt(following.input);
    const catchUpTo = loggedAt(added.input);
    expect(catchUpTo).toBeGreaterThan(catchUpFrom);
    expect(driver.journal.confirms.filter((c) => c.at >= catchUpFrom && c.at <= catchUpTo).length).toBeGreaterThan(0);

    const { counts, detail } = verdict(await driver.drain());
    expect(counts, detail).toMatchObject({ lost: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });

    // What it caught up on is all there: with the others gone, it leads on its own files, and every
    // queue holds its backlog. (Only a member of the ISR can win: it is the one left.)
    const others = cluster.nodes.filter((n) => n !== follower);
    const from = follower.process.lines.length;
    for (const node of others) node.process.kill('SIGKILL');
    await Promise.all(others.map((node) => node.process.exited()));
    await follower.process.waitForLog(/cluster: elected leader/, { from, timeoutMs: 30_000 });
    const elected = follower.process.lines.findIndex((line, i) => i >= from && /cluster: elected leader/.test(line));
    // Its server listens once recovery is done, on the client port its tunnels used.
    await follower.process.waitForLog(/listening on http:\/\//, { from: elected, timeoutMs: 30_000 });
    const listed = await getJson(() => [follower.process.endpoint()], '/api/queues/%2F?columns=name,messages', 10_000);
    if (!Array.isArray(listed)) throw new Error(`GET /api/queues: ${JSON.stringify(listed)}`);
    const backlog = new Map<string, unknown>();
    for (const item of listed as { name: unknown; messages: unknown }[]) if (typeof item.name === 'string' && item.name.startsWith('many-q')) backlog.set(item.name, item.messages);
    expect(backlog.size).toBe(QUEUES);
    expect(new Set(backlog.values())).toEqual(new Set([BEFORE.perQueue + WHILE_DOWN.perQueue]));
  }, 120_000);
});
