/**
 * A bounded map from token string to its verified claims, kept until the
 * token's expiry. When full, the oldest entry goes first (insertion order).
 */
export class TokenCache<T extends { readonly expiresAt: number }> {
  private readonly entries = new Map<string, T>();

  /** @param maxEntries upper bound on entries (default 10,000). */
  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, now: number): T | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, value: T): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, value);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
