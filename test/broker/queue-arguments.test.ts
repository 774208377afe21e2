import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/broker/errors.js';
import { parseQueueLimits, validateQueueArguments } from '../../src/broker/queue-arguments.js';
import { expectBrokerError, world } from './fixtures.js';

const TEN_YEARS_MS = 315_360_000_000;

function validate(args: Record<string, unknown>): BrokerError | undefined {
  return validateQueueArguments(args, 'q', '/');
}

function expectValid(args: Record<string, unknown>): void {
  const result = validate(args);
  expect(result, result?.message).toBeUndefined();
}

function expectInvalid(args: Record<string, unknown>, key: string): void {
  const result = validate(args);
  expect(result).toBeInstanceOf(BrokerError);
  expect(result?.reason).toBe('PRECONDITION_FAILED');
  expect(result?.code).toBe(406);
  expect(result?.message).toContain(`'${key}'`);
}

/** A readable test name for a value: JSON, except numbers JSON cannot spell. */
function label(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
}

interface ArgumentCases {
  readonly valid: readonly unknown[];
  readonly invalid: readonly unknown[];
}

const cases: Record<string, ArgumentCases> = {
  'x-message-ttl': {
    valid: [0, 1, 60_000, TEN_YEARS_MS],
    invalid: [-1, 1.5, TEN_YEARS_MS + 1, '1000', true, {}, [], Number.NaN, Number.POSITIVE_INFINITY],
  },
  'x-consumer-timeout': {
    valid: [0, 1, 1_800_000, TEN_YEARS_MS],
    invalid: [-1, 1.5, TEN_YEARS_MS + 1, '1000', true],
  },
  'x-expires': {
    valid: [1, 1000, TEN_YEARS_MS],
    invalid: [0, -1, 2.5, TEN_YEARS_MS + 1, '1000', false],
  },
  'x-max-length': {
    valid: [0, 1, 1_000_000, Number.MAX_SAFE_INTEGER],
    invalid: [-1, 0.5, '10', true, Number.MAX_SAFE_INTEGER + 2],
  },
  'x-max-length-bytes': {
    valid: [0, 1, 1024 * 1024],
    invalid: [-1, 1.1, '1024', [1]],
  },
  'x-overflow': {
    valid: ['drop-head', 'reject-publish', 'reject-publish-dlx'],
    invalid: ['DROP-HEAD', 'drop-tail', '', 1, true],
  },
  'x-dead-letter-exchange': {
    valid: ['', 'dlx', 'amq.direct'],
    invalid: [1, true, {}, ['dlx']],
  },
  'x-max-priority': {
    valid: [0, 1, 10, 255],
    invalid: [-1, 256, 1.5, '10'],
  },
  'x-single-active-consumer': {
    valid: [true, false],
    invalid: ['true', 1, 0],
  },
  'x-queue-type': {
    valid: ['classic'],
    invalid: ['quorum', 'stream', 'Classic', '', 1],
  },
  'x-queue-mode': {
    valid: ['default', 'lazy'],
    invalid: ['eager', '', 0],
  },
  'x-queue-version': {
    valid: [1, 2],
    invalid: [0, 3, 1.5, '2'],
  },
};

