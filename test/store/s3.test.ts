import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { UserError } from '../../runner/errors.ts';
import { openStore } from '../../runner/store/open.ts';
import { multipartThreshold, parseS3Url, S3Store } from '../../runner/store/s3.ts';
import { s3ForThisFile } from '../helpers/s3.ts';

const s3 = s3ForThisFile();

beforeAll(() => {
  process.env.FITGRID_S3_RETRY_MS = '5';
});
afterAll(() => {
  delete process.env.FITGRID_S3_RETRY_MS;
});

test('parseS3Url splits bucket and prefix and normalises the trailing slash', () => {
  expect(parseS3Url('s3://bucket/a/b')).toEqual({ bucket: 'bucket', prefix: 'a/b/' });
  expect(parseS3Url('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', prefix: 'a/b/' });
  expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
  expect(() => parseS3Url('s3://Bad_Bucket/x')).toThrow(UserError);
  expect(() => parseS3Url('s3://bucket/a/../b')).toThrow(UserError);
});

test('list pages past 1,000 keys with continuation tokens', async () => {
  const store = await openStore(`${s3().url}many`);
  const keys = Array.from({ length: 1_050 }, (_, i) => `trials/${String(i).padStart(5, '0')}.json`);
  await s3().seed(Object.fromEntries(keys.map((k) => [`runs/many/${k}`, '{}'])));
  await s3().seed({ 'runs/other/trials/x.json': '{}' });
  const listed = await store.list('trials/');
  expect(listed).toHaveLength(1_050);
  expect(listed).toEqual(keys);
});

test('a body above the multipart threshold goes up in parts and reads back byte-equal', async () => {
  const store = (await openStore(`${s3().url}big`)) as S3Store;
  const commands: string[] = [];
  store.client.middlewareStack.add((next, context) => (args) => (commands.push(String(context.commandName)), next(args)), { step: 'initialize' });
  const size = multipartThreshold + 3 * 1024 * 1024 + 17;
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 2654435761) >>> 24;
  await store.put('site/big.bin', body);
  const back = await store.get('site/big.bin');
  expect(back?.byteLength).toBe(size);
  expect(Buffer.compare(Buffer.from(back!), Buffer.from(body))).toBe(0);
  expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(2);
  expect(commands).toContain('CompleteMultipartUploadCommand');
});

test('a stopped server ends in a clear UserError after bounded retries, and a restart works again', async () => {
  const store = await openStore(`${s3().url}fault`);
  await store.put('trials/before.json', 'kept');
  await s3().stop();
  try {
    const error = await store.put('trials/during.json', 'x').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(1);
    expect((error as UserError).message).toMatch(/^cannot reach s3:\/\/fitgrid-test\/runs\/fault\/ \(.*ECONNREFUSED.*after 5 attempts\); nothing already written was lost$/);
    await expect(store.get('trials/before.json')).rejects.toThrow(/cannot reach/);
  } finally {
    await s3().restart();
  }
  expect(new TextDecoder().decode(await store.get('trials/before.json'))).toBe('kept');
  await store.put('trials/after.json', 'ok');
  expect(await store.list('trials/')).toEqual(['trials/after.json', 'trials/before.json']);
});

test('wrong credentials give an access-denied UserError, not a retry loop', async () => {
  const store = await openStore(`${s3().url}denied`);
  process.env.AWS_ACCESS_KEY_ID = 'NOBODY';
  try {
    await expect(store.put('k.json', '{}')).rejects.toThrow(/^access denied to s3:\/\/fitgrid-test\/runs\/denied\/ /);
  } finally {
    process.env.AWS_ACCESS_KEY_ID = s3().env.AWS_ACCESS_KEY_ID;
  }
});

test('a missing bucket is named in a UserError', async () => {
  const store = await openStore('s3://no-such-bucket/x');
  await expect(store.put('k.json', '{}')).rejects.toThrow(/bucket no-such-bucket does not exist/);
});

test('put stores the content type it is given, or one guessed from the key', async () => {
  const store = (await openStore(`${s3().url}types`)) as S3Store;
  await store.put('a.html', '<p>');
  await store.put('b.bin', 'x', { contentType: 'text/x-custom' });
  const type = async (key: string) => (await store.client.send(new HeadObjectCommand({ Bucket: s3().bucket, Key: `runs/types/${key}` }))).ContentType;
  expect(await type('a.html')).toBe('text/html; charset=utf-8');
  expect(await type('b.bin')).toBe('text/x-custom');
});

test('objects written through the store are stored without aws-chunked framing', async () => {
  const store = await openStore(`${s3().url}raw`);
  await store.put('x.json', '{"a":1}');
  const res = await fetch(`${s3().endpoint}/${s3().bucket}/runs/raw/x.json`);
  expect(await res.text()).toBe('{"a":1}');
});
