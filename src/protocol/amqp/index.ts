// The AMQP 0-9-1 wire codec: pure functions and classes over bytes, no sockets. See docs/amqp.md.
export * from './errors.js';
export * from './frame-constants.js';
export * from './field-table.js';
export * from './frame-reader.js';
export * from './frame-writer.js';
export * from './method-codec.js';
export * from './content.js';
export * from './content-assembler.js';
export type { AmqpMethod, BasicProperties } from './spec/methods.js';
export * from './build-method.js';
export * from './connection-auth.js';
export * from './connection-types.js';
export * from './connection-machine.js';
export * from './heartbeat-monitor.js';
export * from './header-values.js';
