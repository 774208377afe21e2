// @ts-check
/**
 * The console shell: sign-in, the navigation the user's tags allow, hash routes to pages, and the page
 * lifecycle (polling while mounted, stopped on leave; a query change on the same page is an update, not
 * a re-render, so forms and scroll survive the back button).
 */
import { ApiError, basicCredentials, credentials, forgetCredentials, messageOf, onSessionEnded, request, saveCredentials } from './api.js';
import { h, replaceChildren, setAttr, setText } from './dom.js';
import * as router from './router.js';
import { mountSignIn } from './pages/sign-in.js';
import { mountOverview } from './pages/overview.js';
import { mountChannels } from './pages/channels.js';
import { mountConnections } from './pages/connections.js';
import { mountExchanges } from './pages/exchanges.js';
import { mountExchange } from './pages/exchange.js';
import { mountQueues } from './pages/queues.js';
import { mountQueue } from './pages/queue.js';
import { mountTrace } from './pages/trace.js';
import { mountCluster } from './pages/cluster.js';
import { mountUsers } from './pages/admin-users.js';
import { mountPermissions } from './pages/admin-permissions.js';
import { mountVhosts } from './pages/admin-vhosts.js';
import { mountDefinitions } from './pages/admin-definitions.js';
import { mountOperatorPolicies, mountPolicies } from './pages/admin-policies.js';

/** @typedef {import('./api.js').Whoami} Whoami */
/** @typedef {import('./router.js').Location} Location */

/**
 * @typedef {Object} Poller
 * @property {() => void} now refresh at once (after an action)
 */

/**
 * What a page gets besides its root element.
 * @typedef {Object} PageContext
 * @property {Whoami} user
 * @property {(tag: 'administrator' | 'monitoring' | 'policymaker' | 'management') => boolean} has
 * @property {(ms: number, task: () => Promise<void>) => Poller} every runs the task now and then every `ms` after it finishes, while the page is shown and the tab visible
 * @property {AbortSignal} signal aborted when the page is left
 * @property {(title: string) => void} title
 */

/** @typedef {{ update?: (location: Location) => void, unmount?: () => void }} Page */
/** @typedef {(root: HTMLElement, params: string[], location: Location, ctx: PageContext) => Page | void} PageFn */

/**
 * @typedef {Object} Route
 * @property {string[]} pattern literal segments, or `:param`
 * @property {PageFn} mount
 * @property {string} nav which navigation entry is current
 * @property {'administrator' | 'policymaker' | 'monitoring'} [requires] the tag the page needs (administrators have every page)
 */

/** @type {Route[]} */
const ROUTES = [
  { pattern: [], mount: mountOverview, nav: 'overview' },
  { pattern: ['overview'], mount: mountOverview, nav: 'overview' },
  { pattern: ['connections'], mount: mountConnections, nav: 'connections' },
  { pattern: ['channels'], mount: mountChannels, nav: 'channels' },
  { pattern: ['exchanges'], mount: mountExchanges, nav: 'exchanges' },
  { pattern: ['exchanges', ':vhost', ':name'], mount: mountExchange, nav: 'exchanges' },
  { pattern: ['queues'], mount: mountQueues, nav: 'queues' },
  { pattern: ['queues', ':vhost', ':name'], mount: mountQueue, nav: 'queues' },
  // Open to every user: the server decides (administrators) and the page shows its refusal in words.
  { pattern: ['trace'], mount: mountTrace, nav: 'trace' },
  { pattern: ['cluster'], mount: mountCluster, nav: 'cluster', requires: 'monitoring' },
  { pattern: ['admin'], mount: mountUsers, nav: 'admin', requires: 'administrator' },
  { pattern: ['admin', 'users'], mount: mountUsers, nav: 'admin', requires: 'administrator' },
  { pattern: ['admin', 'permissions'], mount: mountPermissions, nav: 'admin', requires: 'administrator' },
  { pattern: ['admin', 'vhosts'], mount: mountVhosts, nav: 'admin', requires: 'administrator' },
  { pattern: ['admin', 'policies'], mount: mountPolicies, nav: 'admin', requires: 'policymaker' },
  { pattern: ['admin', 'operator-policies'], mount: mountOperatorPolicies, nav: 'admin', requires: 'administrator' },
  { pattern: ['admin', 'definitions'], mount: mountDefinitions, nav: 'admin', requires: 'administrator' },
];

