/**
 * Policies in the domain: validation as RabbitMQ's rabbit_policies, which policy applies (precedence),
 * how operator policies and queue arguments combine (RabbitMQ's table), and live application.
 */
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/broker/errors.js';
import { effectiveDefinition, effectiveQueueArguments } from '../../src/broker/effective-policy.js';
import { parsePolicySpec, Policy, type PolicyKind, type PolicySpec } from '../../src/broker/policy.js';
import { PolicyBook } from '../../src/broker/policy-book.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fill, publish, queueOf, readyBodies, world } from './fixtures.js';

function spec(kind: PolicyKind, input: Parameters<typeof parsePolicySpec>[1]): PolicySpec {
  const parsed = parsePolicySpec(kind, input);
  if (parsed instanceof BrokerError) throw parsed;
  return parsed;
}

const policy = (name: string, pattern: string, priority: number, definition: Record<string, number | string>, kind: PolicyKind = 'policy'): Policy =>
  new Policy(kind, '/', name, spec(kind, { pattern, priority, definition }));

describe('policy validation', () => {
  const refused: Array<[string, Parameters<typeof parsePolicySpec>[1], RegExp]> = [
    ['a bad regex', { pattern: '(', definition: { 'message-ttl': 1 } }, /pattern should be regular expression but is invalid/],
    ['an unknown apply-to', { pattern: '.*', applyTo: 'topics', definition: { 'message-ttl': 1 } }, /apply-to 'topics' unrecognised/],
    ['a string TTL', { pattern: '.*', definition: { 'message-ttl': '1000' } }, /<<"1000">> is not a valid message TTL/],
    ['a negative TTL', { pattern: '.*', definition: { 'message-ttl': -1 } }, /-1 is not a valid message TTL/],
    ['expires 0', { pattern: '.*', definition: { expires: 0 } }, /0 is not a valid queue expiry/],
    ['a bad overflow', { pattern: '.*', definition: { overflow: 'drop-tail' } }, /not a valid overflow value/],
    ['an unknown key', { pattern: '.*', definition: { foo: 1 } }, /\[\{<<"foo">>,1\}\] are not recognised policy settings/],
    ['max-priority, which RabbitMQ takes from arguments only', { pattern: '.*', definition: { 'max-priority': 10 } }, /\[\{<<"max-priority">>,10\}\] are not recognised/],
    ['an empty definition', { pattern: '.*', definition: {} }, /no policy provided/],
    ['a missing pattern', { definition: { 'message-ttl': 1 } }, /^\[\{key_missing,pattern\}\]$/],
    ['a missing definition', { pattern: '.*' }, /^\[\{key_missing,definition\}\]$/],
    ['a non-numeric priority', { pattern: '.*', priority: 'high', definition: { 'message-ttl': 1 } }, /priority should be a number, actually was <<"high">>/],
  ];
  for (const [what, input, message] of refused) {
    it(`refuses ${what}`, () => {
      const result = parsePolicySpec('policy', input);
      expect(result).toBeInstanceOf(BrokerError);
      expect((result as BrokerError).reason).toBe('PRECONDITION_FAILED');
      if (!String(message).includes('key_missing')) expect((result as BrokerError).message).toMatch(/^Validation failed\n\n/);
      expect((result as BrokerError).message).toMatch(message);
    });
  }

  it('takes a fractional priority, as RabbitMQ, which then outranks the integer below it', () => {
    const book = new PolicyBook();
    book.put(policy('one', '.*', 1, { 'max-length': 1 }));
    book.put(new Policy('policy', '/', 'one-and-a-half', spec('policy', { pattern: '.*', priority: 1.5, definition: { 'max-length': 2 } })));
    expect(book.match('policy', 'queue', 'q')?.name).toBe('one-and-a-half');
  });

  it('takes a priority given as a string of digits and defaults apply-to to all', () => {
    expect(spec('policy', { pattern: '^q', priority: '5', definition: { 'max-length': 3 } })).toEqual({
      pattern: '^q',
      applyTo: 'all',
      priority: 5,
      definition: { 'max-length': 3 },
    });
  });

  it('accepts the keys Warren has no use for and reports them as inert', () => {
    const p = policy('ha', '.*', 0, { 'ha-mode': 'all', 'queue-mode': 'lazy', 'message-ttl': 5 });
    expect(p.inertKeys.sort()).toEqual(['ha-mode', 'queue-mode']);
  });

  it('limits operator policies to the keys RabbitMQ lets operators cap', () => {
    expect(spec('operator-policy', { pattern: '.*', definition: { 'max-length': 5, overflow: 'reject-publish' } }).definition).toEqual({
      'max-length': 5,
      overflow: 'reject-publish',
    });
    const dlx = parsePolicySpec('operator-policy', { pattern: '.*', definition: { 'dead-letter-exchange': 'x' } });
    expect((dlx as BrokerError).message).toMatch(/\[\{<<"dead-letter-exchange">>,<<"x">>\}\] are not recognised policy settings/);
  });
});

