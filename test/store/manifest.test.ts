import { describe, expect, it } from 'vitest';
import { readManifest, writeManifest } from '../../runner/store/manifest.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { fakeManifest } from '../helpers/fake-sweep.ts';

describe('writeManifest', () => {
  it('creates the manifest, then leaves an identical plan untouched', async () => {
    const store = new MemoryStore();
    expect(await writeManifest(store, fakeManifest(2, 2))).toBe('created');
    const first = store.objects.get('sweeps/fake/manifest.json');
    expect(await writeManifest(store, { ...fakeManifest(2, 2), createdAt: '2027-01-01T00:00:00Z' })).toBe('unchanged');
    expect(store.objects.get('sweeps/fake/manifest.json')).toBe(first);
  });

  it('keeps the previous manifest as a version when the grid changes', async () => {
    const store = new MemoryStore();
    await writeManifest(store, fakeManifest(2, 2));
    const old = new TextDecoder().decode(store.objects.get('sweeps/fake/manifest.json'));
    expect(await writeManifest(store, fakeManifest(3, 2))).toBe('replaced');
    const versions = await store.list('sweeps/fake/manifests/');
    expect(versions).toHaveLength(1);
    expect(new TextDecoder().decode(store.objects.get(versions[0]))).toBe(old);
    expect((await readManifest(store, 'fake')).packs).toHaveLength(3);
  });

  it('replaces the manifest when only the grid text changed (a new description or verdict thresholds), trials untouched', async () => {
    const store = new MemoryStore();
    await writeManifest(store, fakeManifest(2, 2));
    const edited = { ...fakeManifest(2, 2), gridSource: fakeManifest(2, 2).gridSource + '\nverdict: { variance: 0.5 }\n' };
    expect(await writeManifest(store, edited)).toBe('replaced');
    expect((await readManifest(store, 'fake')).gridSource).toContain('variance: 0.5');
  });

  it('refuses to replace a manifest of another format version and writes nothing', async () => {
    const store = new MemoryStore();
    await writeManifest(store, fakeManifest(2, 2, 'fake', 99));
    const before = store.objects.get('sweeps/fake/manifest.json');
    await expect(writeManifest(store, fakeManifest(2, 2, 'fake', 1))).rejects.toThrow(/manifest format 99.*reads format 1/);
    expect(store.objects.get('sweeps/fake/manifest.json')).toBe(before);
    expect(store.objects.size).toBe(1);
  });
});

describe('readManifest', () => {
  it('names the missing key and what to run', async () => {
    await expect(readManifest(new MemoryStore(), 'absent')).rejects.toThrow(/sweeps\/absent\/manifest.json.*fitgrid run/);
  });

  it('rejects another format version when one is expected', async () => {
    const store = new MemoryStore();
    await writeManifest(store, fakeManifest(1, 1, 'fake', 2));
    await expect(readManifest(store, 'fake', 1)).rejects.toThrow(/format 2/);
  });
});
