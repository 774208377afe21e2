// @ts-check
/**
 * Form building blocks: labelled fields, an error line next to the button that caused it, a
 * typed-arguments editor, and a confirmation dialog for destructive actions.
 */
import { messageOf } from './api.js';
import { h, uid } from './dom.js';

/**
 * A label and its control. `hint` is tied to the control with aria-describedby.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @param {{hint?: string, class?: string}} [options]
 */
export function field(label, control, options = {}) {
  if (!control.id) control.id = uid('f');
  const wrap = h('div', { class: `field ${options.class ?? ''}` }, h('label', { for: control.id, text: label }), control);
  if (options.hint) {
    const hintId = uid('hint');
    wrap.append(h('small', { id: hintId, class: 'hint', text: options.hint }));
    control.setAttribute('aria-describedby', hintId);
  }
  return wrap;
}

/** A checkbox with its label after it. @param {string} label @param {HTMLInputElement} input */
export function checkField(label, input) {
  if (!input.id) input.id = uid('c');
  return h('div', { class: 'field check' }, input, h('label', { for: input.id, text: label }));
}

/** @param {Record<string, unknown>} [props] */
export function input(props = {}) {
  return h('input', { type: 'text', autocomplete: 'off', spellcheck: false, ...props });
}

/**
 * @param {Array<string | {value: string, label: string}>} options
 * @param {Record<string, unknown>} [props]
 */
export function select(options, props = {}) {
  const el = h('select', props);
  setOptions(el, options);
  return el;
}

/**
 * Replaces a select's options, keeping the selected value when it is still offered.
 * @param {HTMLSelectElement} el
 * @param {Array<string | {value: string, label: string}>} options
 */
export function setOptions(el, options) {
  const previous = el.value;
  el.replaceChildren(
    ...options.map((o) => (typeof o === 'string' ? h('option', { value: o, text: o }) : h('option', { value: o.value, text: o.label }))),
  );
  if ([...el.options].some((o) => o.value === previous)) el.value = previous;
}

/**
 * The message line of a form: errors in plain words (role=alert), or a success note.
 */
export class Status {
  constructor() {
    this.element = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', hidden: true });
  }

  /** @param {unknown} error */
  error(error) {
    this.element.className = 'status error';
    this.element.setAttribute('role', 'alert');
    this.element.textContent = messageOf(error);
    this.element.hidden = false;
  }

  /** @param {string} text @param {'ok' | 'warn'} [kind] */
  ok(text, kind = 'ok') {
    this.element.className = `status ${kind}`;
    this.element.setAttribute('role', 'status');
    this.element.textContent = text;
    this.element.hidden = false;
  }

  clear() {
    this.element.hidden = true;
    this.element.textContent = '';
  }
}

/**
 * Wires a form's submit: prevents the page load, disables the submit button while the action runs,
 * shows the outcome in `status`. The action returns a success message (or nothing).
 * @param {HTMLFormElement} form
 * @param {Status} status
 * @param {() => Promise<string | {text: string, kind: 'ok' | 'warn'} | void>} action
 */
export function onSubmit(form, status, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = /** @type {HTMLButtonElement[]} */ ([...form.querySelectorAll('button[type=submit]')]);
    buttons.forEach((b) => (b.disabled = true));
    status.clear();
    form.setAttribute('aria-busy', 'true');
    try {
      const result = await action();
      if (typeof result === 'string') status.ok(result);
      else if (result) status.ok(result.text, result.kind);
    } catch (error) {
      status.error(error);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      form.removeAttribute('aria-busy');
    }
  });
}

/**
 * Runs a button's action with the same disabling and error reporting as a form.
 * @param {HTMLButtonElement} button
 * @param {Status} status
 * @param {() => Promise<string | void>} action
 */
export function onClick(button, status, action) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.clear();
    try {
      const result = await action();
      if (typeof result === 'string') status.ok(result);
    } catch (error) {
      status.error(error);
    } finally {
      button.disabled = false;
    }
  });
}

/** @param {string} text @param {Record<string, unknown>} [props] */
export function submit(text, props = {}) {
  return h('button', { type: 'submit', class: 'primary', text, ...props });
}

/** @typedef {'string' | 'number' | 'boolean' | 'json'} ArgType */

/**
 * Editor for an AMQP argument table (queue/exchange arguments, binding arguments, message headers):
 * rows of key, value and type; a new blank row appears when the last one is used.
 */
/**
 * The type a free-form value is read as, for the key/value editors.
 * @param {Record<string, unknown>} props
 */
export function typeSelect(props) {
  return select(
    [
      { value: 'string', label: 'String' },
      { value: 'number', label: 'Number' },
      { value: 'boolean', label: 'Boolean' },
      { value: 'json', label: 'List / object (JSON)' },
    ],
    props,
  );
}

/**
 * One `key = value (type)` row of a key/value editor, each control with a screen-reader label
 * `<prefix>key<suffix>`; `extra` follows the controls.
 * @param {string} cls
 * @param {string} prefix
 * @param {string} suffix
 * @param {{key: HTMLElement, value: HTMLElement, type: HTMLElement}} controls
 * @param {...HTMLElement} extra
 */
