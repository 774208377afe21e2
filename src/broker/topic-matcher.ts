/**
 * Topic-exchange binding index: a trie over the dot-separated words of binding keys, following
 * AMQP 0-9-1 / RabbitMQ semantics (see docs reference §4.5).
 *
 * - The empty key `""` is zero words; every other key has `split('.').length` words, so empty words
 *   (`a..b`, `a.`, `.`) are real words.
 * - `*` matches exactly one word (possibly empty), `#` zero or more; both only as whole words.
 *
 * Matching cost is bounded by (trie nodes x words) rather than exponential in the number of `#`
 * words, because each `#` node remembers, per match, the lowest word index it has been expanded from.
 */

interface TrieNode<T> {
  /** Literal word edges; created lazily because most leaves never need one. */
  children: Map<string, TrieNode<T>> | undefined;
  star: TrieNode<T> | undefined;
  hash: TrieNode<T> | undefined;
  /** Values whose binding key ends exactly at this node. */
  values: Set<T> | undefined;
  /**
   * Memo for `#` nodes only: in match generation `memoGen` this node has already been expanded for
   * every word index >= `memoFrom`. Stored on the node so a match allocates nothing for it.
   */
  memoGen: number;
  memoFrom: number;
}

const STAR = '*';
const HASH = '#';

function newNode<T>(): TrieNode<T> {
  return { children: undefined, star: undefined, hash: undefined, values: undefined, memoGen: 0, memoFrom: 0 };
}

/** `""` has zero words in AMQP, but `''.split('.')` yields one empty word. */
function splitKey(key: string): readonly string[] {
  return key === '' ? [] : key.split('.');
}

function isEmptyNode<T>(node: TrieNode<T>): boolean {
  return (
    node.values === undefined && node.children === undefined && node.star === undefined && node.hash === undefined
  );
}

function childFor<T>(node: TrieNode<T>, word: string): TrieNode<T> | undefined {
  if (word === HASH) return node.hash;
  if (word === STAR) return node.star;
  return node.children?.get(word);
}

function ensureChild<T>(node: TrieNode<T>, word: string): TrieNode<T> {
  const existing = childFor(node, word);
  if (existing !== undefined) return existing;
  const created = newNode<T>();
  if (word === HASH) node.hash = created;
  else if (word === STAR) node.star = created;
  else (node.children ??= new Map()).set(word, created);
  return created;
}

function detachChild<T>(node: TrieNode<T>, word: string): void {
  if (word === HASH) node.hash = undefined;
  else if (word === STAR) node.star = undefined;
  else if (node.children !== undefined) {
    node.children.delete(word);
    if (node.children.size === 0) node.children = undefined;
  }
}

function addAll<T>(values: Set<T> | undefined, out: Set<T>): void {
  if (values === undefined) return;
  for (const value of values) out.add(value);
}

export class TopicMatcher<T> {
  private readonly root: TrieNode<T> = newNode<T>();
  private pairs = 0;
  /** Bumped per match so stale `#` memos from earlier matches are ignored without clearing them. */
  private generation = 0;

  get size(): number {
    return this.pairs;
  }

  /** Returns true if the (key, value) pair was not already present. */
  add(bindingKey: string, value: T): boolean {
    let node = this.root;
    for (const word of splitKey(bindingKey)) node = ensureChild(node, word);
    const values = (node.values ??= new Set());
    if (values.has(value)) return false;
    values.add(value);
    this.pairs++;
    return true;
  }

  /** Returns true if the pair was present. Nodes left with nothing below them are pruned. */
  remove(bindingKey: string, value: T): boolean {
    const words = splitKey(bindingKey);
    // The path is kept so pruning can walk back up without parent pointers.
    const path: TrieNode<T>[] = [this.root];
    let node = this.root;
    for (const word of words) {
      const next = childFor(node, word);
      if (next === undefined) return false;
      path.push(next);
      node = next;
    }
    if (node.values === undefined || !node.values.delete(value)) return false;
    if (node.values.size === 0) node.values = undefined;
    this.pairs--;
    for (let depth = words.length; depth > 0; depth--) {
      const child = path[depth];
      const parent = path[depth - 1];
      const word = words[depth - 1];
      if (child === undefined || parent === undefined || word === undefined || !isEmptyNode(child)) break;
      detachChild(parent, word);
    }
    return true;
  }

  /** Adds to `out` every value bound with a key matching `routingKey`. */
  match(routingKey: string, out: Set<T>): void {
    this.generation++;
    this.step(this.root, splitKey(routingKey), 0, out);
  }

  /** `node` has consumed the first `index` words; follow every edge that can consume what is left. */
  private step(node: TrieNode<T>, words: readonly string[], index: number, out: Set<T>): void {
    if (node.hash !== undefined) this.expandHash(node.hash, words, index, out);
    if (index === words.length) {
      addAll(node.values, out);
      return;
    }
    const next = index + 1;
    if (node.star !== undefined) this.step(node.star, words, next, out);
    if (node.children !== undefined) {
      const word = words[index];
      const literal = word === undefined ? undefined : node.children.get(word);
      if (literal !== undefined) this.step(literal, words, next, out);
    }
  }

  /**
   * `#` reached at `index` may swallow any number of words, so continue from every later index.
   * Expanding from `index` covers every index above it, so a repeat visit only needs the indices
   * below the lowest one already expanded. That bounds the work by (nodes x words), so chains like
   * `#.#.#.a` cannot go exponential.
   */
  private expandHash(hashNode: TrieNode<T>, words: readonly string[], index: number, out: Set<T>): void {
    const fresh = hashNode.memoGen !== this.generation;
    const limit = fresh ? words.length + 1 : hashNode.memoFrom;
    if (index >= limit) return;
    hashNode.memoGen = this.generation;
    hashNode.memoFrom = index;
    for (let i = index; i < limit; i++) this.step(hashNode, words, i, out);
  }
}
