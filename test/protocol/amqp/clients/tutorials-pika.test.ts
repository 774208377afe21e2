// RabbitMQ's tutorials 1–7 with Python's pika (BlockingConnection), run by /usr/bin/python3 from
// python/tutorials.py; each run prints JSON lines of what it received, which are checked here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pikaAvailable, pikaUrl, runPython, type JsonLine } from './python.js';
import { amqpTarget, type AmqpTarget } from './target.js';

let target: AmqpTarget;

beforeAll(async () => {
  target = await amqpTarget();
});

afterAll(async () => {
  await target?.stop();
});

async function tutorial(name: string): Promise<JsonLine[]> {
  const run = await runPython('tutorials.py', [name, pikaUrl(target.url)]);
  // The script's own output is the evidence when it fails (a pika exception names the broker's reply).
  expect({ code: run.code, last: run.lines.at(-1), stderr: run.stderr }).toEqual({ code: 0, last: { t: 'done' }, stderr: '' });
  return run.lines;
}

function received(lines: JsonLine[], queue: string): string[] {
  return lines.filter((l) => l.t === 'received' && l['q'] === queue).map((l) => String(l['body']));
}

describe.skipIf(!pikaAvailable)('RabbitMQ tutorials with pika', () => {
  it('1 hello world', async () => {
    expect(received(await tutorial('hello'), 'hello')).toEqual(['Hello World!']);
  });

  it('2 work queues: a task taken by a worker process that dies unacked goes to the next worker, redelivered', async () => {
    const lines = await tutorial('work');
    expect(lines.filter((l) => l.t === 'received').map((l) => [l['q'], l['body'], l['redelivered']])).toEqual([
      ['dying', 'task 1.', false],
      ['worker', 'task 1.', true],
      ['worker', 'task 2..', false],
      ['worker', 'task 3...', false],
      ['worker', 'task 4....', false],
    ]);
    expect(lines.find((l) => l.t === 'left')).toEqual({ t: 'left', count: 0 });
  });

  it('3 publish/subscribe', async () => {
    const lines = await tutorial('pubsub');
    const queues = lines.filter((l) => l.t === 'queue').map((l) => String(l['name']));
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q).toMatch(/^amq\.gen-/);
    expect(received(lines, 'sub0')).toEqual(['info: one', 'warning: two', 'error: three']);
    expect(received(lines, 'sub1')).toEqual(['info: one', 'warning: two', 'error: three']);
  });

  it('4 routing', async () => {
    const lines = await tutorial('routing');
    expect(received(lines, 'errors')).toEqual(['e1', 'e2']);
    expect(received(lines, 'all')).toEqual(['i1', 'e1', 'w1', 'e2']);
  });

  it('5 topics', async () => {
    const lines = await tutorial('topics');
    expect(received(lines, 'q1')).toEqual(['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox']);
    expect(received(lines, 'q2')).toEqual(['quick.orange.rabbit', 'lazy.orange.elephant', 'lazy.brown.fox', 'lazy.pink.rabbit', 'lazy.orange.male.rabbit']);
  });

  it('6 RPC with direct reply-to', async () => {
    const lines = await tutorial('rpc');
    const asked = new Map(lines.filter((l) => l.t === 'asked').map((l) => [String(l['correlationId']), Number(l['n'])]));
    const answers = lines.filter((l) => l.t === 'answer').map((l) => [asked.get(String(l['correlationId'])), l['body']]);
    expect(answers.sort()).toEqual([[15, '610'], [30, '832040'], [6, '8']]);
    for (const r of lines.filter((l) => l.t === 'request')) expect(r['replyTo']).toMatch(/^amq\.rabbitmq\.reply-to\..+/);
  });

  it('7 publisher confirms: each publish confirmed; an unroutable mandatory one returned with 312', async () => {
    const lines = await tutorial('confirms');
    expect(lines.filter((l) => l.t === 'confirmed').map((l) => l['n'])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(lines.find((l) => l.t === 'returned' || l.t === 'unroutable-accepted')).toEqual({ t: 'returned', count: 1, replyCode: 312 });
    expect(lines.find((l) => l.t === 'left')).toEqual({ t: 'left', count: 20 });
  });
});
