// AMQP over WebSocket at the level below the clients: the `amqp` subprotocol is agreed when asked for
// (LavinMQ's convention), and the connection speaks binary AMQP frames from the protocol header on.
// The tutorials cover a client that asks for no subprotocol, as @cloudamqp/amqp-client does in browsers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectAmqpClient } from './amqp-client-connect.js';
import { amqpTarget, againstRabbitMQ, uniqueName, type AmqpTarget } from './target.js';
import { deferred, within } from './wait.js';

let target: AmqpTarget;

beforeAll(async () => {
  target = await amqpTarget();
});

afterAll(async () => {
  await target?.stop();
});

describe.skipIf(againstRabbitMQ)('AMQP over WebSocket', () => {
  it('agrees the amqp subprotocol and answers the protocol header with connection.start in a binary frame', async () => {
    const ws = new WebSocket(target.wsUrl ?? '', 'amqp');
    const first = deferred<{ data: Buffer; isBinary: boolean }>();
    ws.on('message', (data: Buffer, isBinary: boolean) => first.resolve({ data, isBinary }));
    ws.on('error', (e) => first.reject(e));
    await within(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 'the WebSocket upgrade');
    expect(ws.protocol).toBe('amqp');
    ws.send(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    const { data, isBinary } = await within(first.promise, 'connection.start');
    expect(isBinary).toBe(true);
    // Frame type 1 (method) on channel 0, class 10 (connection) method 10 (start), version 0-9.
    expect([data[0], data.readUInt16BE(1), data.readUInt16BE(7), data.readUInt16BE(9), data[11], data[12]]).toEqual([1, 0, 10, 10, 0, 9]);
    ws.close();
  });

  it('@cloudamqp/amqp-client asking for the amqp subprotocol: hello world', async () => {
    const conn = await connectAmqpClient(target, 'ws', true);
    const ch = await conn.channel();
    const queue = uniqueName('hello-ws');
    await ch.queueDeclare(queue, { autoDelete: true });
    const got = deferred<string>();
    await ch.basicConsume(queue, { noAck: true }, (m) => got.resolve(m.bodyToString() ?? ''));
    await ch.basicPublish('', queue, 'Hello over WebSocket');
    expect(await within(got.promise, 'the message')).toBe('Hello over WebSocket');
    await conn.close();
  });
});
