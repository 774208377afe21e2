// @ts-check
/** The publish-a-message form, for an exchange page and (through the default exchange) a queue page. */
import { api, exchangeSegment, path } from './api.js';
import { h } from './dom.js';
import { ArgumentsEditor, Status, checkField, field, input, onSubmit, select, submit } from './forms.js';

/** Basic properties with their labels; integers are sent as JSON numbers, the rest as strings. */
const PROPERTIES = [
  { key: 'content_type', label: 'Content type', placeholder: 'application/json' },
  { key: 'content_encoding', label: 'Content encoding', placeholder: 'gzip' },
  { key: 'correlation_id', label: 'Correlation id' },
  { key: 'message_id', label: 'Message id' },
  { key: 'reply_to', label: 'Reply to' },
  { key: 'expiration', label: 'Expiration (ms)', numericText: true },
  { key: 'priority', label: 'Priority (0–255)', integer: true },
  { key: 'timestamp', label: 'Timestamp (seconds)', integer: true },
  { key: 'type', label: 'Type' },
  { key: 'app_id', label: 'App id' },
  { key: 'user_id', label: 'User id' },
];

/**
 * @param {{vhost: string, exchange: string, routingKey?: string, title?: string}} target
 *   with `routingKey` the key is fixed (publishing to a queue through the default exchange)
 */
export function publishForm(target) {
  const status = new Status();
  const routingKey = input({ name: 'routing_key', value: target.routingKey ?? '', readOnly: target.routingKey !== undefined });
  const persistent = h('input', { type: 'checkbox', checked: true, name: 'persistent' });
  const headers = new ArgumentsEditor('Headers');
  /** @type {Map<string, HTMLInputElement>} */
  const props = new Map();
  const propFields = PROPERTIES.map((p) => {
    const el = input({ name: p.key, placeholder: p.placeholder ?? '', inputMode: p.integer || p.numericText ? 'numeric' : undefined });
    props.set(p.key, el);
    return field(p.label, el);
  });
  const payload = h('textarea', { name: 'payload', rows: 6, spellcheck: false });
  const encoding = select([
    { value: 'string', label: 'Text (UTF-8)' },
    { value: 'base64', label: 'Base64' },
  ]);
  const form = h(
    'form',
    { class: 'grid-form publish', 'aria-label': target.title ?? 'Publish message' },
    field('Routing key', routingKey, target.routingKey !== undefined ? { hint: 'The default exchange routes by queue name.' } : {}),
    h('div', { class: 'field-group' }, checkField('Persistent (delivery mode 2)', persistent)),
    headers.element,
    h('details', { class: 'props' }, h('summary', { text: 'Properties' }), h('div', { class: 'prop-grid' }, ...propFields)),
    field('Payload', payload, { class: 'wide' }),
    field('Payload encoding', encoding),
    h('div', { class: 'actions' }, submit('Publish message')),
    status.element,
  );
  onSubmit(form, status, async () => {
    /** @type {Record<string, unknown>} */
    const properties = { delivery_mode: persistent.checked ? 2 : 1 };
    const headerTable = headers.value();
    if (Object.keys(headerTable).length) properties.headers = headerTable;
    for (const p of PROPERTIES) {
      const raw = props.get(p.key)?.value.trim() ?? '';
      if (raw === '') continue;
      if (p.integer) {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 0) throw new Error(`${p.label} must be a whole number.`);
        properties[p.key] = n;
      } else if (p.numericText) {
        if (!/^\d+$/.test(raw)) throw new Error(`${p.label} must be a whole number of milliseconds.`);
        properties[p.key] = raw;
      } else properties[p.key] = raw;
    }
    const result = /** @type {{routed: boolean}} */ (
      await api.post(path`/exchanges/${target.vhost}/${exchangeSegment(target.exchange)}/publish`, {
        routing_key: routingKey.value,
        properties,
        payload: payload.value,
        payload_encoding: encoding.value,
      })
    );
    return result.routed
      ? { text: 'Message published and routed to at least one queue.', kind: 'ok' }
      : { text: 'Message published, but no queue received it: nothing is bound for this routing key.', kind: 'warn' };
  });
  return form;
}
