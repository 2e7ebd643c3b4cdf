import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createS3rver, type S3rver } from '../../runner/bench/s3rver.ts';
import { root } from './cli.ts';

export interface S3Server {
  /** `s3://<bucket>/<prefix>/`: pass it as `--store`. */
  url: string;
  bucket: string;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** What a process needs to reach this server through the standard AWS configuration. */
  env: Record<string, string>;
  /** Stops listening and drops every open connection, as a lost network would. */
  stop(): Promise<void>;
  /** Listens again on the same port, with the objects written before. */
  restart(): Promise<void>;
  /**
   * Writes objects straight into the server's folder (keys relative to the bucket), to set up
   * thousands of objects in milliseconds; reading them back still goes through S3 requests.
   */
  seed(objects: Record<string, string | Uint8Array>): Promise<void>;
  /** Stops and deletes the server's folder. */
  close(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver, in-process) on 127.0.0.1 with one bucket, for tests.
 * Paginated listing needs `--openssl-legacy-provider` (vitest.config.ts sets it for workers).
 * Call `useS3Env(server)` to point this process's SDK clients at it.
 */
export async function startS3(options: { bucket?: string; prefix?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'fitgrid-test';
  const prefix = options.prefix ?? 'runs';
  const directory = await mkdtemp(path.join(tmpdir(), 'fitgrid-s3rver-'));
  let port = 0;
  let instance: S3rver | undefined;

  const start = async () => {
    instance = await createS3rver({ directory, bucket, port });
    port = (await instance!.run()).port;
  };
  const stop = async () => {
    const server = instance?.httpServer;
    instance = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    url: `s3://${bucket}/${prefix}${prefix ? '/' : ''}`,
    bucket,
    endpoint,
    env: s3Env(port),
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    seed: async (objects) => {
      for (const [key, body] of Object.entries(objects)) {
        // s3rver's filesystem layout: <dir>/<bucket>/<key>._S3rver_object (metadata is optional).
        const file = path.join(directory, bucket, ...key.split('/')) + '._S3rver_object';
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, body);
        await writeFile(`${file}.md5`, createHash('md5').update(body).digest('hex'));
      }
    },
    close: async () => {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Points this process's S3 clients at the server; returns a function that restores the env. */
function useS3Env(server: S3Server): () => void {
  const saved = Object.fromEntries(Object.keys(server.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, server.env);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * One server for the calling test file: started before its tests with this process's S3 clients
 * pointed at it, closed after them. Returns a getter, since the server exists only once started.
 */
export function s3ForThisFile(options: Parameters<typeof startS3>[0] = {}): () => S3Server {
  let server: S3Server | undefined;
  let restoreEnv: (() => void) | undefined;
  beforeAll(async () => {
    server = await startS3(options);
    restoreEnv = useS3Env(server);
  });
  afterAll(async () => {
    restoreEnv?.();
    await server?.close();
  });
  return () => server!;
}

/** A free port on 127.0.0.1 (the server is restarted on the same one in the fault test). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on('error', reject);
  });

/**
 * s3rver as a child process, so that stopping it drops every connection at once, as a lost
 * network does, and a restart on the same port and folder serves the same objects.
 */
export async function startS3Child(port: number, directory: string, bucket: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(root, 'node_modules/s3rver/bin/s3rver.js'), '-a', '127.0.0.1', '-p', String(port), '-d', directory, '--configure-bucket', bucket, '--silent'], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (let i = 0; i < 200; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    if (up) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`s3rver did not start on port ${port}`);
}

/** What a process needs to reach a server on this port through the standard AWS configuration. */
export const s3Env = (port: number): Record<string, string> => ({
  AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  // s3rver's paginated listing needs it in every process that runs one or talks to one
  NODE_OPTIONS: '--openssl-legacy-provider',
});
