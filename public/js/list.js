// @ts-check
/**
 * A server-paged, filtered, sorted list kept in the URL (`#/queues?vhost=%2F&name=ord&page=2&sort=messages&desc=1`),
 * refreshed live. Only one page is ever fetched (`page`, `page_size`, `name`, `use_regex`, `sort`,
 * `sort_reverse`, `columns`), so it stays fast with 10,000 items.
 */
import { api, ApiError, isPaged, path } from './api.js';
import { debounce, h, uid } from './dom.js';
import { Status, checkField, field, input, select, setOptions } from './forms.js';
import * as router from './router.js';
import { DataTable, Pager, nextSort } from './table.js';

/** @typedef {import('./app.js').PageContext} PageContext */
/** @typedef {import('./router.js').Location} Location */

/** @typedef {{vhost: string, name: string, regex: boolean, page: number, size: number, sort: string, reverse: boolean}} ListState */

/** Names of the vhosts the user can see. @param {AbortSignal} [signal] @returns {Promise<string[]>} */
export async function loadVhostNames(signal) {
  const vhosts = /** @type {Array<{name: string}>} */ (await api.get('/vhosts', { columns: 'name' }, signal));
  return vhosts.map((v) => v.name).sort();
}

/**
 * Fills a vhost select once the list arrives; reports a failure instead of leaving it empty.
 * @param {HTMLSelectElement} sel @param {Status} status @param {AbortSignal} signal @param {{all?: boolean}} [options]
 */
export function fillVhostSelect(sel, status, signal, options = {}) {
  const wanted = sel.dataset.wanted ?? sel.value;
  loadVhostNames(signal)
    .then((names) => {
      /** @type {Array<string | {value: string, label: string}>} */
      const opts = names.map((n) => ({ value: n, label: n }));
      if (options.all) opts.unshift({ value: '', label: 'All virtual hosts' });
      if (wanted && !names.includes(wanted)) opts.push({ value: wanted, label: `${wanted} (not found)` });
      setOptions(sel, opts);
      if (wanted || options.all) sel.value = wanted;
    })
    .catch((error) => {
      if (!signal.aborted) status.error(error);
    });
}

/**
 * @template T
 * @typedef {Object} PagedListOptions
 * @property {string[]} route the page's hash path (`['queues']`)
 * @property {string} noun plural, for the pager (`queues`)
 * @property {string} resource API collection (`queues`): `/api/queues` or `/api/queues/{vhost}`
 * @property {boolean} [vhostNested] the per-vhost list is `/api/vhosts/{vhost}/<resource>` (connections, channels)
 * @property {string} columns the fields to fetch
 * @property {string} defaultSort
 * @property {boolean} [filterable]
 * @property {boolean} [perVhost] offer the vhost selector
 * @property {number} [intervalMs]
 * @property {import('./table.js').TableOptions<T>} table without onSort (the list owns sorting)
 * @property {(paged: import('./api.js').Paged<T>) => void} [onData]
 * @property {HTMLElement} [toolbar] shown between the filters and the table (bulk actions)
 * @property {(items: T[], state: ListState) => Promise<T[]>} [enrich] adds data from another endpoint to the page's items
 */

/** @template T */
export class PagedList {
  /** @param {PageContext} ctx @param {Location} location @param {PagedListOptions<T>} options */
  constructor(ctx, location, options) {
    this.ctx = ctx;
    this.options = options;
    this.state = this.parse(location);
    this.status = new Status();
    this.table = new DataTable({ ...options.table, onSort: (sort) => this.sortBy(sort) });
    this.pager = new Pager({
      noun: options.noun,
      onPage: (page) => this.navigate({ page }),
      onPageSize: (size) => this.navigate({ size, page: 1 }),
    });
    this.filterInput = input({ type: 'search', placeholder: 'Filter by name', 'aria-describedby': undefined });
    this.regexInput = h('input', { type: 'checkbox' });
    this.vhostSelect = select([{ value: '', label: 'All virtual hosts' }]);
    const onFilter = debounce(() => {
      this.state = { ...this.state, name: this.filterInput.value, page: 1 };
      router.replace(this.href(this.state));
      this.poller?.now();
    }, 250);
    this.filterInput.addEventListener('input', onFilter);
    this.regexInput.addEventListener('change', () => {
      this.state = { ...this.state, regex: this.regexInput.checked, page: 1 };
      router.replace(this.href(this.state));
      this.poller?.now();
    });
    this.vhostSelect.addEventListener('change', () => this.navigate({ vhost: this.vhostSelect.value, page: 1 }));
    const controls = h('div', { class: 'list-controls', role: 'search', 'aria-label': `Filter ${options.noun}` });
    if (options.perVhost) {
      this.vhostSelect.dataset.wanted = this.state.vhost;
      controls.append(field('Virtual host', this.vhostSelect));
      fillVhostSelect(this.vhostSelect, this.status, ctx.signal, { all: true });
    }
    if (options.filterable !== false) {
      const filterId = uid('filter');
      this.filterInput.id = filterId;
      controls.append(field(`Filter ${options.noun}`, this.filterInput, { class: 'grow' }), checkField('Regular expression', this.regexInput));
    }
    this.element = h('div', { class: 'paged-list' }, controls, this.status.element, options.toolbar ?? null, this.table.element, this.pager.element);
    this.syncControls();
    /** @type {import('./app.js').Poller | undefined} */
    this.poller = ctx.every(options.intervalMs ?? 2500, () => this.refresh());
  }

