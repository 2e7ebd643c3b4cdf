import { HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, test } from 'vitest';
import { S3Store } from '../../runner/store/s3.ts';

/** The branches of `ifAbsent` that s3rver cannot show: it ignores If-None-Match on PUT. */
const fault = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
const notFound = () => fault('NotFound', 404);

function storeWith() {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const mock = mockClient(client);
  mock.on(HeadObjectCommand).rejects(notFound());
  return { store: new S3Store({ bucket: 'b', prefix: 'p/' }, client), mock };
}

test('ifAbsent sends If-None-Match: * and treats 412 as "already there"', async () => {
  const { store, mock } = storeWith();
  mock.on(PutObjectCommand).rejects(fault('PreconditionFailed', 412));
  await store.put('trials/t.json', '{}', { ifAbsent: true });
  expect(mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  expect(mock.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'b', Key: 'p/trials/t.json', IfNoneMatch: '*' });
});

test('ifAbsent falls back to a plain PUT after the HEAD when the server rejects the header', async () => {
  const { store, mock } = storeWith();
  mock.on(PutObjectCommand).callsFake((input: { IfNoneMatch?: string }) => {
    if (input.IfNoneMatch) throw fault('NotImplemented', 501);
    return {};
  });
  await store.put('trials/t.json', '{}', { ifAbsent: true });
  await store.put('trials/u.json', '{}', { ifAbsent: true });
  const puts = mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.IfNoneMatch);
  expect(puts).toEqual(['*', undefined, undefined]);
});

test('ifAbsent skips the upload when HEAD finds the key', async () => {
  const { store, mock } = storeWith();
  mock.on(HeadObjectCommand).resolves({});
  await store.put('trials/t.json', '{}', { ifAbsent: true });
  expect(mock.commandCalls(PutObjectCommand)).toHaveLength(0);
});

test('pack logs are tagged for the stack\'s log lifecycle rule, other keys are not', async () => {
  const { store, mock } = storeWith();
  mock.on(PutObjectCommand).resolves({});
  await store.put('sweeps/sw/logs/pack-0.jsonl', '{}\n');
  await store.put('trials/t.json', '{}');
  const inputs = mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  expect(inputs.map((i) => [i.Key, i.Tagging, i.ContentType])).toEqual([
    ['p/sweeps/sw/logs/pack-0.jsonl', 'fitgrid-kind=log', 'application/x-ndjson'],
    ['p/trials/t.json', undefined, 'application/json'],
  ]);
});

test('transient failures (503 SlowDown, connection reset) are retried until the request succeeds', async () => {
  process.env.FITGRID_S3_RETRY_MS = '1';
  try {
    const { store, mock } = storeWith();
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    mock.on(PutObjectCommand).rejectsOnce(fault('SlowDown', 503)).rejectsOnce(reset).resolves({});
    await store.put('trials/t.json', '{}');
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(3);
  } finally {
    delete process.env.FITGRID_S3_RETRY_MS;
  }
});

test('a client error such as 400 is not retried', async () => {
  const { store, mock } = storeWith();
  mock.on(PutObjectCommand).rejects(fault('InvalidRequest', 400));
  await expect(store.put('trials/t.json', '{}')).rejects.toThrow('InvalidRequest');
  expect(mock.commandCalls(PutObjectCommand)).toHaveLength(1);
});
