// After open: closing both ways, heartbeats with a fake clock, update-secret and blocked/unblocked.
import { describe, expect, it } from 'vitest';
import { buildMethod } from '../../../src/protocol/amqp/build-method.js';
import { HEARTBEAT_FRAME } from '../../../src/protocol/amqp/frame-writer.js';
import { newMachine, frameOf, feed, ours, sentMethods, closeSent, socketClose, open, closeOk, toRunning, defs, type Action } from './connection-harness.js';

describe('ConnectionMachine: closing', () => {
  it('a client close is answered with close-ok and the socket closes', async () => {
    const m = newMachine();
    await toRunning(m);
    const out = await feed(m, defs.encodeMethod(defs.ConnectionClose, 0, { replyCode: 200, replyText: 'Goodbye', classId: 0, methodId: 0 }));
    expect(sentMethods(out)).toEqual([buildMethod('connection.close-ok', {})]);
    expect(socketClose(out)).toMatchObject({ reason: 'client-closed', lingerMs: 0 });
    expect(m.state).toBe('closed');
    expect(await feed(m, open())).toEqual([]);
  });

  it('a server close sends 320 and waits for close-ok, ignoring channel frames meanwhile', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(m.close())).toEqual(
      buildMethod('connection.close', { replyCode: 320, replyText: 'CONNECTION_FORCED - Closed via management plugin', classId: 0, methodId: 0 }),
    );
    expect(m.close()).toEqual([]);
    expect(await feed(m, ours(buildMethod('basic.qos', { prefetchCount: 1 }), 1))).toEqual([]);
    expect(socketClose(await feed(m, closeOk()))).toMatchObject({ reason: 'close-ok' });
  });

  it('a server close with its own code and text', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(m.close(541, 'INTERNAL_ERROR - shutting down'))).toMatchObject({ replyCode: 541, replyText: 'INTERNAL_ERROR - shutting down' });
  });

  it('a server close before open just closes the socket', () => {
    const m = newMachine();
    m.protocolHeader();
    expect(m.close()).toEqual([expect.objectContaining({ kind: 'close-socket', reason: 'server-closed' })]);
  });

  it('gives up waiting for close-ok after the heartbeat interval (at most 30 s)', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    m.tick(0);
    m.close();
    m.tick(1000);
    expect(socketClose(m.tick(10_999))).toBeUndefined();
    expect(socketClose(m.tick(11_000))).toMatchObject({ reason: 'close-timeout' });
  });
});

describe('ConnectionMachine: heartbeats', () => {
  const isHeartbeat = (a: Action) => a.kind === 'send' && a.method === undefined && Buffer.from(a.bytes).equals(Buffer.from(HEARTBEAT_FRAME));

  it('sends a heartbeat after half an interval without output, and only then', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    expect(m.tick(0)).toEqual([]);
    expect(m.tick(4_999)).toEqual([]);
    const due = m.tick(5_000);
    expect(due).toHaveLength(1);
    expect(due.every(isHeartbeat)).toBe(true);
    expect(m.tick(6_000)).toEqual([]);
    m.noteSent(); // the owner wrote something: no heartbeat needed for another half interval
    expect(m.tick(9_000)).toEqual([]);
    expect(m.tick(13_999)).toEqual([]);
    expect(m.tick(14_000).every(isHeartbeat)).toBe(true);
  });

  it('closes the socket, without a close method, after two intervals with nothing received', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    m.tick(0);
    await m.receive(frameOf(HEARTBEAT_FRAME));
    m.tick(15_000); // last received now 15 s
    expect(socketClose(m.tick(34_999))).toBeUndefined();
    const out = m.tick(35_000);
    expect(sentMethods(out)).toEqual([]);
    expect(out).toEqual([{ kind: 'close-socket', reason: 'heartbeat-timeout', detail: 'missed heartbeats from client, timeout: 10s', lingerMs: 0 }]);
    expect(m.state).toBe('closed');
  });

  it('channel frames count as received traffic', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    m.tick(0);
    for (let t = 10_000; t <= 60_000; t += 10_000) {
      await feed(m, ours(buildMethod('channel.flow-ok', { active: true }), 1));
      expect(socketClose(m.tick(t))).toBeUndefined();
    }
  });

  it('heartbeat 0 disables both directions', async () => {
    const m = newMachine();
    await toRunning(m, 0);
    m.tick(0);
    expect(m.tick(3_600_000)).toEqual([]);
  });

  it('closes the socket when the handshake takes longer than the handshake timeout', () => {
    const m = newMachine({ handshakeTimeoutMs: 10_000 });
    m.tick(0);
    m.protocolHeader();
    expect(m.tick(9_999)).toEqual([]);
    expect(socketClose(m.tick(10_000))).toMatchObject({ reason: 'handshake-timeout' });
  });
});

describe('ConnectionMachine: update-secret and blocked', () => {
  const updateSecret = (secret = 'new-token') => ours(buildMethod('connection.update-secret', { newSecret: Buffer.from(secret), reason: 'refresh' }));

  it('without a hook, update-secret is refused with 540', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(await feed(m, updateSecret()))).toMatchObject({ replyCode: 540, classId: 10, methodId: 70 });
  });

  it('with a hook: update-secret-ok and the new user', async () => {
    const m = newMachine({}, { updateSecret: async (user, secret) => ({ ok: true, user: { name: user.name, tags: Buffer.from(secret).toString() } }) });
    await toRunning(m);
    const out = await feed(m, updateSecret('t2'));
    expect(sentMethods(out)).toEqual([buildMethod('connection.update-secret-ok', {})]);
    expect(out).toContainEqual({ kind: 'user-updated', user: { name: 'guest', tags: 't2' } });
  });

  it('a refused secret: 530 as RabbitMQ', async () => {
    const m = newMachine({}, { updateSecret: async () => ({ ok: false }) });
    await toRunning(m);
    expect(closeSent(await feed(m, updateSecret()))).toMatchObject({
      replyCode: 530,
      replyText: 'NOT_ALLOWED - New secret was refused by one of the backends',
      classId: 10,
      methodId: 70,
    });
  });

  it('blocked/unblocked go only to clients with the connection.blocked capability', async () => {
    const withCap = newMachine();
    await toRunning(withCap);
    expect(sentMethods(withCap.block('low on memory'))).toEqual([buildMethod('connection.blocked', { reason: 'low on memory' })]);
    expect(withCap.block('again')).toEqual([]);
    expect(sentMethods(withCap.unblock())).toEqual([buildMethod('connection.unblocked', {})]);
    expect(withCap.unblock()).toEqual([]);

    const without = newMachine();
    await toRunning(without, 60, { authentication_failure_close: true });
    expect(without.block('low on memory')).toEqual([]);
    expect(without.unblock()).toEqual([]);
  });
});
