/**
 * Warren's client, for Node (with the `ws` package) and browsers (native WebSocket), without a bundler.
 *
 *   const conn = await connect('ws://localhost:15672/ws', { username: 'guest', password: 'guest' });
 *   const conn = await connect('wss://broker.example.com/ws', { token: () => auth.getAccessToken() });
 */
export { connect, WarrenConnection } from './connection.js';
export type { ConnectionEvents } from './connection.js';
export { Consumer } from './consumer.js';
export { ReceivedMessage, ReturnedMessage, MessageContent } from './message.js';
export { WarrenError, ConnectionClosedError } from './errors.js';
export type { CloseInfo, Reason } from './errors.js';
export { encodeBase64, decodeBase64, encodeUtf8, decodeUtf8 } from './codec.js';
export type { WebSocketLike, WebSocketConstructor, NodeTlsOptions } from './socket.js';
export type { TokenProvider } from './token.js';
export { tokenExpiry } from './token.js';
export type * from './options.js';
export type * from './frames.js';
