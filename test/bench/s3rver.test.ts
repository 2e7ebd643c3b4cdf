import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createS3rver } from '../../runner/bench/s3rver.ts';

test('the local S3 server shows an overwritten object whole: old or new during the PUT, new after it', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'fitgrid-s3rver-'));
  const server = await createS3rver({ directory, bucket: 'b' });
  const { port } = await server.run();
  // One attempt: the SDK's retries would hide a partial read behind a slow success.
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const put = (body: string) => client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k.json', Body: body }));
  const get = async () => (await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k.json' }))).Body!.transformToString();
  try {
    for (let round = 0; round < 8; round++) {
      const old = `${round}`.repeat(1 << 20);
      const next = `${round + 1}`.repeat(1 << 20);
      await put(old);
      const [, ...during] = await Promise.all([put(next), get(), get(), get(), get()]);
      for (const seen of during) expect([old, next]).toContain(seen);
      expect(await get()).toBe(next);
    }
  } finally {
    client.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
});
