/** Records taken together: written with one writev and made durable with one fdatasync. */
export class Flush {
  frames: Buffer[] = [];
  bytes = 0;
  /** Sequence number of the newest record in it (see `DefinitionsLog.writes`). */
  lastSeq = 0;
  private done: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined;

  get count(): number {
    return this.frames.length;
  }

  add(frame: Buffer, seq: number): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    this.lastSeq = seq;
  }

  /** A failed flush's records go back in front of what arrived meanwhile, in their order. */
  putBack(failed: Flush): void {
    this.frames = [...failed.frames, ...this.frames];
    this.bytes += failed.bytes;
    this.lastSeq = Math.max(this.lastSeq, failed.lastSeq);
  }

  whenSynced(): Promise<void> {
    if (!this.done) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      this.done = { promise, resolve, reject };
    }
    return this.done.promise;
  }

  finish(error?: unknown): void {
    if (!this.done) return;
    if (error === undefined) this.done.resolve();
    else this.done.reject(error);
  }
}