describe('validateQueueArguments', () => {
  it('accepts no arguments', () => {
    expectValid({});
  });

  for (const [key, { valid, invalid }] of Object.entries(cases)) {
    describe(key, () => {
      it.each(valid.map((v): [string, unknown] => [label(v), v]))('accepts %s', (_label, value) => {
        expectValid({ [key]: value });
      });
      it.each(invalid.map((v): [string, unknown] => [label(v), v]))('rejects %s', (_label, value) => {
        expectInvalid({ [key]: value }, key);
      });
      it('rejects null', () => {
        expectInvalid({ [key]: null }, key);
      });
    });
  }

  describe('x-dead-letter-routing-key', () => {
    it('is accepted with x-dead-letter-exchange', () => {
      expectValid({ 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead' });
      expectValid({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': '' });
    });

    it('is refused without x-dead-letter-exchange', () => {
      const result = validate({ 'x-dead-letter-routing-key': 'dead' });
      expect(result).toBeInstanceOf(BrokerError);
      expect(result?.reason).toBe('PRECONDITION_FAILED');
      expect(result?.message).toContain('x-dead-letter-routing-key');
      expect(result?.message).toContain('routing_key_but_no_dlx_defined');
    });

    it('must be a string', () => {
      for (const value of [1, true, {}, null]) {
        expectInvalid({ 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': value }, 'x-dead-letter-routing-key');
      }
    });
  });

  it("stores the application's own keys verbatim, whatever their value", () => {
    expectValid({ custom: { nested: [1, 'two'] }, plain: 'yes', number: 3.25 });
  });

  it.each(['x-custom', 'x-dead-letter-strategy', 'x-queue-leader-locator', 'x-max-in-memory-length'])(
    'refuses %s, an x- argument Warren does not implement, naming it',
    (key) => {
      const result = validateQueueArguments({ [key]: 'anything' }, 'q', '/');
      expect(result?.code).toBe(406);
      expect(result?.message).toBe(`invalid arg '${key}' for queue 'q' in vhost '/': Warren does not implement this argument`);
    },
  );

  it('refuses null even for unknown keys', () => {
    expectInvalid({ custom: null }, 'custom');
  });

  it('names the queue and vhost in the message', () => {
    const result = validateQueueArguments({ 'x-max-length': -1 }, 'orders', 'shop');
    expect(result?.message).toContain("'orders'");
    expect(result?.message).toContain("'shop'");
  });

  it('finds a bad argument among good ones', () => {
    expectInvalid({ 'x-max-length': 10, 'x-overflow': 'reject-publish', 'x-message-ttl': -5 }, 'x-message-ttl');
  });

  it('accepts a full valid set', () => {
    expectValid({
      'x-message-ttl': 1000,
      'x-expires': 60_000,
      'x-max-length': 10,
      'x-max-length-bytes': 4096,
      'x-overflow': 'reject-publish',
      'x-dead-letter-exchange': 'dlx',
      'x-dead-letter-routing-key': 'dead',
      'x-max-priority': 9,
      'x-single-active-consumer': true,
      'x-queue-type': 'classic',
      'x-queue-mode': 'lazy',
      'x-queue-version': 2,
    });
  });
});

describe('parseQueueLimits', () => {
  it('defaults', () => {
    expect(parseQueueLimits({})).toEqual({
      maxLength: undefined,
      maxLengthBytes: undefined,
      overflow: 'drop-head',
      singleActiveConsumer: false,
      expiresMs: undefined,
    });
  });

  it('reads the arguments Warren acts on', () => {
    expect(
      parseQueueLimits({
        'x-max-length': 5,
        'x-max-length-bytes': 100,
        'x-overflow': 'reject-publish',
        'x-single-active-consumer': true,
        'x-expires': 60_000,
      }),
    ).toEqual({ maxLength: 5, maxLengthBytes: 100, overflow: 'reject-publish', singleActiveConsumer: true, expiresMs: 60_000 });
    expect(parseQueueLimits({ 'x-overflow': 'reject-publish-dlx' }).overflow).toBe('reject-publish-dlx');
    expect(parseQueueLimits({ 'x-overflow': 'drop-head' }).overflow).toBe('drop-head');
    expect(parseQueueLimits({ 'x-max-length': 0 }).maxLength).toBe(0);
    expect(parseQueueLimits({ 'x-consumer-timeout': 0 }).consumerTimeout).toBe(0);
    expect(parseQueueLimits({ 'x-consumer-timeout': 5000 }).consumerTimeout).toBe(5000);
    expect(parseQueueLimits({ 'x-max-priority': 10 }).maxPriority).toBe(10);
    // 0 is a single level: plain FIFO, so no priority list at all.
    expect(parseQueueLimits({ 'x-max-priority': 0 }).maxPriority).toBeUndefined();
  });
});

describe('queue.declare applies the validation', () => {
  it('refuses an invalid argument with 406 and creates nothing', () => {
    const { vhost } = world();
    expectBrokerError(() => vhost.declareQueue({ queue: 'q', arguments: { 'x-max-length': -1 } }, null), 'PRECONDITION_FAILED', /x-max-length/);
    expect(vhost.queues.has('q')).toBe(false);
  });

  it('refuses x-dead-letter-routing-key without x-dead-letter-exchange', () => {
    const { vhost } = world();
    expectBrokerError(
      () => vhost.declareQueue({ queue: 'q', arguments: { 'x-dead-letter-routing-key': 'k' } }, null),
      'PRECONDITION_FAILED',
      /x-dead-letter-routing-key/,
    );
    expect(vhost.queues.has('q')).toBe(false);
  });

  it('refuses x-queue-type quorum', () => {
    const { vhost } = world();
    expectBrokerError(() => vhost.declareQueue({ queue: 'q', arguments: { 'x-queue-type': 'quorum' } }, null), 'PRECONDITION_FAILED');
  });

  it('stores valid arguments on the queue', () => {
    const { vhost } = world();
    const args = { 'x-max-length': 3, 'x-overflow': 'reject-publish', custom: 'kept' };
    vhost.declareQueue({ queue: 'q', arguments: args }, null);
    const queue = vhost.queues.get('q');
    expect(queue?.arguments).toEqual(args);
    expect(queue?.limits.maxLength).toBe(3);
    expect(queue?.limits.overflow).toBe('reject-publish');
  });
});
