import type { PutOptions, Store } from '../../runner/store/store.ts';

/** A Store in a Map, for tests that must not depend on the folder or S3 stores. */
export class MemoryStore implements Store {
  readonly url = 'memory://test';
  readonly objects = new Map<string, Uint8Array>();
  async put(key: string, body: string | Uint8Array, options?: PutOptions) {
    if (options?.ifAbsent && this.objects.has(key)) return;
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
  }
  async get(key: string) { return this.objects.get(key); }
  async exists(key: string) { return this.objects.has(key); }
  async list(prefix: string) { return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(); }
  putJson(key: string, value: unknown) { this.objects.set(key, new TextEncoder().encode(JSON.stringify(value))); }
}
