import { hostname } from 'node:os';
import type { Broker } from '../../broker/broker.js';
import type { ConnectionRegistry } from '../../protocol/connection-registry.js';
import type { DurableState } from '../../store/durable-state.js';
import { EventLoopLag } from './event-loop-lag.js';
import { PrometheusListener, type PrometheusListenerOptions } from './prometheus-listener.js';

export interface PrometheusParts {
  readonly broker: Broker;
  readonly connections: ConnectionRegistry;
  readonly durable: DurableState;
  memoryLimit(): number;
  readonly version: string;
  readonly log: PrometheusListenerOptions['log'];
  readonly createServer?: PrometheusListenerOptions['createServer'];
}

/** The listener for `--prometheus-port` with the port it is to bind, or undefined when it is `off`. */
export function createPrometheusListener(port: number | 'off', parts: PrometheusParts): { listener: PrometheusListener; port: number } | undefined {
  if (port === 'off') return undefined;
  const { durable } = parts;
  const listener = new PrometheusListener({
    source: {
      broker: parts.broker,
      connections: parts.connections,
      disk: () => durable.diskUsage(),
      storeStats: durable.messages.stats,
      memoryLimit: parts.memoryLimit,
      eventLoop: new EventLoopLag(),
      node: `warren@${hostname()}`,
      startedAt: Date.now(),
      version: parts.version,
    },
    log: parts.log,
    ...(parts.createServer ? { createServer: parts.createServer } : {}),
  });
  return { listener, port };
}
