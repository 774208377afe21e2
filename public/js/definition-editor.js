// @ts-check
/**
 * Editor for a policy definition: rows of key and value. Keys are offered from the known ones with their
 * types; a known key's value is checked as it is typed and sent typed (numbers as JSON numbers). Where
 * free-form keys are allowed, their value is read as the chosen type.
 */
import { h, setText, uid } from './dom.js';
import { input, keyValueRow, typeSelect } from './forms.js';
import { INERT_TITLE, freeTypeOf, parseValue, valueText } from './policy-keys.js';

/** @typedef {import('./policy-keys.js').KnownKey} KnownKey */
/** @typedef {import('./policy-keys.js').FreeType} FreeType */

/**
 * @typedef {Object} Row
 * @property {HTMLElement} row
 * @property {HTMLInputElement} key
 * @property {HTMLInputElement} value
 * @property {HTMLSelectElement} type
 * @property {HTMLElement} note hint for a known key, or what is wrong with the value
 */

export class DefinitionEditor {
  /**
   * @param {string} legend
   * @param {{known: KnownKey[], freeForm: boolean}} options `freeForm: false` refuses keys not in `known`
   */
  constructor(legend, options) {
    this.legend = legend;
    this.known = new Map(options.known.map((k) => [k.key, k]));
    this.freeForm = options.freeForm;
    /** @type {Row[]} */
    this.rows = [];
    /** Numbers rows for their labels; never reused, so a removed row's number is not given twice. */
    this.count = 0;
    this.keyListId = uid('policy-keys');
    const offered = options.known.filter((k) => !k.inert);
    const keyList = h('datalist', { id: this.keyListId }, ...offered.map((k) => h('option', { value: k.key, label: k.hint })));
    /** Value suggestions per enum key, one datalist each. @type {Map<string, string>} */
    this.valueLists = new Map();
    const valueLists = options.known
      .filter((k) => k.kind === 'enum')
      .map((k) => {
        const id = uid('policy-values');
        this.valueLists.set(k.key, id);
        return h('datalist', { id }, ...(k.values ?? []).map((v) => h('option', { value: v })));
      });
    this.rowsEl = h('div', { class: 'def-rows' });
    const shortcuts = h(
      'div',
      { class: 'arg-shortcuts' },
      h('span', { class: 'hint', text: 'Add:' }),
      ...offered.map((k) => h('button', { type: 'button', class: 'link', text: k.key, title: k.hint, onclick: () => this.addKnown(k.key) })),
    );
    const note = this.freeForm ? null : h('p', { class: 'hint', text: `Operator policies accept only ${offered.map((k) => k.key).join(', ')}.` });
    this.element = h('fieldset', { class: 'args definition' }, h('legend', { text: legend }), keyList, ...valueLists, this.rowsEl, shortcuts, note);
    this.addRow();
  }

  /** @param {string} key */
  addKnown(key) {
    const row = this.rows.find((r) => r.key.value.trim() === key) ?? this.rows.find((r) => r.key.value === '' && r.value.value === '') ?? this.addRow();
    row.key.value = key;
    this.describe(row);
    this.ensureBlank();
    row.value.focus();
  }

  addRow() {
    this.count += 1;
    const n = this.count;
    const key = input({ id: uid('def-key'), placeholder: 'key', class: 'def-key', list: this.keyListId });
    const value = input({ id: uid('def-value'), placeholder: 'value', class: 'def-value' });
    const type = typeSelect({ id: uid('def-type'), class: 'def-type', hidden: !this.freeForm });
    const note = h('small', { id: uid('def-note'), class: 'def-note hint' });
    value.setAttribute('aria-describedby', note.id);
    const remove = h('button', { type: 'button', class: 'small link', text: 'Remove', 'aria-label': `Remove ${this.legend.toLowerCase()} row ${n}` });
    const row = keyValueRow('def-row', `${this.legend}: `, ` ${n}`, { key, value, type }, remove, note);
    /** @type {Row} */
    const entry = { row, key, value, type, note };
    key.addEventListener('input', () => {
      this.describe(entry);
      this.ensureBlank();
    });
    value.addEventListener('input', () => {
      if (value.getAttribute('aria-invalid')) this.check(entry);
      this.ensureBlank();
    });
    // Checked on saving, not on leaving the field: a note appearing on blur would move the Save button
    // away from under the pointer between press and release. Once marked, a row is rechecked as it is fixed.
    remove.addEventListener('click', () => {
      this.rows = this.rows.filter((r) => r !== entry);
      row.remove();
      this.ensureBlank();
    });
    this.rows.push(entry);
    this.rowsEl.append(row);
    return entry;
  }

