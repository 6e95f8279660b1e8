/**
 * Runs work for the same keys one after another within this process, so that a call's state is read and
 * written in the order its events arrived even when a PBX posts them concurrently.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Whether work for `key` is running or waiting to. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  async run<T>(keys: string[], work: () => Promise<T>): Promise<T> {
    if (keys.length === 0) return work();
    const before = Promise.all(keys.map((key) => this.tails.get(key)));
    const mine = before.then(work, work);
    const tail = mine.catch(() => {});
    for (const key of keys) this.tails.set(key, tail);
    try {
      return await mine;
    } finally {
      for (const key of keys) if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
