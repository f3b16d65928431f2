// Serializes async operations per key (a vmid or an owner uid) inside one process.
//
// Guarantees: for one key, critical sections run one at a time in call order; different keys run
// concurrently; a failing section releases the key. Assumptions: it protects one provider object
// only — other processes are kept in line by the backend's own atomic primitives.

export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>()

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const current = previous.then(section, section)
    const tail = current.catch(() => undefined)
    this.#tails.set(key, tail)
    try {
      return await current
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }
}
