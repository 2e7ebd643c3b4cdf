// The folded packs' helper thread (helper.ts): runs its share of each host update.
// stepTrials is TypeScript; tsx compiles it here as it does for the main thread.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { serveSteps } = await import('./helper.ts');
parentPort.on('message', serveSteps);
parentPort.postMessage('ready');
