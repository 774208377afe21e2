// @ts-check
/** The Admin section's heading and tabs (users, permissions, virtual hosts, policies, definitions). */
import { h } from '../dom.js';

const TABS = [
  { id: 'users', label: 'Users' },
  { id: 'permissions', label: 'Permissions' },
  { id: 'vhosts', label: 'Virtual hosts' },
  { id: 'policies', label: 'Policies', policymaker: true },
  { id: 'operator-policies', label: 'Operator policies' },
  { id: 'definitions', label: 'Definitions' },
];

/**
 * @param {string} current @param {string} title
 * @param {boolean} [administrator] false: only the tabs a policymaker may open
 */
export function adminHead(current, title, administrator = true) {
  return [
    h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: `Admin: ${title}` })),
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Admin sections' },
      ...TABS.filter((t) => administrator || t.policymaker).map((t) => h('a', { href: `#/admin/${t.id}`, text: t.label, 'aria-current': t.id === current ? 'page' : undefined })),
    ),
  ];
}

/** Management tags a user can have, with what each allows. */
export const TAGS = [
  { tag: 'administrator', hint: 'everything, including users, vhosts and definitions' },
  { tag: 'monitoring', hint: 'sees all connections, vhosts and node facts' },
  { tag: 'policymaker', hint: 'policies and parameters' },
  { tag: 'management', hint: 'the console and API, within their permissions' },
];
