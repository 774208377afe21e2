// @ts-check
/**
 * The bindings of an exchange (as source and as destination) or of a queue, live, with adding and
 * removing. Shared by the exchange and queue pages.
 */
import { api, exchangeSegment, path } from './api.js';
import { h } from './dom.js';
import { exchangeLabel } from './format.js';
import { ArgumentsEditor, Status, confirmAction, field, input, onSubmit, select, submit } from './forms.js';
import * as router from './router.js';
import { DataTable, rowKey } from './table.js';

/**
 * @typedef {Object} Binding
 * @property {string} source
 * @property {string} vhost
 * @property {string} destination
 * @property {'queue' | 'exchange'} destination_type
 * @property {string} routing_key
 * @property {Record<string, unknown>} arguments
 * @property {string} properties_key
 */

/** @param {Binding} b */
const bindingKey = (b) => rowKey(b.source, b.destination_type, b.destination, b.properties_key);

/** @param {Binding} b */
function unbindPath(b) {
  const kind = b.destination_type === 'queue' ? 'q' : 'e';
  return `${path`/bindings/${b.vhost}/e/${b.source}`}/${kind}${path`/${b.destination}/${b.properties_key}`}`;
}

/** @param {Record<string, unknown>} args */
function argsText(args) {
  const entries = Object.entries(args ?? {});
  return entries.length ? entries.map(([k, v]) => `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') : '';
}

/**
 * @param {'queue' | 'exchange'} type @param {string} vhost @param {string} name
 */
function objectHref(type, vhost, name) {
  return router.href([type === 'queue' ? 'queues' : 'exchanges', vhost, type === 'exchange' ? exchangeSegment(name) : name]);
}

/**
 * @param {{caption: string, show: 'source' | 'destination', status: Status, onUnbound: () => void}} options
 */
function bindingTable(options) {
  return new DataTable({
    caption: options.caption,
    key: bindingKey,
    empty: 'No bindings.',
    columns: [
      options.show === 'source'
        ? { id: 'source', label: 'From exchange', text: (b) => exchangeLabel(b.source), href: (b) => objectHref('exchange', b.vhost, b.source) }
        : {
            id: 'destination',
            label: 'To',
            text: (b) => `${b.destination} (${b.destination_type})`,
            href: (b) => objectHref(b.destination_type, b.vhost, b.destination),
          },
      { id: 'key', label: 'Routing key', text: (b) => b.routing_key, title: (b) => b.properties_key },
      { id: 'args', label: 'Arguments', text: (b) => argsText(b.arguments) },
      {
        id: 'actions',
        label: 'Actions',
        create: () => h('button', { type: 'button', class: 'small', text: 'Unbind' }),
        update: (el, b) => {
          const button = /** @type {HTMLButtonElement} */ (el);
          // The default exchange's implicit bindings cannot be removed.
          button.hidden = b.source === '';
          button.setAttribute('aria-label', `Unbind ${exchangeLabel(b.source)} → ${b.destination} (${b.routing_key || 'empty key'})`);
          button.onclick = async () => {
            const ok = await confirmAction({
              title: 'Remove binding?',
              message: `Remove the binding from ${exchangeLabel(b.source)} to ${b.destination_type} ${b.destination} with routing key "${b.routing_key}"?`,
              confirm: 'Unbind',
            });
            if (!ok) return;
            options.status.clear();
            try {
              await api.del(unbindPath(b));
              options.status.ok('Binding removed.');
              options.onUnbound();
            } catch (error) {
              options.status.error(error);
            }
          };
        },
      },
    ],
  });
}

/**
 * A datalist of names (exchanges or queues of a vhost) to help typing a binding's other end.
 * @param {string} vhost @param {'exchanges' | 'queues'} resource @param {AbortSignal} signal
 */
export function namesList(vhost, resource, signal) {
  const list = h('datalist', { id: `names-${resource}-${Math.random().toString(36).slice(2)}` });
  api
    .get(path`/${resource}/${vhost}`, { page: 1, page_size: 500, columns: 'name' }, signal)
    .then((/** @type {{items: Array<{name: string}>}} */ paged) => {
      list.replaceChildren(...paged.items.filter((x) => x.name !== '').map((x) => h('option', { value: x.name })));
    })
    .catch(() => undefined); // only a typing aid; the form still works without it
  return list;
}

/**
 * Bindings section of an exchange page: where it routes to, what routes into it, and a form to add one.
 * @param {import('./app.js').PageContext} ctx @param {string} vhost @param {string} exchange
 */
export function exchangeBindings(ctx, vhost, exchange) {
  const status = new Status();
  const refresh = () => poller.now();
  const outgoing = bindingTable({ caption: `Bindings from ${exchangeLabel(exchange)}`, show: 'destination', status, onUnbound: refresh });
  const incoming = bindingTable({ caption: `Bindings into ${exchangeLabel(exchange)}`, show: 'source', status, onUnbound: refresh });
  const seg = exchangeSegment(exchange);
  // The default exchange's bindings are one per queue (10,000 on a big broker) and say nothing new.
  const isDefault = exchange === '';
  const poller = ctx.every(3000, async () => {
    if (isDefault) return;
    const [source, destination] = await Promise.all([
      api.get(path`/exchanges/${vhost}/${seg}/bindings/source`, undefined, ctx.signal),
      api.get(path`/exchanges/${vhost}/${seg}/bindings/destination`, undefined, ctx.signal),
    ]);
    outgoing.setRows(source);
    incoming.setRows(destination);
  });

  const destType = select([
    { value: 'queue', label: 'Queue' },
    { value: 'exchange', label: 'Exchange' },
  ]);
  const queueNames = namesList(vhost, 'queues', ctx.signal);
  const exchangeNames = namesList(vhost, 'exchanges', ctx.signal);
  const destination = input({ required: true, list: queueNames.id });
  destType.addEventListener('change', () => destination.setAttribute('list', destType.value === 'queue' ? queueNames.id : exchangeNames.id));
  const routingKey = input();
  const args = new ArgumentsEditor('Binding arguments', {
    known: [
      { key: 'x-match', type: 'string', hint: 'headers exchanges: all, any, all-with-x, any-with-x' },
    ],
  });
  const formStatus = new Status();
  const form = h(
    'form',
    { class: 'grid-form', 'aria-label': 'Add binding from this exchange' },
    field('To', destType),
    field('Destination name', destination),
    field('Routing key', routingKey),
    args.element,
    queueNames,
    exchangeNames,
    h('div', { class: 'actions' }, submit('Bind')),
    formStatus.element,
  );
  onSubmit(form, formStatus, async () => {
    const kind = destType.value === 'queue' ? 'q' : 'e';
    await api.post(`${path`/bindings/${vhost}/e/${seg}`}/${kind}${path`/${destination.value}`}`, { routing_key: routingKey.value, arguments: args.value() });
    const added = `${destType.value} ${destination.value}`;
    routingKey.value = '';
    args.reset();
    refresh();
    return `Bound to ${added}.`;
  });

  return h(
    'section',
    { class: 'bindings', 'aria-labelledby': 'bindings-title' },
    h('h2', { id: 'bindings-title', text: 'Bindings' }),
    status.element,
    isDefault
      ? h('p', { class: 'hint', text: 'The default exchange routes to every queue by its name (each queue is bound with its name as routing key); it cannot be bound explicitly.' })
      : [
          h('h3', { text: 'This exchange routes to' }),
          outgoing.element,
          h('h3', { text: 'Exchanges routing into this one' }),
          incoming.element,
          h('div', { class: 'subform' }, h('h3', { text: 'Add binding from this exchange' }), form),
        ],
  );
}

/**
 * Bindings section of a queue page: every exchange routing to it, and a form to bind one.
 * @param {import('./app.js').PageContext} ctx @param {string} vhost @param {string} queue
 */
export function queueBindings(ctx, vhost, queue) {
  const status = new Status();
  const table = bindingTable({ caption: `Bindings of queue ${queue}`, show: 'source', status, onUnbound: () => poller.now() });
  const poller = ctx.every(3000, async () => {
    table.setRows(await api.get(path`/queues/${vhost}/${queue}/bindings`, undefined, ctx.signal));
  });
  const exchangeNames = namesList(vhost, 'exchanges', ctx.signal);
  const source = input({ required: true, list: exchangeNames.id });
  const routingKey = input();
  const args = new ArgumentsEditor('Binding arguments', { known: [{ key: 'x-match', type: 'string', hint: 'headers exchanges' }] });
  const formStatus = new Status();
  const form = h(
    'form',
    { class: 'grid-form', 'aria-label': 'Add binding to this queue' },
    field('From exchange', source),
    field('Routing key', routingKey),
    args.element,
    exchangeNames,
    h('div', { class: 'actions' }, submit('Bind')),
    formStatus.element,
  );
  onSubmit(form, formStatus, async () => {
    await api.post(path`/bindings/${vhost}/e/${source.value}/q/${queue}`, { routing_key: routingKey.value, arguments: args.value() });
    const from = source.value;
    routingKey.value = '';
    args.reset();
    poller.now();
    return `Bound from exchange ${from}.`;
  });
  return h(
    'section',
    { class: 'bindings', 'aria-labelledby': 'bindings-title' },
    h('h2', { id: 'bindings-title', text: 'Bindings' }),
    status.element,
    table.element,
    h('div', { class: 'subform' }, h('h3', { text: 'Add binding to this queue' }), form),
  );
}
