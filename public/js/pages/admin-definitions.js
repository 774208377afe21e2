// @ts-check
/** Admin › Definitions: export (download JSON) and import (upload) of users, vhosts, queues, exchanges… */
import { api, path, request } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { Status, field, onSubmit, select, submit } from '../forms.js';
import { fillVhostSelect } from '../list.js';
import { adminHead } from './admin-nav.js';

/** Arrays of a definitions document, with their singular names. */
const KINDS = [
  ['users', 'user'],
  ['vhosts', 'virtual host'],
  ['permissions', 'permission'],
  ['queues', 'queue'],
  ['exchanges', 'exchange'],
  ['bindings', 'binding'],
  ['policies', 'policy'],
  ['operator_policies', 'operator policy'],
  ['parameters', 'parameter'],
];

/** "3 queues, 1 exchange…" for a definitions document. @param {Record<string, unknown>} doc */
function summarize(doc) {
  const parts = [];
  for (const [plural = '', singular = ''] of KINDS) {
    const items = doc[plural];
    if (!Array.isArray(items) || items.length === 0) continue;
    parts.push(`${items.length} ${items.length === 1 ? singular : plural === 'vhosts' ? 'virtual hosts' : plural.replace('_', ' ')}`);
  }
  return parts.length ? parts.join(', ') : 'nothing';
}

/** @type {import('../app.js').PageFn} */
export function mountDefinitions(root, _params, _location, ctx) {
  ctx.title('Definitions');

  const exportStatus = new Status();
  const exportVhost = select([{ value: '', label: 'All virtual hosts (everything)' }]);
  fillVhostSelect(exportVhost, exportStatus, ctx.signal, { all: true });
  const exportForm = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title', text: 'Export definitions' }),
    h('p', { class: 'hint', text: 'Users (with password hashes), virtual hosts, permissions, queues, exchanges, bindings and policies, as JSON. Messages are not included.' }),
    field('From', exportVhost),
    h('div', { class: 'actions' }, submit('Download JSON')),
    exportStatus.element,
  );
  onSubmit(exportForm, exportStatus, async () => {
    const vhost = exportVhost.value;
    const text = /** @type {string} */ (await request('GET', vhost ? path`/definitions/${vhost}` : '/definitions', { expect: 'text' }));
    const doc = JSON.parse(text);
    const date = new Date().toISOString().slice(0, 10);
    const fileName = `warren-definitions${vhost ? `-${vhost.replace(/[^\w.-]+/g, '_') || 'default'}` : ''}-${date}.json`;
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const link = h('a', { href: url, download: fileName, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return `Downloaded ${fileName}: ${summarize(doc)}.`;
  });

  const importStatus = new Status();
  const file = h('input', { type: 'file', accept: '.json,application/json', required: true });
  const importVhost = select([{ value: '', label: 'As in the file (all virtual hosts)' }]);
  fillVhostSelect(importVhost, importStatus, ctx.signal, { all: true });
  const importForm = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'import-title' },
    h('h2', { id: 'import-title', text: 'Import definitions' }),
    h('p', { class: 'hint', text: 'Merges a definitions file into this broker: existing queues and exchanges are kept as they are; users and permissions are overwritten.' }),
    field('Definitions file', file),
    field('Into', importVhost),
    h('div', { class: 'actions' }, submit('Upload and import')),
    importStatus.element,
  );
  onSubmit(importForm, importStatus, async () => {
    const chosen = file.files?.[0];
    if (!chosen) throw new Error('Choose a definitions file first.');
    const text = await chosen.text();
    /** @type {Record<string, unknown>} */
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`${chosen.name} is not valid JSON.`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${chosen.name} is not a definitions file (expected a JSON object).`);
    const vhost = importVhost.value;
    // 204 when everything was carried out; 200 with what was left out (keys and sections Warren has nothing behind).
    const answer = /** @type {{not_imported?: string[]} | undefined} */ (await api.post(vhost ? path`/definitions/${vhost}` : '/definitions', text));
    file.value = '';
    const left = answer?.not_imported ?? [];
    if (left.length > 0) return { text: `Imported ${chosen.name}: ${summarize(doc)}. Not imported (${left.length}): ${left.join('; ')}.`, kind: 'warn' };
    return `Imported ${chosen.name}: ${summarize(doc)}.`;
  });

  replaceChildren(root, ...adminHead('definitions', 'Definitions'), exportForm, importForm);
}
