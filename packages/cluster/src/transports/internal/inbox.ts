/**
 * A batch queue with at most one waiting reader: the producer push()es items and flush()es
 * after a burst; the reader gets every queued item at once, or null once closed and empty.
 */
export class Inbox<T> {
  private items: T[] = [];
  private waiter: ((v: T[] | null) => void) | null = null;
  private closedFlag = false;

  get closed(): boolean {
    return this.closedFlag;
  }

  push(item: T): void {
    if (!this.closedFlag) this.items.push(item);
  }

  /** Hand the queued items to the waiting reader, if both exist. */
  flush(): void {
    if (this.waiter !== null && this.items.length > 0) {
      const w = this.waiter;
      const out = this.items;
      this.waiter = null;
      this.items = [];
      w(out);
    }
  }

  next(): Promise<T[] | null> {
    if (this.items.length > 0) {
      const out = this.items;
      this.items = [];
      return Promise.resolve(out);
    }
    if (this.closedFlag) return Promise.resolve(null);
    if (this.waiter !== null)
      return Promise.reject(new Error('receive(): another receive() is already pending'));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** No more items; the reader gets what is queued, then null. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      const out = this.items;
      this.items = [];
      w(out.length > 0 ? out : null);
    }
  }
}
