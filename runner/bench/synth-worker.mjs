// A worker thread of `fitgrid synth` (synth-writer.ts): makes and stores the results of each
// batch of trials it is sent and answers with their statuses. The writer is TypeScript; tsx
// compiles it here as it does for the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { SyntheticWriter } = await import('./synth-writer.ts');
const writer = await SyntheticWriter.open(workerData);
parentPort.on('message', async (trials) => {
  try {
    parentPort.postMessage({ statuses: await writer.write(trials) });
  } catch (error) {
    // a UserError (a store that refuses writes) keeps its one-line message and exit code
    const user = error?.name === 'UserError';
    parentPort.postMessage({ error: error?.message ?? String(error), ...(user ? { exitCode: error.exitCode } : {}) });
  }
});
parentPort.postMessage({ ready: true });
