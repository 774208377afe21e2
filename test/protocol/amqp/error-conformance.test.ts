// Every scenario of the AMQP error catalogue against Warren, checked against RabbitMQ 3.10.8's recorded
// answer (test/fixtures/amqp/rabbitmq-3.10.8-errors.json, re-recorded by capture-errors.mjs beside it):
// the same close (channel or connection), reply code, class id and method id, and a reply text matching
// the scenario's pattern. A scenario with a `difference` states Warren's own expected answer and why.
// With WARREN_TEST_AGAINST_RABBITMQ=1 and a RabbitMQ answering on localhost:5672 (management on
// 15672, guest/guest), the catalogue also runs live against it, checked against the same recording.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../../helpers/warren.js';
import { SCENARIOS } from './error-catalogue.js';
import { prepareBroker, runScenario, type Expected, type Observed, type Scenario } from './error-scenarios.js';

interface Recording {
  readonly broker: string;
  readonly scenarios: Readonly<Record<string, { readonly steps: string; readonly outcome: Observed }>>;
}

const recording = JSON.parse(readFileSync(new URL('../../fixtures/amqp/rabbitmq-3.10.8-errors.json', import.meta.url), 'utf8')) as Recording;

function recorded(s: Scenario): Observed {
  const r = recording.scenarios[s.id];
  if (!r) throw new Error(`scenario ${s.id} is not in the recording: re-run test/fixtures/amqp/capture-errors.mjs`);
  return r.outcome;
}

type Close = Extract<Observed, { readonly replyCode: number }>;
const isClose = (o: Observed): o is Close => o.kind === 'channel.close' || o.kind === 'connection.close';

/** RabbitMQ's recorded answer as an expectation: ids exact, text by the scenario's pattern. */
function fromRecording(s: Scenario): Expected {
  const r = recorded(s);
  if (isClose(r)) {
    if (!s.text) throw new Error(`scenario ${s.id} records a close but has no text pattern`);
    return { kind: r.kind, replyCode: r.replyCode, classId: r.classId, methodId: r.methodId, text: s.text };
  }
  if (r.kind === 'ok' || r.kind === 'socket-closed') return { kind: r.kind };
  return r;
}

function describeObserved(o: Observed): string {
  if (o.kind === 'channel.close' || o.kind === 'connection.close') return `${o.kind} ${o.replyCode} "${o.replyText}" (${o.classId}/${o.methodId})`;
  if (o.kind === 'protocol-header') return `protocol header bytes ${o.received}, socket ${o.closed ? 'closed' : 'left open'}`;
  return o.kind;
}

function check(observed: Observed, expected: Expected, what: string): void {
  const shown = `${what}: ${describeObserved(observed)}`;
  if (expected.kind === 'channel.close' || expected.kind === 'connection.close') {
    expect(observed.kind, shown).toBe(expected.kind);
    if (observed.kind !== 'channel.close' && observed.kind !== 'connection.close') return;
    expect({ replyCode: observed.replyCode, classId: observed.classId, methodId: observed.methodId }, shown).toEqual({
      replyCode: expected.replyCode,
      classId: expected.classId,
      methodId: expected.methodId,
    });
    expect(observed.replyText, shown).toMatch(expected.text);
    return;
  }
  expect(observed, shown).toEqual(expected);
}

describe('the recording', () => {
  it('holds exactly the catalogue, and every recorded close text matches its scenario pattern', () => {
    expect(Object.keys(recording.scenarios).sort()).toEqual(SCENARIOS.map((s) => s.id).sort());
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    for (const s of SCENARIOS) {
      const r = recorded(s);
      if (r.kind !== 'channel.close' && r.kind !== 'connection.close') continue;
      expect(s.text, `${s.id} records a close but has no text pattern`).toBeDefined();
      expect(r.replyText, s.id).toMatch(s.text ?? /$^/);
    }
  });

  it('states a difference only where Warren really differs from the recording', () => {
    for (const s of SCENARIOS.filter((x) => x.difference)) {
      const r = recorded(s);
      const w = s.difference?.warren;
      const same = w && r.kind === w.kind && (w.kind === 'channel.close' || w.kind === 'connection.close' ? 'replyCode' in r && r.replyCode === w.replyCode && r.classId === w.classId && r.methodId === w.methodId : JSON.stringify(r) === JSON.stringify(w));
      expect(same, `${s.id}: the stated difference equals RabbitMQ's recorded answer`).toBe(false);
      expect(s.difference?.reason.length, s.id).toBeGreaterThan(20);
    }
  });
});

describe('AMQP error conformance: Warren', () => {
  let warren: RunningWarren;
  beforeAll(async () => {
    warren = await startWarren();
    await prepareBroker(warren.url);
  });
  afterAll(async () => {
    await warren?.stop();
  });

  for (const s of SCENARIOS) {
    // A deliberate difference is named in the title and its reason is part of every failure message.
    it(s.difference ? `${s.id} [deliberate difference from RabbitMQ]` : s.id, async () => {
      const observed = await runScenario(s, warren.amqpPort);
      const why = s.difference ? ` (differs from RabbitMQ on purpose: ${s.difference.reason})` : '';
      check(observed, s.difference ? s.difference.warren : fromRecording(s), `Warren, ${s.steps}${why}`);
    });
  }
});

const RABBITMQ_PORT = 5672;
const wanted = process.env.WARREN_TEST_AGAINST_RABBITMQ === '1';
const rabbitUp = wanted && (await answers(RABBITMQ_PORT));

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

it.runIf(wanted && !rabbitUp)('WARREN_TEST_AGAINST_RABBITMQ=1 asks for a RabbitMQ on localhost:5672', () => {
  expect.fail('WARREN_TEST_AGAINST_RABBITMQ=1 is set but nothing answers on localhost:5672');
});

describe.runIf(rabbitUp)('AMQP error conformance: live RabbitMQ on localhost:5672', () => {
  beforeAll(async () => {
    await prepareBroker('http://localhost:15672');
  });
  for (const s of SCENARIOS) {
    it(s.id, async () => {
      check(await runScenario(s, RABBITMQ_PORT), fromRecording(s), `RabbitMQ, ${s.steps}`);
    });
  }
});
