// @ts-check
/**
 * The message filter form shared by move, retry and their previews: the same fields build the `filter`
 * the server applies to `peek`, `move` and `retry-dead-letters`, so a preview shows exactly what an
 * action would take.
 */
import { h } from './dom.js';
import { field, input, select } from './forms.js';

const DEATH_REASONS = [
  { value: '', label: 'Any' },
  { value: 'rejected', label: 'rejected' },
  { value: 'expired', label: 'expired' },
  { value: 'maxlen', label: 'maxlen' },
  { value: 'delivery_limit', label: 'delivery_limit' },
];

const UNITS = [
  { value: '1000', label: 'seconds' },
  { value: '60000', label: 'minutes' },
  { value: '3600000', label: 'hours' },
  { value: '86400000', label: 'days' },
];

const HEADER_TYPES = [
  { value: 'string', label: 'String' },
  { value: 'number', label: 'Number' },
  { value: 'boolean', label: 'Boolean' },
];

/** @typedef {{routing_key?: string, headers?: Record<string, string | number | boolean>, payload_contains?: string, first_death_reason?: string, older_than_ms?: number, younger_than_ms?: number}} Filter */

/** An age limit: a number and its unit. @param {string} label @param {string} hint */
function ageField(label, hint) {
  const amount = input({ type: 'number', min: '0', step: 'any', inputMode: 'decimal', class: 'age-amount' });
  const unit = select(UNITS, { class: 'age-unit' });
  unit.value = '60000';
  const wrap = h('div', { class: 'age-field' }, field(label, amount, { hint }), field(`${label}: unit`, unit, { class: 'unit' }));
  /** @returns {number | undefined} milliseconds */
  const value = () => {
    const raw = amount.value.trim();
    if (raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${label} must be a number of ${unit.selectedOptions[0]?.text ?? 'units'}, 0 or more.`);
    return Math.round(n * Number(unit.value));
  };
  return { element: wrap, value, describe: () => `${amount.value.trim()} ${unit.selectedOptions[0]?.text ?? ''}` };
}

export class FilterForm {
  constructor() {
    this.routingKey = input({ placeholder: 'order.*', class: 'filter-rk' });
    this.headerName = input({ placeholder: 'x-tenant' });
    this.headerValue = input({ placeholder: 'acme' });
    this.headerType = select(HEADER_TYPES);
    this.payload = input({ placeholder: 'text in the body' });
    this.reason = select(DEATH_REASONS);
    this.older = ageField('Older than', 'Age since the broker accepted it (a dead letter: since it died).');
    this.younger = ageField('Younger than', '');
    this.element = h(
      'fieldset',
      { class: 'filter' },
      h('legend', { text: 'Only messages that match (every field given must hold; leave all empty for every message)' }),
      h(
        'div',
        { class: 'filter-grid' },
        field('Routing key (glob)', this.routingKey, { hint: '* any characters, dots too; ? one character; \\ escapes.' }),
        field('Payload contains', this.payload),
        field('First death reason', this.reason),
        field('Header name', this.headerName),
        field('Header value', this.headerValue),
        field('Header value type', this.headerType),
        this.older.element,
        this.younger.element,
      ),
    );
  }

  /**
   * The filter to send, or undefined when no field is set. Throws an Error naming a bad field.
   * @returns {Filter | undefined}
   */
  value() {
    /** @type {Filter} */
    const out = {};
    if (this.routingKey.value !== '') out.routing_key = this.routingKey.value;
    if (this.payload.value !== '') out.payload_contains = this.payload.value;
    if (this.reason.value !== '') out.first_death_reason = this.reason.value;
    const name = this.headerName.value.trim();
    if (name !== '') out.headers = { [name]: this.headerTyped(name) };
    else if (this.headerValue.value !== '') throw new Error('The header value has no header name.');
    const older = this.older.value();
    if (older !== undefined) out.older_than_ms = older;
    const younger = this.younger.value();
    if (younger !== undefined) out.younger_than_ms = younger;
    return Object.keys(out).length ? out : undefined;
  }

  /** @param {string} name @returns {string | number | boolean} */
  headerTyped(name) {
    const raw = this.headerValue.value;
    if (this.headerType.value === 'number') {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`The header "${name}" must be a number, not "${raw}".`);
      return n;
    }
    if (this.headerType.value === 'boolean') {
      if (/^(true|yes|1)$/i.test(raw.trim())) return true;
      if (/^(false|no|0)$/i.test(raw.trim())) return false;
      throw new Error(`The header "${name}" must be true or false, not "${raw}".`);
    }
    return raw;
  }

  /** The filter in words, for the confirmation. Call after value() succeeded. */
  describe() {
    const parts = [];
    if (this.routingKey.value !== '') parts.push(`routing key matches "${this.routingKey.value}"`);
    if (this.headerName.value.trim() !== '') parts.push(`header ${this.headerName.value.trim()} = ${JSON.stringify(this.headerTyped(this.headerName.value.trim()))}`);
    if (this.payload.value !== '') parts.push(`payload contains "${this.payload.value}"`);
    if (this.reason.value !== '') parts.push(`first died: ${this.reason.value}`);
    if (this.older.value() !== undefined) parts.push(`older than ${this.older.describe()}`);
    if (this.younger.value() !== undefined) parts.push(`younger than ${this.younger.describe()}`);
    return parts.join(', ');
  }
}