export function keyValueRow(cls, prefix, suffix, { key, value, type }, ...extra) {
  const label = (/** @type {HTMLElement} */ control, /** @type {string} */ what) =>
    h('label', { for: control.id, class: 'sr-only', text: `${prefix}${what}${suffix}` });
  return h(
    'div',
    { class: cls },
    label(key, 'key'),
    key,
    h('span', { 'aria-hidden': 'true', text: '=' }),
    label(value, 'value'),
    value,
    label(type, 'type'),
    type,
    ...extra,
  );
}

export class ArgumentsEditor {
  /**
   * @param {string} legend
   * @param {{known?: Array<{key: string, type: ArgType, hint?: string}>}} [options]
   */
  constructor(legend, options = {}) {
    this.rowsEl = h('div', { class: 'arg-rows' });
    /** @type {Array<{key: HTMLInputElement, value: HTMLInputElement, type: HTMLSelectElement, row: HTMLElement}>} */
    this.rows = [];
    this.legend = legend;
    const known = options.known ?? [];
    const shortcuts = known.length
      ? h(
          'div',
          { class: 'arg-shortcuts' },
          h('span', { class: 'hint', text: 'Add:' }),
          ...known.map((k) =>
            h('button', { type: 'button', class: 'link', text: k.key, title: k.hint ?? '', onclick: () => this.addKnown(k.key, k.type) }),
          ),
        )
      : null;
    this.element = h('fieldset', { class: 'args' }, h('legend', { text: legend }), this.rowsEl, shortcuts);
    this.addRow();
  }

  /** @param {string} key @param {ArgType} type */
  addKnown(key, type) {
    let row = this.rows.find((r) => r.key.value === key) ?? this.rows.find((r) => r.key.value === '' && r.value.value === '');
    if (!row) row = this.addRow();
    row.key.value = key;
    row.type.value = type;
    if (type === 'boolean' && row.value.value === '') row.value.value = 'true';
    this.ensureBlank();
    row.value.focus();
  }

  addRow() {
    const n = this.rows.length + 1;
    const key = input({ id: uid('arg-key'), placeholder: 'key', class: 'arg-key' });
    const value = input({ id: uid('arg-value'), placeholder: 'value', class: 'arg-value' });
    const type = typeSelect({ id: uid('arg-type'), class: 'arg-type' });
    const row = keyValueRow('arg-row', `${this.legend}: `, ` ${n}`, { key, value, type });
    const entry = { key, value, type, row };
    key.addEventListener('input', () => this.ensureBlank());
    value.addEventListener('input', () => this.ensureBlank());
    this.rows.push(entry);
    this.rowsEl.append(row);
    return entry;
  }

  ensureBlank() {
    const last = this.rows[this.rows.length - 1];
    if (!last || last.key.value !== '' || last.value.value !== '') this.addRow();
  }

  /**
   * The table, typed. Throws an Error naming the bad row.
   * @returns {Record<string, unknown>}
   */
  value() {
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const { key, value, type } of this.rows) {
      const name = key.value.trim();
      if (name === '' && value.value === '') continue;
      if (name === '') throw new Error(`${this.legend}: a value "${value.value}" has no key.`);
      out[name] = parseTyped(name, value.value, /** @type {ArgType} */ (type.value));
    }
    return out;
  }

  reset() {
    this.rows = [];
    this.rowsEl.replaceChildren();
    this.addRow();
  }
}

/** @param {string} key @param {string} raw @param {ArgType} type @returns {unknown} */
function parseTyped(key, raw, type) {
  switch (type) {
    case 'number': {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`"${key}" must be a number, not "${raw}".`);
      return n;
    }
    case 'boolean':
      if (/^(true|yes|1)$/i.test(raw.trim())) return true;
      if (/^(false|no|0)$/i.test(raw.trim())) return false;
      throw new Error(`"${key}" must be true or false, not "${raw}".`);
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw new Error(`"${key}" is not valid JSON.`);
      }
    default:
      return raw;
  }
}

/**
 * Asks before a destructive action. Resolves true only on an explicit confirm.
 * @param {{title: string, message: string, confirm: string, typeToConfirm?: string}} options
 * @returns {Promise<boolean>}
 */
export function confirmAction(options) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const typed = options.typeToConfirm !== undefined ? input({ id: uid('confirm') }) : null;
    const ok = h('button', { type: 'submit', class: 'danger', text: options.confirm, value: 'ok', disabled: typed !== null });
    const cancel = h('button', { type: 'submit', text: 'Cancel', value: 'cancel', formNoValidate: true });
    if (typed) typed.addEventListener('input', () => (ok.disabled = typed.value !== options.typeToConfirm));
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId, text: options.title }),
        h('p', { text: options.message }),
        typed ? field(`Type "${options.typeToConfirm}" to confirm`, typed) : null,
        h('div', { class: 'actions' }, cancel, ok),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    (typed ?? cancel).focus();
  });
}

/** A collapsible panel for secondary forms. @param {string} title @param {...Node} content */
export function panel(title, ...content) {
  return h('details', { class: 'panel' }, h('summary', null, h('h2', { text: title })), h('div', { class: 'panel-body' }, ...content));
}
