// @ts-check
/** Admin › Users: list, add with tags, change password or tags, delete. */
import { api, path } from '../api.js';
import { h, replaceChildren, setText } from '../dom.js';
import { Status, checkField, confirmAction, field, input, onSubmit, submit } from '../forms.js';
import { PagedList } from '../list.js';
import { rowKey } from '../table.js';
import { TAGS, adminHead } from './admin-nav.js';

/** @typedef {{name: string, tags: string[] | string, password_hash?: string, hashing_algorithm?: string}} User */

/** @param {User} u @returns {string[]} */
const tagsOf = (u) => (Array.isArray(u.tags) ? u.tags : String(u.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean));

/**
 * Tag checkboxes plus a free-text field for other tags.
 * @param {string} legend
 */
function tagPicker(legend) {
  /** @type {Map<string, HTMLInputElement>} */
  const boxes = new Map();
  const other = input({ placeholder: 'comma-separated' });
  const element = h(
    'fieldset',
    { class: 'tags' },
    h('legend', { text: legend }),
    ...TAGS.map((t) => {
      const box = h('input', { type: 'checkbox', value: t.tag, title: t.hint });
      boxes.set(t.tag, box);
      return checkField(t.tag, box);
    }),
    field('Other tags', other),
  );
  return {
    element,
    /** @returns {string[]} */
    value: () => [
      ...[...boxes].filter(([, b]) => b.checked).map(([t]) => t),
      ...other.value.split(',').map((t) => t.trim()).filter(Boolean),
    ],
    /** @param {string[]} tags */
    set(tags) {
      for (const [t, b] of boxes) b.checked = tags.includes(t);
      other.value = tags.filter((t) => !boxes.has(t)).join(', ');
    },
  };
}

/** @type {import('../app.js').PageFn} */
export function mountUsers(root, _params, location, ctx) {
  ctx.title('Users');
  const status = new Status();

  // Editing one user: password and tags.
  const editStatus = new Status();
  const editName = h('strong');
  const editPassword = input({ type: 'password', autocomplete: 'new-password' });
  const editTags = tagPicker('Tags');
  const editForm = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'edit-user-title', hidden: true },
    h('h2', { id: 'edit-user-title' }, 'Edit user ', editName),
    field('New password', editPassword, { hint: 'Leave empty to keep the current password.' }),
    editTags.element,
    h('div', { class: 'actions' }, submit('Save user'), h('button', { type: 'button', text: 'Cancel', onclick: () => (editForm.hidden = true) })),
    editStatus.element,
  );
  /** @type {User | null} */
  let editing = null;

  /** @param {User} u */
  function edit(u) {
    editing = u;
    setText(editName, u.name);
    editPassword.value = '';
    editTags.set(tagsOf(u));
    editStatus.clear();
    editForm.hidden = false;
    editPassword.focus();
  }

  onSubmit(editForm, editStatus, async () => {
    if (!editing) return;
    const u = /** @type {User} */ (await api.get(path`/users/${editing.name}`));
    /** @type {Record<string, unknown>} */
    const body = { tags: editTags.value().join(',') };
    // A PUT without a password removes it (as RabbitMQ), so an unchanged password is sent back as its hash.
    if (editPassword.value) body.password = editPassword.value;
    else if (u.password_hash) {
      body.password_hash = u.password_hash;
      if (u.hashing_algorithm) body.hashing_algorithm = u.hashing_algorithm;
    }
    await api.put(path`/users/${editing.name}`, body);
    editPassword.value = '';
    list.poller?.now();
    return body.password ? `New password and tags of ${editing.name} saved.` : `Tags of ${editing.name} saved.`;
  });

  /** @param {User} u */
  async function remove(u) {
    const self = u.name === ctx.user.name;
    const ok = await confirmAction({
      title: `Delete user ${u.name}?`,
      message: `Delete the user "${u.name}" with its permissions and close its connections.${self ? ' This is you: you will be signed out.' : ''}`,
      confirm: 'Delete user',
    });
    if (!ok) return;
    status.clear();
    try {
      await api.del(path`/users/${u.name}`);
      status.ok(`User ${u.name} deleted.`);
      list.poller?.now();
    } catch (error) {
      status.error(error);
    }
  }

  /** @type {PagedList<User>} */
  const list = new PagedList(ctx, location, {
    route: ['admin', 'users'],
    noun: 'users',
    resource: 'users',
    columns: 'name,tags,password_hash',
    defaultSort: 'name',
    intervalMs: 5000,
    table: {
      caption: 'Users',
      key: (u) => rowKey(u.name),
      empty: 'No users.',
      columns: [
        { id: 'name', label: 'Name', sort: 'name', text: (u) => u.name },
        { id: 'tags', label: 'Tags', text: (u) => tagsOf(u).join(', ') || '(none: cannot use the console)' },
        { id: 'password', label: 'Password', text: (u) => (u.password_hash ? 'set' : 'none (cannot sign in)') },
        {
          id: 'actions',
          label: 'Actions',
          create: () => h('span', { class: 'row-actions' }, h('button', { type: 'button', class: 'small', text: 'Edit' }), h('button', { type: 'button', class: 'small danger', text: 'Delete' })),
          update: (el, u) => {
            const [editButton, deleteButton] = /** @type {HTMLButtonElement[]} */ ([...el.children]);
            if (editButton) {
              editButton.onclick = () => edit(u);
              editButton.setAttribute('aria-label', `Edit user ${u.name}`);
            }
            if (deleteButton) {
              deleteButton.onclick = () => void remove(u);
              deleteButton.setAttribute('aria-label', `Delete user ${u.name}`);
            }
          },
        },
      ],
    },
  });

  // Adding a user.
  const addStatus = new Status();
  const name = input({ required: true, autocomplete: 'off' });
  const password = input({ type: 'password', autocomplete: 'new-password' });
  const repeat = input({ type: 'password', autocomplete: 'new-password' });
  const tags = tagPicker('Tags');
  const addForm = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'add-user-title' },
    h('h2', { id: 'add-user-title', text: 'Add a user' }),
    field('Username', name),
    field('Password', password, { hint: 'Leave empty for a user that cannot sign in with a password.' }),
    field('Repeat password', repeat),
    tags.element,
    h('div', { class: 'actions' }, submit('Add user')),
    addStatus.element,
  );
  onSubmit(addForm, addStatus, async () => {
    if (!name.value) throw new Error('Give the user a name.');
    if (password.value !== repeat.value) throw new Error('The two passwords differ.');
    /** @type {Record<string, unknown>} */
    const body = { tags: tags.value().join(',') };
    if (password.value) body.password = password.value;
    await api.put(path`/users/${name.value}`, body);
    const added = name.value;
    name.value = password.value = repeat.value = '';
    tags.set([]);
    list.poller?.now();
    return `User ${added} saved. Give it permissions on a virtual host under Permissions.`;
  });

  replaceChildren(root, ...adminHead('users', 'Users'), status.element, list.element, editForm, addForm);
  return { update: (next) => list.update(next) };
}
