import type { MessageProperties } from '../broker/message.js';

/** Client frames after validation, with the schema defaults filled in (see schemas.ts). */
export type FrameId = string | number;

interface Base {
  id?: FrameId;
}

export type Table = Record<string, unknown>;

export interface WireProperties extends MessageProperties {
  persistent?: boolean;
}

export interface ConnectFrame extends Base {
  op: 'connect';
  vhost: string;
  username: string;
  password: string;
  heartbeat?: number;
  clientProperties: Table;
}
export interface CloseFrame extends Base {
  op: 'close';
}
export interface ExchangeDeclareFrame extends Base {
  op: 'exchange.declare';
  exchange: string;
  type?: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  passive: boolean;
  arguments: Table;
}
export interface ExchangeDeleteFrame extends Base {
  op: 'exchange.delete';
  exchange: string;
  ifUnused: boolean;
}
export interface ExchangeBindFrame extends Base {
  op: 'exchange.bind' | 'exchange.unbind';
  destination: string;
  source: string;
  routingKey: string;
  arguments: Table;
}
export interface QueueDeclareFrame extends Base {
  op: 'queue.declare';
  queue: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  passive: boolean;
  arguments: Table;
}
export interface QueueBindFrame extends Base {
  op: 'queue.bind' | 'queue.unbind';
  queue: string;
  exchange: string;
  routingKey: string;
  arguments: Table;
}
export interface QueuePurgeFrame extends Base {
  op: 'queue.purge';
  queue: string;
}
export interface QueueDeleteFrame extends Base {
  op: 'queue.delete';
  queue: string;
  ifUnused: boolean;
  ifEmpty: boolean;
}
export interface PublishFrame extends Base {
  op: 'publish';
  exchange: string;
  routingKey: string;
  body: string;
  encoding: 'utf8' | 'base64';
  mandatory: boolean;
  properties: WireProperties;
}
export interface QosFrame extends Base {
  op: 'qos';
  prefetch: number;
}
export interface ConsumeFrame extends Base {
  op: 'consume';
  queue: string;
  consumerTag: string;
  noAck: boolean;
  exclusive: boolean;
  prefetch?: number;
  arguments: Table;
}
export interface CancelFrame extends Base {
  op: 'cancel';
  consumerTag: string;
}
export interface AckFrame extends Base {
  op: 'ack';
  deliveryTag: number;
  multiple: boolean;
}
export interface NackFrame extends Base {
  op: 'nack';
  deliveryTag: number;
  multiple: boolean;
  requeue: boolean;
}
export interface RejectFrame extends Base {
  op: 'reject';
  deliveryTag: number;
  requeue: boolean;
}
export interface RecoverFrame extends Base {
  op: 'recover';
  requeue: boolean;
}
export interface GetFrame extends Base {
  op: 'get';
  queue: string;
  noAck: boolean;
}

export interface ClientFrames {
  connect: ConnectFrame;
  close: CloseFrame;
  'exchange.declare': ExchangeDeclareFrame;
  'exchange.delete': ExchangeDeleteFrame;
  'exchange.bind': ExchangeBindFrame;
  'exchange.unbind': ExchangeBindFrame;
  'queue.declare': QueueDeclareFrame;
  'queue.bind': QueueBindFrame;
  'queue.unbind': QueueBindFrame;
  'queue.purge': QueuePurgeFrame;
  'queue.delete': QueueDeleteFrame;
  publish: PublishFrame;
  qos: QosFrame;
  consume: ConsumeFrame;
  cancel: CancelFrame;
  ack: AckFrame;
  nack: NackFrame;
  reject: RejectFrame;
  recover: RecoverFrame;
  get: GetFrame;
}

export type ClientFrame = ClientFrames[keyof ClientFrames];
