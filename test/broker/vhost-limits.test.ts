import { describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { BrokerError } from '../../src/broker/errors.js';
import type { DefinitionChange } from '../../src/broker/persistence.js';
import { erlangTerm } from '../../src/broker/erlang-term.js';
import { limitReached, parseLimits, VHOST_LIMITS, withLimit, withoutLimit } from '../../src/broker/vhost-limits.js';

function brokerRecording(): { broker: Broker; changes: DefinitionChange[] } {
  const changes: DefinitionChange[] = [];
  const broker = new Broker({ definitions: { definitionChanged: (change) => changes.push(change) } });
  return { broker, changes };
}

function declare(broker: Broker, queue: string, vhost = '/'): unknown {
  try {
    return broker.vhost(vhost).declareQueue({ queue, durable: true }, null);
  } catch (error) {
    return error;
  }
}

describe('limit values', () => {
  it('treats negative as no limit, 0 as nothing allowed, N as N', () => {
    expect(limitReached(undefined, 1_000)).toBe(false);
    expect(limitReached(-1, 1_000)).toBe(false);
    expect(limitReached(0, 0)).toBe(true);
    expect(limitReached(2, 1)).toBe(false);
    expect(limitReached(2, 2)).toBe(true);
  });

  it('sets and clears one limit, keeping the others in a stable order', () => {
    const one = withLimit(VHOST_LIMITS, {}, 'max-queues', 5);
    expect(one).toEqual({ 'max-queues': 5 });
    const both = withLimit(VHOST_LIMITS, typeof one === 'string' ? {} : one, 'max-connections', -1);
    expect(Object.keys(both)).toEqual(['max-connections', 'max-queues']);
    expect(withoutLimit(VHOST_LIMITS, typeof both === 'string' ? {} : both, 'max-queues')).toEqual({ 'max-connections': -1 });
    expect(withoutLimit(VHOST_LIMITS, { 'max-queues': 1 }, 'max-nothing')).toEqual({ 'max-queues': 1 });
  });

  it('refuses unknown names and non-integers in RabbitMQ’s words', () => {
    expect(withLimit(VHOST_LIMITS, {}, 'max-exchanges', 3)).toBe('Unrecognised terms [{<<"max-exchanges">>,3}] in limits');
    expect(withLimit(VHOST_LIMITS, {}, 'max-queues', 'ten')).toBe('max-queues should be a number, actually was <<"ten">>');
    expect(withLimit(VHOST_LIMITS, {}, 'max-queues', 1.5)).toBe('max-queues should be a number, actually was 1.5');
    expect(withLimit(VHOST_LIMITS, {}, 'max-queues', null)).toBe('max-queues should be a number, actually was null');
    expect(parseLimits(VHOST_LIMITS, [1])).toBe('limits not a list [1]');
    expect(parseLimits(VHOST_LIMITS, { 'max-queues': 2, 'max-connections': true })).toBe('max-connections should be a number, actually was true');
    expect(parseLimits(VHOST_LIMITS, { 'max-queues': 2 })).toEqual({ 'max-queues': 2 });
    expect(erlangTerm({ a: [1, 'b'] })).toBe('#{<<"a">> => [1,<<"b">>]}');
  });
});

describe('max-queues on a vhost', () => {
  it('refuses a new queue once the limit is reached, with RabbitMQ’s text, and allows redeclaring', () => {
    const { broker } = brokerRecording();
    broker.vhost('/').updateLimits({ 'max-queues': 1 });
    declare(broker, 'first');
    const refused = declare(broker, 'second');
    expect(refused).toBeInstanceOf(BrokerError);
    expect(refused).toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED', message: "cannot declare queue 'second': queue limit in vhost '/' (1) is reached" });
    expect(broker.vhost('/').queues.has('second')).toBe(false);
    expect(declare(broker, 'first')).toMatchObject({ queue: 'first' });
  });

  it('with 0 refuses every queue; a negative limit refuses none', () => {
    const { broker } = brokerRecording();
    broker.vhost('/').updateLimits({ 'max-queues': 0 });
    expect(declare(broker, 'q')).toMatchObject({ code: 406 });
    broker.vhost('/').updateLimits({ 'max-queues': -1 });
    for (const name of ['a', 'b', 'c']) expect(declare(broker, name)).toMatchObject({ queue: name });
  });

  it('lowering the limit below the count removes nothing; deleting makes room again', () => {
    const { broker } = brokerRecording();
    const vhost = broker.vhost('/');
    for (const name of ['a', 'b', 'c']) declare(broker, name);
    vhost.updateLimits({ 'max-queues': 2 });
    expect([...vhost.queues.keys()]).toEqual(['a', 'b', 'c']);
    expect(declare(broker, 'd')).toMatchObject({ code: 406 });
    vhost.deleteQueue('a');
    expect(declare(broker, 'd')).toMatchObject({ code: 406 });
    vhost.deleteQueue('b');
    expect(declare(broker, 'd')).toMatchObject({ queue: 'd' });
  });

  it('is per vhost', () => {
    const { broker } = brokerRecording();
    broker.addVhost('other');
    broker.vhost('/').updateLimits({ 'max-queues': 0 });
    expect(declare(broker, 'q', 'other')).toMatchObject({ queue: 'q' });
  });

  it('tells each change as a durable vhost change, and is refused under the disk alarm', () => {
    const { broker, changes } = brokerRecording();
    changes.length = 0;
    broker.vhost('/').updateLimits({ 'max-connections': 3 });
    expect(changes).toEqual([{ kind: 'vhost', vhost: broker.vhost('/'), deleted: false }]);
    broker.diskAlarm = true;
    expect(() => broker.vhost('/').updateLimits({})).toThrow(/disk free space/);
    expect(broker.vhost('/').limits).toEqual({ 'max-connections': 3 });
  });

  it('is refused under the replication alarm, naming the shortfall, and allowed once it clears', () => {
    const { broker } = brokerRecording();
    broker.replicationAlarm = 'only 1 in-sync replica, min-insync is 2';
    expect(broker.writeAlarm).toBe(true);
    expect(broker.diskAlarm).toBe(false);
    expect(() => broker.vhost('/').updateLimits({ 'max-queues': 1 })).toThrow(
      'only 1 in-sync replica, min-insync is 2: vhost changes are refused until enough replicas are in sync',
    );
    broker.replicationAlarm = undefined;
    broker.vhost('/').updateLimits({ 'max-queues': 1 });
    expect(broker.vhost('/').limits).toEqual({ 'max-queues': 1 });
  });
});