const NAV = [
  { id: 'overview', label: 'Overview', href: '#/' },
  { id: 'connections', label: 'Connections', href: '#/connections' },
  { id: 'channels', label: 'Channels', href: '#/channels' },
  { id: 'exchanges', label: 'Exchanges', href: '#/exchanges' },
  { id: 'queues', label: 'Queues', href: '#/queues' },
  { id: 'trace', label: 'Trace', href: '#/trace' },
  { id: 'cluster', label: 'Cluster', href: '#/cluster', requires: 'monitoring' },
  { id: 'admin', label: 'Admin', href: '#/admin/users', requires: 'administrator' },
  // As in RabbitMQ, a policymaker's Admin holds the policies only.
  { id: 'admin', label: 'Admin', href: '#/admin/policies', requires: 'policymaker', unless: 'administrator' },
];

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const header = /** @type {HTMLElement} */ (document.getElementById('top'));

/** @type {{ key: string, page: Page | void, controller: AbortController } | null} */
let mounted = null;
/** @type {Whoami | null} */
let user = null;
/** True while the page shown needs no focus move (the first page after loading the console). */
let skipFocus = true;

const live = {
  el: h('p', { class: 'live', role: 'status', 'aria-live': 'polite' }),
  failing: false,
  ok() {
    if (this.failing || !this.el.textContent) {
      this.failing = false;
      this.el.className = 'live ok';
      setText(this.el, 'Live');
      this.el.title = 'Refreshing automatically';
    }
  },
  /** @param {unknown} error */
  failed(error) {
    this.failing = true;
    this.el.className = 'live failing';
    setText(this.el, `Updates failing: ${messageOf(error)}`);
    this.el.title = 'The last automatic refresh failed; it is retried.';
  },
};

/** @param {string} id */
function navLink(id) {
  return /** @type {HTMLAnchorElement | null} */ (header.querySelector(`a[data-nav="${id}"]`));
}

/** @param {Whoami} me */
function renderHeader(me) {
  const tags = new Set(me.tags);
  const skip = h('button', { type: 'button', class: 'skip', text: 'Skip to content', onclick: () => main.focus() });
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    h(
      'ul',
      null,
      ...NAV.filter((n) => (!n.requires || tags.has(n.requires) || (n.requires === 'monitoring' && tags.has('administrator'))) && !(n.unless && tags.has(n.unless))).map((n) =>
        h('li', null, h('a', { href: n.href, 'data-nav': n.id, text: n.label })),
      ),
    ),
  );
  const signOut = h('button', { type: 'button', class: 'sign-out', text: 'Sign out', onclick: () => endSession('') });
  replaceChildren(
    header,
    skip,
    h('a', { class: 'brand', href: '#/', 'aria-label': 'Warren overview' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: 'W' }), 'Warren'),
    nav,
    live.el,
    h('div', { class: 'who' }, h('span', { class: 'user', title: me.tags.join(', ') || 'no tags' }, me.name, h('small', { text: me.tags.join(', ') })), signOut),
  );
  header.hidden = false;
}

/** @param {string[]} pattern @param {string[]} segments @returns {string[] | null} */
function matchRoute(pattern, segments) {
  if (pattern.length !== segments.length) return null;
  /** @type {string[]} */
  const params = [];
  for (let i = 0; i < pattern.length; i++) {
    const p = /** @type {string} */ (pattern[i]);
    const s = /** @type {string} */ (segments[i]);
    if (p.startsWith(':')) params.push(s);
    else if (p !== s) return null;
  }
  return params;
}