describe('which policy applies', () => {
  // Cases from RabbitMQ's documentation on policy priorities and apply-to.
  const cases: Array<{ what: string; policies: Policy[]; target: 'queue' | 'exchange'; name: string; expected: string | undefined }> = [
    { what: 'the only match', policies: [policy('a', '^orders', 0, { 'max-length': 1 })], target: 'queue', name: 'orders.eu', expected: 'a' },
    { what: 'no match', policies: [policy('a', '^orders$', 0, { 'max-length': 1 })], target: 'queue', name: 'orders.eu', expected: undefined },
    {
      what: 'the highest priority, not the most specific pattern',
      policies: [policy('specific', '^orders\\.eu$', 1, { 'max-length': 1 }), policy('broad', '.*', 5, { 'max-length': 2 })],
      target: 'queue',
      name: 'orders.eu',
      expected: 'broad',
    },
    {
      what: 'between equal priorities, the first name in order',
      policies: [policy('b', '.*', 3, { 'max-length': 1 }), policy('a', '.*', 3, { 'max-length': 2 })],
      target: 'queue',
      name: 'q',
      expected: 'a',
    },
    {
      what: 'none for an exchange from a queues-only policy',
      policies: [new Policy('policy', '/', 'qs', spec('policy', { pattern: '.*', applyTo: 'queues', definition: { 'max-length': 1 } }))],
      target: 'exchange',
      name: 'x',
      expected: undefined,
    },
    {
      what: 'a classic_queues policy for a queue (Warren queues are classic)',
      policies: [new Policy('policy', '/', 'cq', spec('policy', { pattern: '.*', applyTo: 'classic_queues', definition: { 'max-length': 1 } }))],
      target: 'queue',
      name: 'q',
      expected: 'cq',
    },
    {
      what: 'none from a quorum_queues policy',
      policies: [new Policy('policy', '/', 'qq', spec('policy', { pattern: '.*', applyTo: 'quorum_queues', definition: { 'max-length': 1 } }))],
      target: 'queue',
      name: 'q',
      expected: undefined,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const book = new PolicyBook();
      for (const p of c.policies) book.put(p);
      expect(book.match('policy', c.target, c.name)?.name).toBe(c.expected);
    });
  }
});

