// @ts-check
/** Sign-in: HTTP Basic credentials checked against `GET /api/whoami`, kept for this tab only. */
import { h, replaceChildren } from '../dom.js';
import { Status, field, input, onSubmit, submit } from '../forms.js';

/**
 * @param {HTMLElement} root
 * @param {{ message: string, signIn: (username: string, password: string) => Promise<void> }} options
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
  replaceChildren(root, h('div', { class: 'page narrow' }, form));
  username.focus();
}
