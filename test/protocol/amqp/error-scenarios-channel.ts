// Error scenarios about broker semantics: missing and inequivalent entities, reserved names, delivery
// tags, consumers, exclusivity, permissions, properties and arguments, tx and confirm modes.
import { buildMethod, type FieldTable } from '../../../src/protocol/amqp/index.js';
import { channelOne, CLOSED_VHOST, declareQueue, LIMITED_USER, oneMethod, type Scenario } from './error-scenarios.js';

const limited = { user: LIMITED_USER.user, password: LIMITED_USER.password };
const table = (entries: FieldTable extends ReadonlyMap<string, infer V> ? [string, V][] : never): FieldTable => new Map(entries);
const publish = (exchange: string, routingKey: string) => buildMethod('basic.publish', { exchange, routingKey });

export const CHANNEL_SCENARIOS: readonly Scenario[] = [
  {
    id: 'queue-passive-missing',
    steps: "queue.declare passive 'missing-q'",
    text: /^NOT_FOUND - no queue 'missing-q' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('queue.declare', { queue: 'missing-q', passive: true })),
  },
  {
    id: 'exchange-passive-missing',
    steps: "exchange.declare passive 'missing-x'",
    text: /^NOT_FOUND - no exchange 'missing-x' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('exchange.declare', { exchange: 'missing-x', type: 'direct', passive: true })),
  },
  {
    id: 'queue-redeclare-durable',
    steps: "queue.declare 'redeclare-q' (transient), then again durable",
    text: /^PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'redeclare-q' in vhost 'conformance': received 'true' but current is 'false'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'redeclare-q');
      c.sendMethod(1, buildMethod('queue.declare', { queue: 'redeclare-q', durable: true }));
      return c.outcome(1);
    },
  },
  {
    id: 'queue-redeclare-argument',
    steps: "queue.declare 'redeclare-args-q' with x-max-length 10, then with 20",
    text: /^PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'redeclare-args-q' in vhost 'conformance': received '20' but current is '10'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'redeclare-args-q', { arguments: table([['x-max-length', { type: 'int32', value: 10 }]]) });
      c.sendMethod(1, buildMethod('queue.declare', { queue: 'redeclare-args-q', arguments: table([['x-max-length', { type: 'int32', value: 20 }]]) }));
      return c.outcome(1);
    },
  },
  {
    id: 'exchange-redeclare-type',
    steps: "exchange.declare 'redeclare-x' direct, then fanout",
    text: /^PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'redeclare-x' in vhost 'conformance': received 'fanout' but current is 'direct'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await c.call(1, buildMethod('exchange.declare', { exchange: 'redeclare-x', type: 'direct' }), 'exchange.declare-ok');
      c.sendMethod(1, buildMethod('exchange.declare', { exchange: 'redeclare-x', type: 'fanout' }));
      return c.outcome(1);
    },
  },
  {
    id: 'exchange-redeclare-alternate',
    steps: "exchange.declare 'redeclare-ae-x' with alternate-exchange 'a', then with 'b'",
    text: /^PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'redeclare-ae-x' in vhost 'conformance': received 'b' but current is 'a'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      const ae = (name: string): FieldTable => table([['alternate-exchange', { type: 'longstr', value: Buffer.from(name) }]]);
      await c.call(1, buildMethod('exchange.declare', { exchange: 'redeclare-ae-x', type: 'direct', arguments: ae('a') }), 'exchange.declare-ok');
      c.sendMethod(1, buildMethod('exchange.declare', { exchange: 'redeclare-ae-x', type: 'direct', arguments: ae('b') }));
      return c.outcome(1);
    },
  },
  {
    id: 'exchange-declare-amq-prefix',
    steps: "exchange.declare 'amq.custom' direct",
    text: /^ACCESS_REFUSED - exchange name 'amq.custom' contains reserved prefix 'amq.\*'$/,
    run: oneMethod(buildMethod('exchange.declare', { exchange: 'amq.custom', type: 'direct' })),
  },
  {
    id: 'queue-declare-amq-prefix',
    steps: "queue.declare 'amq.q'",
    text: /^ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.\*'$/,
    run: oneMethod(buildMethod('queue.declare', { queue: 'amq.q' })),
  },
  {
    id: 'exchange-declare-unknown-type',
    steps: "exchange.declare 'odd-x' of type 'no-such-type'",
    text: /^COMMAND_INVALID - unknown exchange type 'no-such-type'$/,
    run: oneMethod(buildMethod('exchange.declare', { exchange: 'odd-x', type: 'no-such-type' })),
  },
  {
    id: 'exchange-delete-amq-direct',
    steps: "exchange.delete 'amq.direct'",
    text: /^ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost 'conformance' not allowed$/,
    run: oneMethod(buildMethod('exchange.delete', { exchange: 'amq.direct' })),
  },
  {
    id: 'queue-bind-default-exchange',
    steps: "queue.declare 'bind-default-q', queue.bind it to the default exchange ''",
    text: /^ACCESS_REFUSED - operation not permitted on the default exchange$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'bind-default-q', { exclusive: true });
      c.sendMethod(1, buildMethod('queue.bind', { queue: 'bind-default-q', exchange: '' }));
      return c.outcome(1);
    },
  },
  {
    id: 'publish-missing-exchange',
    steps: "basic.publish to 'missing-x' (empty body)",
    text: /^NOT_FOUND - no exchange 'missing-x' in vhost 'conformance'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      c.publish(1, publish('missing-x', 'k'));
      return c.outcome(1);
    },
  },
  {
    id: 'publish-immediate',
    steps: "basic.publish to amq.direct with immediate=true",
    text: /^NOT_IMPLEMENTED - immediate=true$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      c.publish(1, buildMethod('basic.publish', { exchange: 'amq.direct', routingKey: 'k', immediate: true }));
      return c.outcome(1);
    },
  },
  ...(['basic.ack', 'basic.nack', 'basic.reject'] as const).map(
    (name): Scenario => ({
      id: `${name.slice(6)}-unknown-tag`,
      steps: `${name} of delivery tag 99 on a channel that has had no deliveries`,
      text: /^PRECONDITION_FAILED - unknown delivery tag 99$/,
      run: oneMethod(buildMethod(name, { deliveryTag: 99n })),
    }),
  ),
  {
    id: 'ack-twice',
    steps: "declare exclusive 'ack-twice-q', publish one message to it, basic.get (manual ack), basic.ack its tag twice",
    text: /^PRECONDITION_FAILED - unknown delivery tag 1$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'ack-twice-q', { exclusive: true });
      c.publish(1, publish('', 'ack-twice-q'), Buffer.from('m'));
      c.sendMethod(1, buildMethod('basic.get', { queue: 'ack-twice-q' }));
      const { method } = await c.expectContent(1, 'basic.get-ok');
      c.sendMethod(1, buildMethod('basic.ack', { deliveryTag: method.deliveryTag }));
      c.sendMethod(1, buildMethod('basic.ack', { deliveryTag: method.deliveryTag }));
      return c.outcome(1);
    },
  },
  {
    id: 'consume-tag-in-use',
    steps: "declare exclusive 'tag-q', basic.consume with tag 'ctag', then again with 'ctag'",
    text: /^NOT_ALLOWED - attempt to reuse consumer tag 'ctag'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'tag-q', { exclusive: true });
      await c.call(1, buildMethod('basic.consume', { queue: 'tag-q', consumerTag: 'ctag' }), 'basic.consume-ok');
      c.sendMethod(1, buildMethod('basic.consume', { queue: 'tag-q', consumerTag: 'ctag' }));
      return c.outcome(1);
    },
  },
  {
    id: 'consume-missing-queue',
    steps: "basic.consume from 'missing-q'",
    text: /^NOT_FOUND - no queue 'missing-q' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('basic.consume', { queue: 'missing-q' })),
  },
  {
    id: 'get-missing-queue',
    steps: "basic.get from 'missing-q'",
    text: /^NOT_FOUND - no queue 'missing-q' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('basic.get', { queue: 'missing-q' })),
  },
  {
    id: 'purge-missing-queue',
    steps: "queue.purge 'missing-q'",
    text: /^NOT_FOUND - no queue 'missing-q' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('queue.purge', { queue: 'missing-q' })),
  },
  ...(
    [
      ['consume', buildMethod('basic.consume', { queue: 'excl-q' })],
      ['get', buildMethod('basic.get', { queue: 'excl-q' })],
      ['declare', buildMethod('queue.declare', { queue: 'excl-q' })],
    ] as const
  ).map(
    ([what, method]): Scenario => ({
      id: `exclusive-queue-other-connection-${what}`,
      steps: `connection A declares exclusive 'excl-q'; connection B sends ${method.method} for it`,
      text: /^RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'excl-q' in vhost 'conformance'/,
      async run(ctx) {
        const owner = await channelOne(ctx);
        await declareQueue(owner, 1, 'excl-q', { exclusive: true });
        const c = await channelOne(ctx);
        c.sendMethod(1, method);
        return c.outcome(1);
      },
    }),
  ),
  {
    id: 'queue-delete-if-empty',
    steps: "declare exclusive 'not-empty-q', publish one message to it, queue.delete if-empty",
    text: /^PRECONDITION_FAILED - queue 'not-empty-q' in vhost 'conformance' not empty$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'not-empty-q', { exclusive: true });
      c.publish(1, publish('', 'not-empty-q'), Buffer.from('m'));
      c.sendMethod(1, buildMethod('queue.delete', { queue: 'not-empty-q', ifEmpty: true }));
      return c.outcome(1);
    },
  },
  {
    id: 'queue-delete-if-unused',
    steps: "declare exclusive 'in-use-q', basic.consume from it, queue.delete if-unused",
    text: /^PRECONDITION_FAILED - queue 'in-use-q' in vhost 'conformance' in use$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'in-use-q', { exclusive: true });
      await c.call(1, buildMethod('basic.consume', { queue: 'in-use-q' }), 'basic.consume-ok');
      c.sendMethod(1, buildMethod('queue.delete', { queue: 'in-use-q', ifUnused: true }));
      return c.outcome(1);
    },
  },
  {
    id: 'queue-bind-missing-exchange',
    steps: "declare exclusive 'bind-q', queue.bind it to 'missing-x'",
    text: /^NOT_FOUND - no exchange 'missing-x' in vhost 'conformance'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await declareQueue(c, 1, 'bind-q', { exclusive: true });
      c.sendMethod(1, buildMethod('queue.bind', { queue: 'bind-q', exchange: 'missing-x' }));
      return c.outcome(1);
    },
  },
  {
    id: 'queue-bind-missing-queue',
    steps: "queue.bind 'missing-q' to amq.direct",
    text: /^NOT_FOUND - no queue 'missing-q' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('queue.bind', { queue: 'missing-q', exchange: 'amq.direct' })),
  },
  {
    id: 'exchange-bind-missing-source',
    steps: "exchange.bind amq.fanout to 'missing-x'",
    text: /^NOT_FOUND - no exchange 'missing-x' in vhost 'conformance'$/,
    run: oneMethod(buildMethod('exchange.bind', { destination: 'amq.fanout', source: 'missing-x' })),
  },
  {
    id: 'qos-prefetch-size',
    steps: 'basic.qos prefetch_size 1000',
    text: /^NOT_IMPLEMENTED - prefetch_size!=0 \(1000\)$/,
    run: oneMethod(buildMethod('basic.qos', { prefetchSize: 1000 })),
  },
  {
    id: 'vhost-refused',
    steps: `guest: handshake, connection.open '${CLOSED_VHOST}' (guest has no permissions there)`,
    text: /^NOT_ALLOWED - access to vhost 'conformance-closed' refused for user 'guest'$/,
    async run(ctx) {
      const c = await ctx.handshake();
      c.sendMethod(0, buildMethod('connection.open', { virtualHost: CLOSED_VHOST }));
      return c.outcome(0);
    },
  },
  {
    id: 'configure-refused',
    steps: "limited: queue.declare 'other-q' (configure is ^lim- only)",
    text: /^ACCESS_REFUSED - access to queue 'other-q' in vhost 'conformance' refused for user 'limited'$/,
    run: oneMethod(buildMethod('queue.declare', { queue: 'other-q' }), limited),
  },
  {
    id: 'write-refused',
    steps: 'limited: basic.publish to amq.fanout (write is ^lim- only)',
    text: /^ACCESS_REFUSED - access to exchange 'amq.fanout' in vhost 'conformance' refused for user 'limited'$/,
    async run(ctx) {
      const c = await channelOne(ctx, limited);
      c.publish(1, publish('amq.fanout', ''));
      return c.outcome(1);
    },
  },
  {
    id: 'read-refused',
    steps: "limited: queue.declare exclusive 'lim-q' (allowed), basic.get from it (read is ^lim-r only)",
    text: /^ACCESS_REFUSED - access to queue 'lim-q' in vhost 'conformance' refused for user 'limited'$/,
    async run(ctx) {
      const c = await channelOne(ctx, limited);
      await declareQueue(c, 1, 'lim-q', { exclusive: true });
      c.sendMethod(1, buildMethod('basic.get', { queue: 'lim-q' }));
      return c.outcome(1);
    },
  },
  ...['abc', '-1'].map(
    (expiration): Scenario => ({
      id: `publish-expiration-${expiration === 'abc' ? 'not-a-number' : 'negative'}`,
      steps: `basic.publish to amq.direct with expiration '${expiration}'`,
      text: new RegExp(`^PRECONDITION_FAILED - invalid expiration '${expiration}'`),
      async run(ctx) {
        const c = await channelOne(ctx);
        c.publish(1, publish('amq.direct', 'k'), Buffer.from('m'), { expiration });
        return c.outcome(1);
      },
    }),
  ),
  {
    id: 'x-message-ttl-string',
    steps: "queue.declare 'ttl-q' with x-message-ttl as the longstr '1000'",
    text: /^PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'ttl-q' in vhost 'conformance'/,
    run: oneMethod(buildMethod('queue.declare', { queue: 'ttl-q', arguments: table([['x-message-ttl', { type: 'longstr', value: Buffer.from('1000') }]]) })),
  },
  {
    id: 'x-max-length-negative',
    steps: "queue.declare 'maxlen-q' with x-max-length -1",
    text: /^PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'maxlen-q' in vhost 'conformance'/,
    run: oneMethod(buildMethod('queue.declare', { queue: 'maxlen-q', arguments: table([['x-max-length', { type: 'int32', value: -1 }]]) })),
  },
  {
    id: 'tx-commit-without-select',
    steps: 'tx.commit on a channel without tx.select',
    text: /^PRECONDITION_FAILED - channel is not transactional$/,
    run: oneMethod(buildMethod('tx.commit', {})),
  },
  {
    id: 'tx-rollback-without-select',
    steps: 'tx.rollback on a channel without tx.select',
    text: /^PRECONDITION_FAILED - channel is not transactional$/,
    run: oneMethod(buildMethod('tx.rollback', {})),
  },
  {
    id: 'confirm-on-tx-channel',
    steps: 'tx.select, then confirm.select',
    text: /^PRECONDITION_FAILED - cannot switch from tx to confirm mode$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await c.call(1, buildMethod('tx.select', {}), 'tx.select-ok');
      c.sendMethod(1, buildMethod('confirm.select', {}));
      return c.outcome(1);
    },
  },
  {
    id: 'tx-on-confirm-channel',
    steps: 'confirm.select, then tx.select',
    text: /^PRECONDITION_FAILED - cannot switch from confirm to tx mode$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await c.call(1, buildMethod('confirm.select', {}), 'confirm.select-ok');
      c.sendMethod(1, buildMethod('tx.select', {}));
      return c.outcome(1);
    },
  },
  {
    id: 'channel-flow-active',
    steps: 'channel.flow active=true (answered with flow-ok, no error)',
    async run(ctx) {
      const c = await channelOne(ctx);
      const ok = await c.call(1, buildMethod('channel.flow', { active: true }), 'channel.flow-ok');
      if (!ok.active) throw new Error('channel.flow-ok active=false in answer to active=true');
      return c.outcome(1);
    },
  },
  {
    id: 'channel-flow-inactive',
    difference: {
      reason: 'RabbitMQ 3.10 does not implement channel.flow from clients (540); Warren does: deliveries on the channel pause until active=true, and flow-ok answers',
      warren: { kind: 'ok' },
    },
    steps: 'channel.flow active=false',
    text: /^NOT_IMPLEMENTED - active=false$/,
    run: oneMethod(buildMethod('channel.flow', { active: false })),
  },
  {
    id: 'cancel-unknown-tag',
    steps: "basic.cancel 'no-such-tag' (answered with cancel-ok, no error)",
    async run(ctx) {
      const c = await channelOne(ctx);
      await c.call(1, buildMethod('basic.cancel', { consumerTag: 'no-such-tag' }), 'basic.cancel-ok');
      return c.outcome(1);
    },
  },
];
