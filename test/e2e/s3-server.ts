import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { root } from '../helpers/cli.ts';

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

export const s3Env = (port: number) => ({
  AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  NODE_OPTIONS: '--openssl-legacy-provider',
});
