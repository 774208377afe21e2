// @ts-check
/**
 * A table that is patched in place: rows are keyed, cells are updated only when their text changes, rows
 * are moved only when out of order. A live refresh therefore keeps scroll position, focus, selection and
 * anything typed into a row. Also the pager for RabbitMQ's paged lists.
 */
import { h, setAttr, setText, uid } from './dom.js';
import { num } from './format.js';

/**
 * @template T
 * @typedef {Object} Column
 * @property {string} id
 * @property {string} label
 * @property {string} [sort] API sort field; makes the header a sort button
 * @property {boolean} [numeric] right-aligned
 * @property {(row: T) => string} [text] plain text cell
 * @property {(row: T) => string} [href] with `text`: the cell is a link
 * @property {(row: T) => string} [title] tooltip
 * @property {(row: T) => HTMLElement} [create] custom cell content, created once per row
 * @property {(el: HTMLElement, row: T) => void} [update] patches custom content on refresh
 */

/**
 * @template T
 * @typedef {Object} TableOptions
 * @property {Column<T>[]} columns
 * @property {(row: T) => string} key
 * @property {string} caption accessible name of the table
 * @property {string} [empty] shown when there are no rows
 * @property {boolean} [selectable] a checkbox per row
 * @property {(rowLabel: T) => string} [rowLabel] names a row for its checkbox label
 * @property {(selected: Set<string>) => void} [onSelect]
 * @property {(sort: string) => void} [onSort]
 */

/**
 * A row key from its parts (`rowKey(vhost, name)`): JSON, so no separator can collide with a name.
 * @param {...string} parts
 */
export function rowKey(...parts) {
  return JSON.stringify(parts);
}

/** @template T */
export class DataTable {
  /** @param {TableOptions<T>} options */
  constructor(options) {
    this.options = options;
    /** @type {Set<string>} */
    this.selected = new Set();
    /** @type {Map<string, {tr: HTMLTableRowElement, row: T, check?: HTMLInputElement, cells: HTMLTableCellElement[]}>} */
    this.rows = new Map();
    /** @type {{sort: string, reverse: boolean}} */
    this.sortState = { sort: '', reverse: false };
    this.tbody = h('tbody');
    this.emptyRow = h('tr', { class: 'empty' }, h('td', { colSpan: options.columns.length + (options.selectable ? 1 : 0), text: options.empty ?? 'Nothing here.' }));
    /** @type {Map<string, HTMLTableCellElement>} */
    this.headers = new Map();
    /** @type {HTMLInputElement | undefined} */
    this.selectAll = undefined;
    const headRow = h('tr');
    if (options.selectable) {
      const id = uid('select-all');
      this.selectAll = h('input', { type: 'checkbox', id, onchange: () => this.toggleAll() });
      headRow.append(h('th', { class: 'check', scope: 'col' }, this.selectAll, h('label', { for: id, class: 'sr-only', text: 'Select all rows shown' })));
    }
    for (const column of options.columns) {
      const th = h('th', { scope: 'col', class: column.numeric ? 'num' : '' });
      if (column.sort && options.onSort) {
        const sortKey = column.sort;
        th.append(h('button', { type: 'button', class: 'sort', onclick: () => options.onSort?.(sortKey) }, column.label, h('span', { class: 'sort-icon', 'aria-hidden': 'true' })));
      } else th.textContent = column.label;
      this.headers.set(column.id, th);
      headRow.append(th);
    }
    this.table = h('table', { class: 'data' }, h('caption', { class: 'sr-only', text: options.caption }), h('thead', null, headRow), this.tbody);
    this.element = h('div', { class: 'table-wrap' }, this.table);
    this.tbody.append(this.emptyRow);
  }

  /** Shows which column the list is sorted by. @param {string} sort @param {boolean} reverse */
  setSort(sort, reverse) {
    this.sortState = { sort, reverse };
    for (const column of this.options.columns) {
      const th = this.headers.get(column.id);
      if (!th || !column.sort) continue;
      const active = column.sort === sort;
      setAttr(th, 'aria-sort', active ? (reverse ? 'descending' : 'ascending') : null);
    }
  }

