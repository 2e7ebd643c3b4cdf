import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { UserError } from '../errors.ts';
import { contentTypeFor } from './content-type.ts';
import { sortByBytes } from './folder.ts';
import { checkKey, checkPrefix } from './key-check.ts';
import type { PutOptions, Store } from './store.ts';

export interface S3Location {
  bucket: string;
  /** Empty, or ending with `/`. */
  prefix: string;
}

/** Bodies above this go up as a multipart upload in parts of this size. */
export const multipartThreshold = 8 * 1024 * 1024;
const attempts = 5;
const logKey = /^sweeps\/[^/]+\/logs\//;

/** `s3://bucket/some/prefix` → `{ bucket, prefix: 'some/prefix/' }`. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
  const bucket = m?.[1] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UserError(`Expected \`--store\` to be s3://bucket/prefix with a valid bucket name, got ${url}`);
  }
  let prefix = (m?.[2] ?? '').replace(/\/+$/, '');
  if (prefix) prefix += '/';
  try {
    checkPrefix(prefix);
  } catch (error) {
    throw new UserError(`Expected \`--store\` to be s3://bucket/prefix, got ${url} (${(error as Error).message})`);
  }
  return { bucket, prefix };
}

/**
 * The client the standard AWS configuration describes (credential chain, profiles, region),
 * pointed at `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` when set, for S3-compatible servers.
 */
export function makeS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const config: S3ClientConfig = {
    region: once(resolveRegion),
    followRegionRedirects: true,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
  };
  if (endpoint) {
    Object.assign(config, {
      endpoint,
      forcePathStyle: true,
      // With the defaults, S3-compatible servers may store aws-chunked framing inside objects.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } satisfies S3ClientConfig);
  }
  return new S3Client(config);
}

/** The SDK calls a region provider on every request: resolve it once per client. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** The SDK's own region chain (env, profile), then us-east-1: redirects find the bucket's region. */
async function resolveRegion(): Promise<string> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return 'us-east-1';
  } finally {
    probe.destroy();
  }
}

/**
 * The store under `s3://bucket/prefix`. S3 PUTs are atomic, so `put` needs no temporary key;
 * `ifAbsent` uses `If-None-Match: *` and a HEAD first (servers that ignore the header, and a
 * cheap skip when the key is there). Transient failures are retried with backoff; a store that
 * stays unreachable becomes a UserError: writes that already succeeded are in the bucket.
 */
export class S3Store implements Store {
  readonly url: string;
  private ifNoneMatch = true;

  constructor(
    readonly location: S3Location,
    readonly client: S3Client = makeS3Client(),
  ) {
    this.url = `s3://${location.bucket}/${location.prefix}`;
  }

  private full(key: string): string {
    return this.location.prefix + checkKey(key);
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    const Key = this.full(key);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const ContentType = options.contentType ?? contentTypeFor(key);
    // The stack's lifecycle rule expires old pack logs by this tag (prefixes cannot match mid-key).
    const tagging = logKey.test(key) ? { Tagging: 'fitgrid-kind=log' } : {};
    if (options.ifAbsent && (await this.exists(key))) return;
    if (bytes.byteLength > multipartThreshold) {
      await this.retry(`put ${key}`, () =>
        new Upload({
          client: this.client,
          params: { Bucket: this.location.bucket, Key, Body: bytes, ContentType, ...tagging },
          partSize: multipartThreshold,
          queueSize: 2,
          leavePartsOnError: false,
        }).done(),
      );
      return;
    }
    const send = (conditional: boolean) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key,
          Body: bytes,
          ContentType,
          ...tagging,
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
    await this.retry(`put ${key}`, async () => {
      if (!options.ifAbsent) return void (await send(false));
      try {
        await send(this.ifNoneMatch);
      } catch (error) {
        const status = statusOf(error);
        // 412: the key appeared since the HEAD; 409: another conditional write of it is in flight.
        if (status === 412 || status === 409) return;
        if (this.ifNoneMatch && (status === 501 || (status === 400 && /If-None-Match|NotImplemented|InvalidArgument/i.test(describe(error))))) {
          this.ifNoneMatch = false;
          await send(false);
          return;
        }
        throw error;
      }
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.full(key);
    return this.retry(`get ${key}`, async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key }));
        return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.full(key);
    return this.retry(`exists ${key}`, async () => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    });
  }

  async list(prefix: string): Promise<string[]> {
    return sortByBytes([...(await this.listStamped(prefix)).keys()]);
  }

  async listStamped(prefix: string): Promise<Map<string, string>> {
    checkPrefix(prefix);
    const stamped = new Map<string, string>();
    let ContinuationToken: string | undefined;
    do {
      const page = await this.retry(`list ${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.location.prefix + prefix, ContinuationToken }),
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key) stamped.set(o.Key.slice(this.location.prefix.length), `${o.Size}:${o.ETag}`);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return stamped;
  }

  /** Bounded retry on top of the SDK's: connection errors outlast its few quick attempts. */
  private async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const base = Number(process.env.FITGRID_S3_RETRY_MS) || 1_000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (error) {
        const user = this.userError(error);
        if (user) throw user;
        if (!isTransient(error)) throw error;
        if (attempt >= attempts) {
          throw new UserError(`cannot reach ${this.url} (${describe(error)} on ${what} after ${attempts} attempts); nothing already written was lost`, {}, 1);
        }
        await new Promise((resolve) => setTimeout(resolve, base * 2 ** (attempt - 1) * (0.75 + Math.random() / 2)));
      }
    }
  }

  private userError(error: unknown): UserError | undefined {
    const e = error as { name?: string; Code?: string };
    const name = e?.Code ?? e?.name ?? '';
    if (name === 'AccessDenied' || name === 'Forbidden' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || (statusOf(error) === 403)) {
      return new UserError(`access denied to ${this.url} (${describe(error)}): check the AWS credentials, profile and the bucket policy`, {}, 1);
    }
    if (name === 'NoSuchBucket') return new UserError(`bucket ${this.location.bucket} does not exist (${this.url})`, {}, 1);
    if (name === 'CredentialsProviderError') {
      return new UserError(`no AWS credentials for ${this.url} (${describe(error)}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`, {}, 1);
    }
    return undefined;
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

const transientNames = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestTimeout',
  'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'TimeoutError', 'AbortError',
]);
const transientCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $retryable?: unknown; cause?: unknown; errors?: unknown[] };
  if (!e) return false;
  const status = statusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.name && transientNames.has(e.name)) return true;
  if (e.code && transientCodes.has(e.code)) return true;
  if (e.$retryable) return true;
  if (/socket hang up|ECONNREFUSED|ECONNRESET/i.test(String((e as Error).message))) return true;
  if (Array.isArray(e.errors)) return e.errors.some(isTransient);
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause);
}

function describe(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; errors?: { message?: string }[] };
  const code = e?.code ?? e?.name ?? 'Error';
  // An AggregateError (one failure per address tried) has an empty message of its own.
  const message = e?.message || e?.errors?.map((x) => x.message).join('; ') || '';
  const status = statusOf(error);
  return [code, status ? `HTTP ${status}` : '', message && message !== code ? message : ''].filter(Boolean).join(': ');
}
