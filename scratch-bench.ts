import { runCnnBench, formatCnnBench } from './runner/train/conv/bench.ts';
runCnnBench({ epochs: Number(process.argv[2] ?? 3), log: (l) => console.error(l) }).then((r) => process.stdout.write(formatCnnBench(r)));
