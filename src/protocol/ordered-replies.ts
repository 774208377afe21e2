/**
 * Replies in the order of their requests, when some of them must wait for the disk (publisher
 * confirms, durable declares). In the common case nothing waits and every reply goes straight out;
 * once one waits, the replies behind it are held until it is released.
 */
export class OrderedReplies<T = string> {
  private readonly held: Held<T>[] = [];

  constructor(
    private readonly send: (text: T) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /**
   * Sends `text` (if any) and then runs `after` (if any), in turn. With `until`, they wait for it;
   * if it fails, `onFailure` may give the text to send instead.
   */
  reply(text: T | undefined, after?: () => void, until?: Promise<void>, onFailure?: (error: unknown) => T | undefined): void {
    if (!until && this.held.length === 0) {
      if (text !== undefined) this.send(text);
      after?.();
      return;
    }
    const held: Held<T> = { text, after, ready: until === undefined };
    this.held.push(held);
    until?.then(
      () => this.release(held),
      (error: unknown) => {
        held.text = onFailure ? onFailure(error) : held.text;
        this.release(held);
      },
    );
  }

  /** A reply whose text is not known yet: it and every reply after it wait for `text`. */
  replyWhen(text: Promise<T | undefined>, after?: () => void): void {
    const held: Held<T> = { text: undefined, after, ready: false };
    this.held.push(held);
    void text.then((t) => {
      held.text = t;
      this.release(held);
    });
  }

  /** Nothing is waiting: a reply sent now goes straight out. */
  get idle(): boolean {
    return this.held.length === 0;
  }

  /** Sends every held reply that is ready, in order, stopping at the first still waiting. */
  private release(held: Held<T>): void {
    held.ready = true;
    const queue = this.held;
    while (queue.length > 0 && (queue[0] as Held<T>).ready) {
      const next = queue.shift() as Held<T>;
      if (this.isClosed()) continue;
      if (next.text !== undefined) this.send(next.text);
      next.after?.();
    }
  }
}

interface Held<T> {
  text: T | undefined;
  readonly after: (() => void) | undefined;
  ready: boolean;
}
