/**
 * Replies in the order of their requests, when some of them must wait for the disk (publisher
 * confirms, durable declares). In the common case nothing waits and every reply goes straight out;
 * once one waits, the replies behind it are held until it is released.
 */
export class OrderedReplies {
  private readonly held: Held[] = [];

  constructor(
    private readonly send: (text: string) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /**
   * Sends `text` (if any) and then runs `after` (if any), in turn. With `until`, they wait for it;
   * if it fails, `onFailure` may give the text to send instead.
   */
  reply(text: string | undefined, after?: () => void, until?: Promise<void>, onFailure?: (error: unknown) => string | undefined): void {
    if (!until && this.held.length === 0) {
      if (text !== undefined) this.send(text);
      after?.();
      return;
    }
    const held: Held = { text, after, ready: until === undefined };
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
  replyWhen(text: Promise<string | undefined>): void {
    const held: Held = { text: undefined, after: undefined, ready: false };
    this.held.push(held);
    void text.then((t) => {
      held.text = t;
      this.release(held);
    });
  }

  /** Sends every held reply that is ready, in order, stopping at the first still waiting. */
  private release(held: Held): void {
    held.ready = true;
    const queue = this.held;
    while (queue.length > 0 && (queue[0] as Held).ready) {
      const next = queue.shift() as Held;
      if (this.isClosed()) continue;
      if (next.text !== undefined) this.send(next.text);
      next.after?.();
    }
  }
}

interface Held {
  text: string | undefined;
  readonly after: (() => void) | undefined;
  ready: boolean;
}
