// @ts-check
/** Tiny DOM helpers: element creation without innerHTML, and in-place updates that skip no-op writes. */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * Creates an element. Props: `class`, `text`, `on<event>` listeners, `aria-*` / `data-*` / `role` / `for`
 * attributes; anything else is set as a DOM property (`type`, `value`, `checked`, `disabled`, `hidden`…).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = String(value);
      else if (key === 'text') el.textContent = String(value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
      } else if (key.startsWith('aria-') || key.startsWith('data-') || key === 'role' || key === 'for' || key === 'list') {
        el.setAttribute(key, value === true ? 'true' : String(value));
      } else {
        /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
      }
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element | DocumentFragment} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

let counter = 0;
/** A unique id for label/input pairs and aria references. @param {string} prefix */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Sets text only when it changed (no layout work, no lost selection). @param {Node} node @param {string} text */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** @param {Element} el @param {string} name @param {string | null} value */
export function setAttr(el, name, value) {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** Replaces all children. @param {Element} el @param {...(Child | Child[])} children */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A visually hidden text for screen readers. @param {string} text */
export function srOnly(text) {
  return h('span', { class: 'sr-only', text });
}

/**
 * Defers calls until `ms` have passed without another.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {(...args: A) => void}
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
