// One worker thread of the conv engine: trains the trainings it is sent, one at a time, with the
// same message protocol as the fused engine's worker (fused/pool.ts runs both).
// trainer.ts is TypeScript; tsx compiles it here as it does for the main thread.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { trainConv } = await import('./trainer.ts');
parentPort.on('message', ({ id, job }) => {
  try {
    const result = trainConv(job);
    const transfer = [result.history.buffer, result.stops.buffer];
    for (const p of result.proba) if (p) transfer.push(p.train.buffer, p.val.buffer);
    parentPort.postMessage({ id, result }, transfer);
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
