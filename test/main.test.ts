import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/client/index.js';

const mainJs = new URL('../dist/main.js', import.meta.url).pathname;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts the built broker as `npm start` would, and resolves with its URL once it logs that it listens. */
function startBroker(env: Record<string, string>, args: string[] = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-main-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, [mainJs, ...args], {
    env: { ...process.env, WARREN_PORT: '0', WARREN_AMQP_PORT: '0', WARREN_PROMETHEUS_PORT: '0', WARREN_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^"\s]+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}: ${output}${errors}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, listening, exited, output: () => output };
}

describe('warren process', () => {
  it('logs "listening on http://HOST:PORT" with the real port, serves the protocol and stops cleanly on SIGTERM', async () => {
    const broker = startBroker({});
    const url = await broker.listening;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    const conn = await connect(`${url.replace('http', 'ws')}/ws`, { username: 'guest', password: 'guest' });
    const closed = new Promise((resolve) => conn.on('close', resolve));
    broker.child.kill('SIGTERM');
    await expect(closed).resolves.toMatchObject({ code: 320 });
    expect(await broker.exited).toBe(0);
    // Structured logs: every line is JSON.
    for (const line of broker.output().trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('logs its AMQP listener, which RabbitMQ clients use, and closes AMQP connections with 320 on SIGTERM', async () => {
    const broker = startBroker({});
    await broker.listening;
    const port = /AMQP 0-9-1 listening on amqp:\/\/127\.0\.0\.1:(\d+)/.exec(broker.output())?.[1];
    expect(port).toBeDefined();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    const ch = await conn.createChannel();
    expect((await ch.assertQueue('', { exclusive: true })).queue).toMatch(/^amq\.gen-/);
    const closed = new Promise<Error>((resolve) => conn.on('close', resolve));
    conn.on('error', () => undefined);
    broker.child.kill('SIGTERM');
    expect((await closed).message).toMatch(/320/);
    expect(await broker.exited).toBe(0);
  });

  it('runs without an AMQP listener when --amqp-port is off', async () => {
    const broker = startBroker({ WARREN_AMQP_PORT: 'off' });
    await broker.listening;
    expect(broker.output()).not.toMatch(/AMQP 0-9-1 listening/);
    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);
  });

  it('stops cleanly on SIGINT', async () => {
    const broker = startBroker({});
    await broker.listening;
    broker.child.kill('SIGINT');
    expect(await broker.exited).toBe(0);
  });

  it('refuses a bad flag with a clear message and exit code 2', async () => {
    const broker = startBroker({}, ['--port', 'nope']);
    await expect(broker.listening).rejects.toThrow(/--port: expected an integer/);
    expect(await broker.exited).toBe(2);
  });
});
