// @ts-check
/**
 * Hash routing: `#/queues/%2F/orders?page=2`. Each path segment is percent-encoded on its own, so vhost
 * `/` survives as `%2F`. Pushing a new hash makes a history entry (the back button works); state that
 * changes as the user types (a filter) replaces the current entry instead.
 */

/**
 * @typedef {Object} Location
 * @property {string[]} segments decoded path segments (`['queues', '/', 'orders']`)
 * @property {URLSearchParams} query
 */

/** @returns {Location} */
export function current() {
  return parse(location.hash);
}

/** @param {string} hash @returns {Location} */
export function parse(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const pathPart = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const segments = pathPart === '' ? [] : pathPart.split('/').map(safeDecode);
  return { segments, query };
}

/** @param {string} segment */
function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A link target: `href(['queues', '/', 'orders'])` → `#/queues/%2F/orders`.
 * @param {string[]} segments
 * @param {Record<string, string | number | boolean | undefined | null> | URLSearchParams} [query]
 */
export function href(segments, query) {
  const pathPart = segments.map((s) => encodeURIComponent(s)).join('/');
  const params = query instanceof URLSearchParams ? query : new URLSearchParams();
  if (query && !(query instanceof URLSearchParams)) {
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '' && value !== false) params.set(key, String(value));
    }
  }
  const text = params.toString();
  return `#/${pathPart}${text ? `?${text}` : ''}`;
}

/** Navigates, adding a history entry. @param {string} target a `#/…` href */
export function go(target) {
  if (location.hash !== target) location.hash = target;
}

/** Changes the URL without a history entry and without a hashchange event. @param {string} target */
export function replace(target) {
  if (location.hash !== target) history.replaceState(history.state, '', target);
}

/** @param {(location: Location) => void} listener */
export function listen(listener) {
  window.addEventListener('hashchange', () => listener(current()));
}
