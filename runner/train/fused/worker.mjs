// One worker thread: its own kernel instance, trains the groups it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import { createKernel } from './kernel.mjs';

const kernel = createKernel();
parentPort.on('message', ({ id, job }) => {
  try {
    const result = kernel.trainGroup(job);
    const transfer = [result.history.buffer, result.stops.buffer, ...result.kept.map((w) => w.buffer)];
    for (const p of result.proba) if (p) for (const a of [p.train, p.val, p.surface]) if (a) transfer.push(a.buffer);
    parentPort.postMessage({ id, result }, transfer);
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