/** @param {Location} location */
function route(location) {
  if (!user) return;
  const me = user;
  let found = null;
  for (const candidate of ROUTES) {
    const params = matchRoute(candidate.pattern, location.segments);
    if (params) {
      found = { route: candidate, params };
      break;
    }
  }
  const key = found ? `${found.route.pattern.join('/')}|${found.params.join('\u0000')}` : `404|${location.segments.join('/')}`;
  for (const n of NAV) {
    const link = navLink(n.id);
    if (link) setAttr(link, 'aria-current', found?.route.nav === n.id ? 'page' : null);
  }
  if (mounted && mounted.key === key) {
    mounted.page?.update?.(location);
    return;
  }
  unmount();
  const controller = new AbortController();
  const root = h('div', { class: 'page' });
  replaceChildren(main, root);
  /** @type {PageContext} */
  const ctx = {
    user: me,
    has: (tag) => me.tags.includes(tag),
    every: (ms, task) => poll(ms, task, controller.signal),
    signal: controller.signal,
    title: (title) => (document.title = `${title} · Warren`),
  };
  let page;
  if (!found) {
    ctx.title('Not found');
    root.append(h('h1', { tabIndex: -1, text: 'No such page' }), h('p', null, 'Nothing lives at this address. ', h('a', { href: '#/', text: 'Go to the overview' }), '.'));
  } else if (found.route.requires && !ctx.has(found.route.requires) && !ctx.has('administrator')) {
    ctx.title('Not allowed');
    root.append(
      h('h1', { tabIndex: -1, text: 'Not allowed' }),
      h('p', { text: `This page needs the ${found.route.requires} tag; you are signed in as ${me.name} (${me.tags.join(', ') || 'no tags'}).` }),
    );
  } else {
    try {
      page = found.route.mount(root, found.params, location, ctx);
    } catch (error) {
      root.append(h('p', { class: 'status error', role: 'alert', text: `This page failed to load: ${messageOf(error)}` }));
    }
  }
  mounted = { key, page, controller };
  if (!skipFocus) {
    const heading = /** @type {HTMLElement | null} */ (root.querySelector('h1'));
    heading?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  skipFocus = false;
}

function unmount() {
  if (!mounted) return;
  mounted.controller.abort();
  try {
    mounted.page?.unmount?.();
  } catch (error) {
    console.error(error);
  }
  mounted = null;
}

/** @type {Set<() => void>} */
const wakers = new Set();

/**
 * @param {number} ms @param {() => Promise<void>} task @param {AbortSignal} signal
 * @returns {Poller}
 */
function poll(ms, task, signal) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let running = false;
  let again = false;
  const run = async () => {
    clearTimeout(timer);
    if (signal.aborted) return;
    if (document.hidden) {
      timer = setTimeout(run, ms);
      return;
    }
    running = true;
    try {
      await task();
      if (!signal.aborted) live.ok();
    } catch (error) {
      if (!signal.aborted && !(error instanceof ApiError && error.endsSession)) live.failed(error);
    }
    running = false;
    if (signal.aborted) return;
    if (again) {
      again = false;
      void run();
    } else timer = setTimeout(run, ms);
  };
  const now = () => {
    if (running) again = true;
    else void run();
  };
  wakers.add(now);
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    wakers.delete(now);
  });
  void run();
  return { now };
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) for (const wake of wakers) wake();
});

/** @param {Whoami} me @param {{focus?: boolean}} [options] focus the page heading (after signing in) */
function start(me, options = {}) {
  user = me;
  renderHeader(me);
  skipFocus = !options.focus;
  route(router.current());
}

/** Signs out; `reason` (when not empty) is shown on the sign-in form. @param {string} reason */
function endSession(reason) {
  unmount();
  forgetCredentials();
  user = null;
  header.hidden = true;
  replaceChildren(header);
  document.title = 'Sign in · Warren';
  mountSignIn(main, {
    message: reason,
    async signIn(username, password) {
      const creds = basicCredentials(username, password);
      const me = /** @type {Whoami} */ (await request('GET', '/whoami', { as: creds }));
      saveCredentials(creds);
      start(me, { focus: true });
    },
    async signInWithToken(token) {
      const creds = { username: '', authorization: `Bearer ${token}` };
      const me = /** @type {Whoami} */ (await request('GET', '/whoami', { as: creds }));
      saveCredentials({ username: me.name, authorization: creds.authorization });
      start(me, { focus: true });
    },
  });
}

onSessionEnded((error) => {
  if (user) endSession(`You were signed out: ${error.message}`);
});

router.listen(route);

async function boot() {
  const saved = credentials();
  if (!saved) return endSession('');
  replaceChildren(main, h('p', { class: 'loading', text: 'Signing in…' }));
  try {
    const me = /** @type {Whoami} */ (await request('GET', '/whoami', { as: saved }));
    start(me);
  } catch (error) {
    if (error instanceof ApiError && error.status === 0) {
      const retry = h('button', { type: 'button', text: 'Try again', onclick: () => void boot() });
      replaceChildren(main, h('div', { class: 'page' }, h('h1', { text: 'Warren' }), h('p', { class: 'status error', role: 'alert', text: messageOf(error) }), retry));
    } else endSession(`Please sign in again: ${messageOf(error)}`);
  }
}

void boot();