  /** Replaces the data, patching the DOM in place. @param {T[]} data */
  setRows(data) {
    const seen = new Set();
    let previous = /** @type {Element | null} */ (null);
    for (const row of data) {
      const key = this.options.key(row);
      seen.add(key);
      let entry = this.rows.get(key);
      if (!entry) {
        entry = this.createRow(key, row);
        this.rows.set(key, entry);
      } else {
        entry.row = row;
        this.updateRow(entry, row);
      }
      const expected = previous ? previous.nextElementSibling : this.tbody.firstElementChild;
      if (expected !== entry.tr) this.tbody.insertBefore(entry.tr, expected);
      previous = entry.tr;
    }
    for (const [key, entry] of this.rows) {
      if (!seen.has(key)) {
        entry.tr.remove();
        this.rows.delete(key);
      }
    }
    if (data.length === 0) {
      if (!this.emptyRow.isConnected) this.tbody.append(this.emptyRow);
    } else if (this.emptyRow.isConnected) this.emptyRow.remove();
    this.syncSelectAll();
  }

  /** @param {string} text */
  setEmptyText(text) {
    setText(this.emptyRow, text);
  }

  /** @param {string} key @param {T} row */
  createRow(key, row) {
    const tr = h('tr', { 'data-key': key });
    /** @type {HTMLInputElement | undefined} */
    let check;
    if (this.options.selectable) {
      const id = uid('row');
      check = h('input', { type: 'checkbox', id, checked: this.selected.has(key), onchange: () => this.toggle(key, Boolean(check?.checked)) });
      const label = this.options.rowLabel ? this.options.rowLabel(row) : key;
      tr.append(h('td', { class: 'check' }, check, h('label', { for: id, class: 'sr-only', text: `Select ${label}` })));
    }
    /** @type {HTMLTableCellElement[]} */
    const cells = [];
    for (const column of this.options.columns) {
      const td = h('td', { class: column.numeric ? 'num' : '', 'data-col': column.id });
      if (column.create) td.append(column.create(row));
      else if (column.href) td.append(h('a', { href: column.href(row) }));
      cells.push(td);
      tr.append(td);
    }
    const entry = { tr, row, check, cells };
    this.updateRow(entry, row);
    return entry;
  }

  /** @param {{tr: HTMLTableRowElement, check?: HTMLInputElement, cells: HTMLTableCellElement[]}} entry @param {T} row */
  updateRow(entry, row) {
    this.options.columns.forEach((column, i) => {
      const td = /** @type {HTMLTableCellElement} */ (entry.cells[i]);
      if (column.create) {
        if (column.update) column.update(/** @type {HTMLElement} */ (td.firstElementChild), row);
      } else if (column.href) {
        const a = /** @type {HTMLAnchorElement} */ (td.firstElementChild);
        setText(a, column.text ? column.text(row) : '');
        setAttr(a, 'href', column.href(row));
      } else setText(td, column.text ? column.text(row) : '');
      if (column.title) setAttr(td, 'title', column.title(row) || null);
    });
    if (entry.check) {
      const checked = this.selected.has(this.options.key(row));
      if (entry.check.checked !== checked) entry.check.checked = checked;
    }
  }

  /** @param {string} key @param {boolean} on */
  toggle(key, on) {
    if (on) this.selected.add(key);
    else this.selected.delete(key);
    this.syncSelectAll();
    this.options.onSelect?.(this.selected);
  }

  toggleAll() {
    const on = Boolean(this.selectAll?.checked);
    for (const [key, entry] of this.rows) {
      if (on) this.selected.add(key);
      else this.selected.delete(key);
      if (entry.check) entry.check.checked = on;
    }
    this.options.onSelect?.(this.selected);
  }

  clearSelection() {
    this.selected.clear();
    for (const entry of this.rows.values()) if (entry.check) entry.check.checked = false;
    this.syncSelectAll();
    this.options.onSelect?.(this.selected);
  }