  /** @param {Location} location @returns {ListState} */
  parse(location) {
    const q = location.query;
    const page = Math.max(1, Math.trunc(Number(q.get('page') ?? '1')) || 1);
    const size = Math.min(500, Math.max(1, Math.trunc(Number(q.get('size') ?? '50')) || 50));
    return {
      vhost: q.get('vhost') ?? '',
      name: q.get('name') ?? '',
      regex: q.get('regex') === '1',
      page,
      size,
      sort: q.get('sort') ?? this.options.defaultSort,
      reverse: q.get('desc') === '1',
    };
  }

  /** @param {ListState} s */
  href(s) {
    return router.href(this.options.route, {
      vhost: s.vhost || undefined,
      name: s.name || undefined,
      regex: s.regex ? '1' : undefined,
      page: s.page > 1 ? s.page : undefined,
      size: s.size !== 50 ? s.size : undefined,
      sort: s.sort !== this.options.defaultSort ? s.sort : undefined,
      desc: s.reverse ? '1' : undefined,
    });
  }

  /** A change worth a history entry. @param {Partial<ListState>} change */
  navigate(change) {
    router.go(this.href({ ...this.state, ...change }));
  }

  /** @param {string} sort */
  sortBy(sort) {
    const next = nextSort({ sort: this.state.sort, reverse: this.state.reverse }, sort);
    this.navigate({ sort: next.sort, reverse: next.reverse, page: 1 });
  }

  /** The URL changed (back/forward, a link, our own navigate). @param {Location} location */
  update(location) {
    this.state = this.parse(location);
    this.syncControls();
    this.poller?.now();
  }

  syncControls() {
    if (document.activeElement !== this.filterInput && this.filterInput.value !== this.state.name) this.filterInput.value = this.state.name;
    this.regexInput.checked = this.state.regex;
    if ([...this.vhostSelect.options].some((o) => o.value === this.state.vhost)) this.vhostSelect.value = this.state.vhost;
    this.vhostSelect.dataset.wanted = this.state.vhost;
    this.table.setSort(this.state.sort, this.state.reverse);
  }

  /** @returns {Promise<void>} */
  async refresh() {
    const s = this.state;
    const perVhost = this.options.vhostNested ? path`/vhosts/${s.vhost}` + `/${this.options.resource}` : path`/${this.options.resource}/${s.vhost}`;
    const endpoint = s.vhost ? perVhost : `/${this.options.resource}`;
    /** @type {unknown} */
    let result;
    try {
      result = await api.get(
        endpoint,
        {
          page: s.page,
          page_size: s.size,
          name: s.name || undefined,
          use_regex: s.name && s.regex ? 'true' : undefined,
          sort: s.sort,
          sort_reverse: s.reverse ? 'true' : undefined,
          columns: this.options.columns,
        },
        this.ctx.signal,
      );
    } catch (error) {
      if (this.ctx.signal.aborted || s !== this.state) return;
      if (error instanceof ApiError && error.error === 'page_out_of_range' && s.page > 1) {
        // The list shrank under us: show the first page instead of an error.
        this.state = { ...s, page: 1 };
        router.replace(this.href(this.state));
        return this.refresh();
      }
      this.status.error(error);
      throw error;
    }
    if (s !== this.state) return;
    this.status.clear();
    const paged = isPaged(result)
      ? /** @type {import('./api.js').Paged<T>} */ (result)
      : { items: /** @type {T[]} */ (result), page: 1, page_count: 1, page_size: s.size, filtered_count: 0, total_count: 0, item_count: 0 };
    if (!isPaged(result)) paged.filtered_count = paged.total_count = paged.item_count = paged.items.length;
    if (this.options.enrich) paged.items = await this.options.enrich(paged.items, s);
    if (s !== this.state) return;
    this.table.setEmptyText(s.name ? `No ${this.options.noun} match "${s.name}".` : this.options.table.empty ?? `No ${this.options.noun}.`);
    this.table.setRows(paged.items);
    this.pager.update(paged);
    this.options.onData?.(paged);
  }
}
