// Assembles one channel's frames into commands: a method, and for basic.publish/return/deliver/get-ok
// the content header and body frames that must follow it. Any other order is 505 UNEXPECTED_FRAME, as
// RabbitMQ raises it.
import { ContentHeaderDecoder } from './content-header-decoder.js';
import { amqpError, type AmqpError } from './errors.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD } from './frame-constants.js';
import type { Frame } from './frame-reader.js';
import { HotMethodDecoder } from './hot-methods.js';
import { methodSpec } from './method-codec.js';
import { BASIC_CLASS_ID, type AmqpMethod, type BasicProperties } from './spec/methods.js';

export interface Command {
  readonly method: AmqpMethod;
  /** Present for content-carrying methods. */
  readonly content?: {
    readonly properties: BasicProperties;
    readonly body: Buffer;
    /**
     * The content header frame's payload as received, for reuse on the way out: a copy, no view into the
     * socket's chunks, shared by the commands whose headers are the same bytes; never written to.
     */
    readonly header: Uint8Array;
  };
}

type State =
  | { readonly at: 'method' }
  | { readonly at: 'header'; readonly method: AmqpMethod }
  | {
      readonly at: 'body';
      readonly method: AmqpMethod;
      readonly properties: BasicProperties;
      readonly header: Uint8Array;
      readonly size: number;
      /** The body frames so far: most bodies are one frame, which needs no array. */
      first: Buffer | undefined;
      more: Buffer[] | undefined;
      received: number;
    };

export class ContentAssembler {
  private state: State = { at: 'method' };
  private readonly methods = new HotMethodDecoder();
  private readonly headers = new ContentHeaderDecoder();

  /** The body size the content being assembled announced, once its header is in; undefined otherwise. */
  get announcedBodySize(): number | undefined {
    return this.state.at === 'body' ? this.state.size : undefined;
  }

  /** A finished command, undefined while content is still arriving, or an error. */
  push(frame: Frame): Command | AmqpError | undefined {
    const state = this.state;
    switch (frame.type) {
      case FRAME_METHOD: {
        if (state.at !== 'method') return this.unexpected(`method frame while expecting content ${state.at} for ${state.method.method}`, state.method);
        const method = this.methods.decode(frame.payload);
        if ('kind' in method) return method;
        if (method.method !== 'basic.publish' && !methodSpec(method.method).content) return { method };
        this.state = { at: 'header', method };
        return undefined;
      }
      case FRAME_HEADER: {
        if (state.at !== 'header') return this.unexpected('content header frame without a content-carrying method', state.at === 'body' ? state.method : undefined);
        // The class is checked before the header is decoded (RabbitMQ's order): a header of another class is
        // out of order, whatever it holds.
        const classId = state.method.method === 'basic.publish' ? BASIC_CLASS_ID : methodSpec(state.method.method).classId;
        const headerClass = frame.payload.length >= 2 ? (frame.payload[0] as number) * 256 + (frame.payload[1] as number) : -1;
        if (headerClass !== classId) {
          return this.unexpected(`expected content header for class ${classId}, got one for class ${headerClass} instead`, state.method);
        }
        const header = this.headers.decode(frame.payload);
        if ('kind' in header) return header;
        const kept = this.headers.keep(frame.payload);
        if (header.bodySize === 0) return this.finish(state.method, header.properties, kept, Buffer.alloc(0));
        this.state = { at: 'body', method: state.method, properties: header.properties, header: kept, size: header.bodySize, first: undefined, more: undefined, received: 0 };
        return undefined;
      }
      case FRAME_BODY: {
        if (state.at !== 'body') return this.unexpected('content body frame without a content header', state.at === 'header' ? state.method : undefined);
        state.received += frame.payload.length;
        if (state.received > state.size) return this.unexpected(`content body of ${state.received} bytes exceeds the header's ${state.size}`, state.method);
        if (state.first === undefined) state.first = frame.payload;
        else (state.more ??= [state.first]).push(frame.payload);
        if (state.received < state.size) return undefined;
        const body = state.more === undefined ? frame.payload : Buffer.concat(state.more, state.size);
        return this.finish(state.method, state.properties, state.header, body);
      }
      case FRAME_HEARTBEAT:
        // RabbitMQ's text for a frame it does not expect: its type and octets.
        return this.unexpected('type 8, all octets = <<>>');
    }
  }

  private finish(method: AmqpMethod, properties: BasicProperties, header: Uint8Array, body: Buffer): Command {
    this.state = { at: 'method' };
    return { method, content: { properties, body, header } };
  }

  private unexpected(detail: string, method?: AmqpMethod): AmqpError {
    const spec = method ? methodSpec(method.method) : undefined;
    return amqpError('UNEXPECTED_FRAME', detail, spec?.classId ?? 0, spec?.methodId ?? 0);
  }
}
