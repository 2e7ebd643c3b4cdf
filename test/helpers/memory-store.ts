import type { PutOptions, Store } from '../../runner/store/store.ts';

/** A Store in a Map, for tests that must not depend on the folder or S3 stores. */
export class MemoryStore implements Store {
  readonly url = 'memory://test';
  readonly objects = new Map<string, Uint8Array>();
  /** Each stored array's stamp: a new array under a key (a put, or a test's `objects.set`) is a new stamp. */
  private stamps = new WeakMap<Uint8Array, number>();
  private written = 0;
  async put(key: string, body: string | Uint8Array, options?: PutOptions) {
    if (options?.ifAbsent && this.objects.has(key)) return;
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body.slice());
  }
  async get(key: string) { return this.objects.get(key); }
  async exists(key: string) { return this.objects.has(key); }
  async list(prefix: string) { return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(); }
  async listStamped(prefix: string) {
    return new Map((await this.list(prefix)).map((k) => {
      const bytes = this.objects.get(k)!;
      if (!this.stamps.has(bytes)) this.stamps.set(bytes, ++this.written);
      return [k, `${this.stamps.get(bytes)}`];
    }));
  }
  putJson(key: string, value: unknown) { this.objects.set(key, new TextEncoder().encode(JSON.stringify(value))); }
}