describe('how settings combine (RabbitMQ: lower wins for limits, operator wins for overflow, argument wins otherwise)', () => {
  const user = policy('user', '.*', 0, { 'message-ttl': 5000, 'max-length': 10, overflow: 'drop-head', 'dead-letter-exchange': 'p-dlx' });
  const op = policy('op', '.*', 0, { 'message-ttl': 1000, 'max-length': 20, overflow: 'reject-publish' }, 'operator-policy');

  it('merges operator values into the policy definition', () => {
    expect(effectiveDefinition(user, op)).toEqual({ 'message-ttl': 1000, 'max-length': 10, overflow: 'reject-publish', 'dead-letter-exchange': 'p-dlx' });
    expect(effectiveDefinition(undefined, op)).toEqual(op.definition);
    expect(effectiveDefinition(undefined, undefined)).toEqual({});
  });

  const table: Array<[string, Record<string, unknown>, Record<string, number | string>, Record<string, unknown>]> = [
    ['the lower TTL, argument lower', { 'x-message-ttl': 500 }, { 'message-ttl': 1000 }, { 'x-message-ttl': 500 }],
    ['the lower TTL, policy lower', { 'x-message-ttl': 5000 }, { 'message-ttl': 1000 }, { 'x-message-ttl': 1000 }],
    ['the lower max-length', { 'x-max-length': 5 }, { 'max-length': 3 }, { 'x-max-length': 3 }],
    ['the lower max-length-bytes', { 'x-max-length-bytes': 5 }, { 'max-length-bytes': 9 }, { 'x-max-length-bytes': 5 }],
    ['the lower expires', { 'x-expires': 60000 }, { expires: 1000 }, { 'x-expires': 1000 }],
    ['the lower delivery-limit', { 'x-delivery-limit': 1 }, { 'delivery-limit': 4 }, { 'x-delivery-limit': 1 }],
    ['the argument DLX', { 'x-dead-letter-exchange': 'mine' }, { 'dead-letter-exchange': 'theirs' }, { 'x-dead-letter-exchange': 'mine' }],
    ['the argument overflow', { 'x-overflow': 'reject-publish' }, { overflow: 'drop-head' }, { 'x-overflow': 'reject-publish' }],
    ['the argument consumer timeout', { 'x-consumer-timeout': 5 }, { 'consumer-timeout': 9 }, { 'x-consumer-timeout': 5 }],
    ['the policy value where there is no argument', {}, { 'dead-letter-routing-key': 'rk' }, { 'x-dead-letter-routing-key': 'rk' }],
  ];
  for (const [what, args, definition, expected] of table) {
    it(`takes ${what}`, () => {
      expect(effectiveQueueArguments(args, definition)).toMatchObject(expected);
    });
  }
});