  ensureBlank() {
    const last = this.rows[this.rows.length - 1];
    if (!last || last.key.value !== '' || last.value.value !== '') this.addRow();
  }

  /** Shows the key's type and offers its values; a known key's type is fixed. @param {Row} row */
  describe(row) {
    const known = this.known.get(row.key.value.trim());
    const listId = known ? this.valueLists.get(known.key) : undefined;
    if (listId) row.value.setAttribute('list', listId);
    else row.value.removeAttribute('list');
    row.type.disabled = known !== undefined;
    if (known) row.type.value = known.kind === 'integer' ? 'number' : 'string';
    row.value.inputMode = known?.kind === 'integer' ? 'numeric' : 'text';
    row.value.removeAttribute('aria-invalid');
    row.note.classList.remove('error');
    setText(row.note, known ? known.hint : '');
  }

  /**
   * Checks one row; marks it and returns the error when its value is bad.
   * @param {Row} row @returns {Error | null}
   */
  check(row) {
    const key = row.key.value.trim();
    if (key === '' && row.value.value === '') return this.mark(row, null);
    try {
      this.parse(row);
      return this.mark(row, null);
    } catch (error) {
      return this.mark(row, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** @param {Row} row @param {Error | null} error */
  mark(row, error) {
    if (error) {
      row.value.setAttribute('aria-invalid', 'true');
      row.note.classList.add('error');
      setText(row.note, error.message);
    } else {
      const wasInvalid = row.value.hasAttribute('aria-invalid');
      row.value.removeAttribute('aria-invalid');
      if (wasInvalid) this.describe(row);
    }
    return error;
  }

  /** @param {Row} row */
  parse(row) {
    const key = row.key.value.trim();
    if (key === '') throw new Error(`${this.legend}: the value "${row.value.value}" has no key.`);
    const known = this.known.get(key);
    if (!known && !this.freeForm) {
      const offered = [...this.known.values()].filter((k) => !k.inert).map((k) => k.key);
      throw new Error(`"${key}" cannot be set by an operator policy; use one of ${offered.join(', ')}.`);
    }
    return parseValue(known, key, row.value.value, /** @type {FreeType} */ (row.type.value));
  }

  /**
   * The definition, typed. Marks every bad row and throws the first error.
   * @returns {Record<string, unknown>}
   */
  value() {
    /** @type {Record<string, unknown>} */
    const out = {};
    /** @type {Error | null} */
    let first = null;
    for (const row of this.rows) {
      const key = row.key.value.trim();
      if (key === '' && row.value.value === '') continue;
      const error = this.check(row);
      if (error) {
        first ??= error;
        continue;
      }
      if (Object.hasOwn(out, key)) {
        first ??= new Error(`"${key}" is set twice.`);
        continue;
      }
      out[key] = this.parse(row);
    }
    if (first) throw first;
    if (Object.keys(out).length === 0) throw new Error(`${this.legend}: set at least one key.`);
    return out;
  }

  /**
   * Fills the editor with a stored definition; keys the server listed as inert say so under their row.
   * @param {Record<string, unknown>} definition @param {string[]} [inertKeys]
   */
  set(definition, inertKeys = []) {
    this.reset(false);
    for (const [key, value] of Object.entries(definition)) {
      const row = this.addRow();
      row.key.value = key;
      row.value.value = valueText(value);
      this.describe(row);
      if (!this.known.has(key)) row.type.value = freeTypeOf(value);
      if (inertKeys.includes(key)) setText(row.note, INERT_TITLE);
    }
    this.addRow();
  }

  /** @param {boolean} [blank] leave one empty row */
  reset(blank = true) {
    this.rows = [];
    this.count = 0;
    this.rowsEl.replaceChildren();
    if (blank) this.addRow();
  }
}
