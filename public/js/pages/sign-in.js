// @ts-check
/**
 * Sign-in: HTTP Basic credentials, or an OAuth 2 access token pasted from the identity provider (sent as
 * `Authorization: Bearer`), checked against `GET /api/whoami` and kept for this tab only. The OIDC
 * redirect flow is a later step (docs/auth.md).
 */
import { h, replaceChildren } from '../dom.js';
import { Status, field, input, onSubmit, submit } from '../forms.js';

/**
 * @param {HTMLElement} root
 * @param {{
 *   message: string,
 *   signIn: (username: string, password: string) => Promise<void>,
 *   signInWithToken?: (token: string) => Promise<void>,
 * }} options
 */
export function mountSignIn(root, options) {
  const username = input({ name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off' });
  const password = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = new Status();
  const form = h(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title', tabIndex: -1 }, h('span', { class: 'logo', 'aria-hidden': 'true', text: 'W' }), 'Warren'),
    h('p', { class: 'hint', text: 'Sign in with a Warren user that has a management tag.' }),
    field('Username', username),
    field('Password', password),
    status.element,
    h('div', { class: 'actions' }, submit('Sign in')),
    h('p', { class: 'hint', text: 'You stay signed in until you sign out or close this tab.' }),
  );
  if (options.message) status.error(options.message);
  onSubmit(form, status, async () => {
    await options.signIn(username.value, password.value);
  });
  const withToken = options.signInWithToken;
  replaceChildren(root, h('div', { class: 'page narrow' }, form, withToken ? tokenForm(withToken) : null));
  username.focus();
}

/**
 * Folded away by default: most people sign in with a password. Its summary avoids the words "Sign in" so
 * the password form's button stays the only one of that name on the page.
 * @param {(token: string) => Promise<void>} signInWithToken
 */
function tokenForm(signInWithToken) {
  const token = h('textarea', { name: 'token', rows: 4, required: true, spellcheck: false, autocomplete: 'off' });
  const status = new Status();
  const form = h(
    'form',
    { class: 'sign-in token', 'aria-label': 'Sign in with token' },
    h('p', { class: 'hint', text: 'Paste an access token (JWT) from your identity provider. It needs a management tag scope, for example warren.tag:management.' }),
    field('Access token', token),
    status.element,
    h('div', { class: 'actions' }, submit('Sign in with token')),
  );
  onSubmit(form, status, async () => {
    await signInWithToken(token.value.trim());
  });
  return h('details', { class: 'token-sign-in' }, h('summary', { text: 'Use an access token instead' }), form);
}