describe('policies applied live', () => {
  function setup() {
    const clock = new FakeClock();
    const w = world({ clock });
    for (const name of ['dlx-a', 'dlx-b']) {
      w.vhost.declareExchange({ exchange: name, type: 'fanout' });
      w.vhost.declareQueue({ queue: `${name}-q` }, null);
      w.vhost.bind({ source: name, destination: `${name}-q`, destinationKind: 'queue' });
    }
    return { ...w, clock };
  }

  it('gives a new queue the policy that matches it, and an existing one a policy set later', () => {
    const w = setup();
    w.vhost.putPolicy('policy', 'len', { pattern: '^q', applyTo: 'queues', priority: 0, definition: { 'max-length': 2 } });
    w.vhost.declareQueue({ queue: 'q1' }, null);
    expect(queueOf(w.vhost, 'q1').limits.maxLength).toBe(2);
    expect(queueOf(w.vhost, 'q1').policy?.name).toBe('len');
    w.vhost.declareQueue({ queue: 'other' }, null);
    expect(queueOf(w.vhost, 'other').policy).toBeUndefined();
  });

  it('drops heads at once when a lower max-length arrives (drop-head), into the dead-letter exchange the policy names', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q' }, null);
    fill(w.vhost, 'q', ['1', '2', '3', '4']);
    w.vhost.putPolicy('policy', 'p', { pattern: '^q$', applyTo: 'all', priority: 0, definition: { 'max-length': 1, 'dead-letter-exchange': 'dlx-a' } });
    expect(readyBodies(queueOf(w.vhost, 'q'))).toEqual(['4']);
    expect(readyBodies(queueOf(w.vhost, 'dlx-a-q'))).toEqual(['1', '2', '3']);
  });

  it('keeps the excess under reject-publish and refuses the next publish', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q' }, null);
    fill(w.vhost, 'q', ['1', '2', '3']);
    w.vhost.putPolicy('policy', 'p', { pattern: '^q$', applyTo: 'all', priority: 0, definition: { 'max-length': 1, overflow: 'reject-publish' } });
    expect(readyBodies(queueOf(w.vhost, 'q'))).toEqual(['1', '2', '3']);
    expect(publish(w.vhost, '', 'q', '4').rejectedBy.map((q) => q.name)).toEqual(['q']);
  });

  it('sends the next dead letter to the dead-letter exchange of the policy now in force', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q', arguments: { 'x-max-length': 1 } }, null);
    w.vhost.putPolicy('policy', 'p', { pattern: '^q$', applyTo: 'all', priority: 0, definition: { 'dead-letter-exchange': 'dlx-a' } });
    fill(w.vhost, 'q', ['1', '2']);
    w.vhost.putPolicy('policy', 'p', { pattern: '^q$', applyTo: 'all', priority: 0, definition: { 'dead-letter-exchange': 'dlx-b' } });
    publish(w.vhost, '', 'q', '3');
    expect(readyBodies(queueOf(w.vhost, 'dlx-a-q'))).toEqual(['1']);
    expect(readyBodies(queueOf(w.vhost, 'dlx-b-q'))).toEqual(['2']);
    w.vhost.deletePolicy('policy', 'p');
    publish(w.vhost, '', 'q', '4');
    expect(queueOf(w.vhost, 'q').deadLetters).toBeUndefined();
    expect(readyBodies(queueOf(w.vhost, 'dlx-b-q'))).toEqual(['2']);
  });

  it('expires messages that arrive after a TTL policy is set (those already queued keep theirs, as in RabbitMQ)', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q' }, null);
    publish(w.vhost, '', 'q', 'before');
    w.vhost.putPolicy('policy', 'ttl', { pattern: '^q$', applyTo: 'queues', priority: 0, definition: { 'message-ttl': 1000 } });
    publish(w.vhost, '', 'q', 'after');
    w.clock.advance(1000);
    expect(readyBodies(queueOf(w.vhost, 'q'))).toEqual(['before']);
  });

  it('takes the lower of an operator policy and a policy, and falls back when the operator policy goes', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q', arguments: { 'x-max-length': 50 } }, null);
    w.vhost.putPolicy('policy', 'p', { pattern: '.*', applyTo: 'queues', priority: 0, definition: { 'max-length': 10 } });
    w.vhost.putPolicy('operator-policy', 'cap', { pattern: '.*', applyTo: 'queues', priority: 0, definition: { 'max-length': 5 } });
    const q = queueOf(w.vhost, 'q');
    expect(q.limits.maxLength).toBe(5);
    expect(q.operatorPolicy?.name).toBe('cap');
    w.vhost.deletePolicy('operator-policy', 'cap');
    expect(q.limits.maxLength).toBe(10);
    w.vhost.deletePolicy('policy', 'p');
    expect(q.limits.maxLength).toBe(50);
  });

  it('restarts the expiry countdown when a policy changes the period, and deletes the unused queue', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q' }, null);
    w.clock.advance(10_000);
    w.vhost.putPolicy('policy', 'exp', { pattern: '^q$', applyTo: 'queues', priority: 0, definition: { expires: 5000 } });
    w.clock.advance(4999);
    expect(w.vhost.queues.has('q')).toBe(true);
    w.clock.advance(1);
    expect(w.vhost.queues.has('q')).toBe(false);
  });

  it('gives an exchange the alternate exchange of its policy unless its own argument names one', () => {
    const w = setup();
    w.vhost.declareExchange({ exchange: 'x', type: 'direct' });
    w.vhost.declareExchange({ exchange: 'y', type: 'direct', arguments: { 'alternate-exchange': 'dlx-b' } });
    w.vhost.putPolicy('policy', 'ae', { pattern: '^[xy]$', applyTo: 'exchanges', priority: 0, definition: { 'alternate-exchange': 'dlx-a' } });
    publish(w.vhost, 'x', 'nowhere', 'to-a');
    publish(w.vhost, 'y', 'nowhere', 'to-b');
    expect(readyBodies(queueOf(w.vhost, 'dlx-a-q'))).toEqual(['to-a']);
    expect(readyBodies(queueOf(w.vhost, 'dlx-b-q'))).toEqual(['to-b']);
    expect(w.vhost.exchanges.get('x')?.policy?.name).toBe('ae');
  });

  it('reports each change to the definitions log, and nothing for a policy set to what it already is', () => {
    const changes: string[] = [];
    const w = world({ definitions: { definitionChanged: (c) => changes.push(c.kind === 'policy' ? `${c.policy.name}:${c.deleted}` : c.kind) } });
    const s = { pattern: '.*', applyTo: 'all', priority: 0, definition: { 'max-length': 1 } } as const;
    expect(w.vhost.putPolicy('policy', 'p', s)).toEqual({ created: true });
    expect(w.vhost.putPolicy('policy', 'p', s)).toEqual({ created: false });
    expect(w.vhost.deletePolicy('policy', 'p')).toBe(true);
    expect(w.vhost.deletePolicy('policy', 'p')).toBe(false);
    expect(changes.filter((c) => c.startsWith('p:'))).toEqual(['p:false', 'p:true']);
  });
});
