import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.ts';

export interface S3rver {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}

interface StoredObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: Buffer | NodeJS.ReadableStream;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver (a development dependency: the local S3-compatible server of the tests and the S3 read
 * benchmark) on 127.0.0.1 with one bucket. Not yet listening: call `run()`.
 *
 * s3rver 3.7 answers a PUT before its file is written (it resolves on the hashing stream, not the
 * file stream) and rewrites the object, its md5 and its metadata in place, so a GET right after an
 * overwrite can read nothing, and one beside it a half-written metadata file. Real S3 makes a PUT
 * visible whole once it is acknowledged; this server is made to do the same by writing each of
 * those files under a temporary name and renaming it into place once it is flushed.
 */
export async function createS3rver(options: { directory: string; bucket: string; port?: number }): Promise<S3rver> {
  let S3rverClass: new (options: object) => S3rver & { store: FilesystemStore };
  let allowedMetadata: string[];
  try {
    // @ts-expect-error s3rver ships no types; it is a development dependency, absent from production installs
    S3rverClass = (await import('s3rver')).default;
    // @ts-expect-error as above
    allowedMetadata = (await import('s3rver/lib/models/object.js')).default.ALLOWED_METADATA;
  } catch {
    throw new UserError('the local S3-compatible server (s3rver) is a development dependency: run `npm install` in the fitgrid checkout, or pass --s3 0 to the report benchmark');
  }
  const server = new S3rverClass({
    address: '127.0.0.1', port: options.port ?? 0, silent: true, directory: options.directory, configureBuckets: [{ name: options.bucket }],
  });
  const store = server.store;
  store.putObject = async (object) => {
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    await writeWhole(store.getResourcePath(object.bucket, object.key, 'object'), content, count);
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
  // what s3rver keeps of an object's metadata: its allowed headers and the user's x-amz-meta-*
  store.putMetadata = async (bucket, key, metadata, md5) => {
    const kept = Object.entries(metadata ?? {}).filter(([name]) => allowedMetadata.includes(name) || name.startsWith('x-amz-meta-'));
    if (md5) await writeWhole(store.getResourcePath(bucket, key, 'object.md5'), Readable.from([md5]));
    await writeWhole(store.getResourcePath(bucket, key, 'metadata.json'), Readable.from([JSON.stringify(Object.fromEntries(kept), null, 2)]));
  };
  return server;
}

/** Streams into a temporary file beside `file` and renames it into place once flushed. */
async function writeWhole(file: string, content: NodeJS.ReadableStream, ...through: Transform[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // The temporary name does not end in s3rver's object suffix, so listings never show it.
  const partial = `${file}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await pipeline([content, ...through, createWriteStream(partial)]);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
