import type { Headers } from '../../src/broker/message.js';

/**
 * Death headers as Warren's dead-lettering writes them for a message published to `orders` with key
 * `order.paid`, rejected in `work`, then expired in `retry` (newest first), for the tests of retry.
 */
export function deathContent(): Headers {
  return {
    'x-death': [
      { count: 1, reason: 'expired', queue: 'retry', time: 1_700_000_100, exchange: 'dlx', 'routing-keys': ['work'] },
      { count: 2, reason: 'rejected', queue: 'work', time: 1_700_000_000, exchange: 'orders', 'routing-keys': ['order.paid'] },
    ],
    'x-first-death-queue': 'work',
    'x-first-death-reason': 'rejected',
    'x-first-death-exchange': 'orders',
    'x-last-death-queue': 'retry',
    'x-last-death-reason': 'expired',
    'x-last-death-exchange': 'dlx',
  };
}