  syncSelectAll() {
    if (!this.selectAll) return;
    const keys = [...this.rows.keys()];
    const count = keys.filter((k) => this.selected.has(k)).length;
    this.selectAll.checked = keys.length > 0 && count === keys.length;
    this.selectAll.indeterminate = count > 0 && count < keys.length;
  }

  /** The current row data by key. @param {string} key */
  rowData(key) {
    return this.rows.get(key)?.row;
  }
}

/**
 * Next sort state when a header is clicked: same column flips the direction.
 * @param {{sort: string, reverse: boolean}} state @param {string} sort
 */
export function nextSort(state, sort) {
  return state.sort === sort ? { sort, reverse: !state.reverse } : { sort, reverse: false };
}

export const PAGE_SIZES = [20, 50, 100, 500];

/**
 * Pager for RabbitMQ's paged lists: first / previous / page number / next / last, and a page size.
 */
export class Pager {
  /** @param {{ onPage: (page: number) => void, onPageSize: (size: number) => void, noun: string }} options */
  constructor(options) {
    this.options = options;
    this.page = 1;
    this.pageCount = 1;
    const pageId = uid('page');
    const sizeId = uid('page-size');
    this.summary = h('p', { class: 'pager-summary', 'aria-live': 'polite' });
    this.first = h('button', { type: 'button', text: '«', 'aria-label': 'First page', onclick: () => options.onPage(1) });
    this.prev = h('button', { type: 'button', text: '‹ Previous', onclick: () => options.onPage(Math.max(1, this.page - 1)) });
    this.next = h('button', { type: 'button', text: 'Next ›', onclick: () => options.onPage(Math.min(this.pageCount, this.page + 1)) });
    this.last = h('button', { type: 'button', text: '»', 'aria-label': 'Last page', onclick: () => options.onPage(this.pageCount) });
    this.pageInput = h('input', { id: pageId, type: 'number', min: '1', inputMode: 'numeric', class: 'page-input' });
    this.pageInput.addEventListener('change', () => {
      const wanted = Math.trunc(Number(this.pageInput.value));
      if (Number.isFinite(wanted) && wanted >= 1) options.onPage(Math.min(wanted, this.pageCount));
    });
    this.ofText = h('span');
    this.sizeSelect = h('select', { id: sizeId, onchange: () => options.onPageSize(Number(this.sizeSelect.value)) }, ...PAGE_SIZES.map((s) => h('option', { value: String(s), text: String(s) })));
    this.element = h(
      'nav',
      { class: 'pager', 'aria-label': `${options.noun} pages` },
      this.summary,
      h(
        'div',
        { class: 'pager-controls' },
        this.first,
        this.prev,
        h('label', { for: pageId, text: 'Page' }),
        this.pageInput,
        this.ofText,
        this.next,
        this.last,
        h('label', { for: sizeId, text: 'Per page' }),
        this.sizeSelect,
      ),
    );
  }

  /**
   * @param {{page: number, page_count: number, page_size: number, filtered_count: number, total_count: number, item_count: number}} paged
   */
  update(paged) {
    this.page = paged.page;
    this.pageCount = Math.max(1, paged.page_count);
    if (document.activeElement !== this.pageInput) this.pageInput.value = String(paged.page);
    this.pageInput.max = String(this.pageCount);
    setText(this.ofText, `of ${num(this.pageCount)}`);
    if (this.sizeSelect.value !== String(paged.page_size)) this.sizeSelect.value = String(paged.page_size);
    const first = paged.item_count === 0 ? 0 : (paged.page - 1) * paged.page_size + 1;
    const last = first === 0 ? 0 : first + paged.item_count - 1;
    const filtered = paged.filtered_count !== paged.total_count ? ` matching, of ${num(paged.total_count)} in all` : '';
    setText(this.summary, `${num(first)}–${num(last)} of ${num(paged.filtered_count)} ${this.options.noun}${filtered}`);
    this.first.disabled = this.prev.disabled = paged.page <= 1;
    this.next.disabled = this.last.disabled = paged.page >= this.pageCount;
  }
}
