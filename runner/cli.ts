import { Command, InvalidArgumentError, Option } from 'commander';
import { fitgridVersion } from './version.ts';
import { DEFAULT_STORE as defaultStore } from './store/open.ts';

// Every command and flag is declared here; each action lazy-imports its module from
// commands/, so `fitgrid validate` never loads TensorFlow.js or the AWS SDK.

const int = (name: string, min = 0) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`Expected \`${name}\` to be an integer from ${min} and up, got ${value}`);
  return n;
};
const num = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`Expected \`${name}\` to be a number ≥ 0, got ${value}`);
  return n;
};
/** `--data-root DIR`, repeatable: a folder a grid file's data may lie in (runner/grid/data-roots.ts). */
const dataRootOption = () =>
  new Option('--data-root <dir>', 'a folder data files may lie in besides the grid\'s own (repeatable)')
    .argParser((value: string, previous: string[] = []) => [...previous, value]);
const fraction = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`Expected \`${name}\` to be a number from 0 to 1, got ${value}`);
  return n;
};
const engineOption = () =>
  new Option('--engine <engine>', 'training engine (overrides the grid file)').choices(['auto', 'fused', 'packed', 'layers']);

export function buildCli(): Command {
  const program = new Command('fitgrid')
    .description('Compare remedies against overfitting over seeded grids, and compile the results into a static report.')
    .version(fitgridVersion)
    .showSuggestionAfterError()
    .exitOverride();

  program
    .command('validate')
    .description('check a grid file and count its trials and cells')
    .argument('<grid>', 'grid file (YAML)')
    .addOption(dataRootOption())
    .action(async (grid: string, o) => void (await (await import('./commands/validate.ts')).validate({ grid, ...o })));

  program
    .command('plan')
    .description('show the cells of a grid, what the store already has and the trial-epochs left')
    .argument('<grid>', 'grid file (YAML)')
    .option('--store <store>', 'results store: a folder or s3://bucket/prefix', defaultStore)
    .option('--pack-size <n>', 'most trials trained together in one pack', int('pack-size', 1))
    .option('--target-minutes <n>', 'AWS Batch: how long a child should train (sizes the cloud packs)', num('target-minutes'))
    .option('--cpu-vcpus <n>', 'AWS Batch: vCPUs of a CPU worker', int('cpu-vcpus', 1))
    .option('--calibration <file>', 'calibration for the estimated child time')
    .addOption(dataRootOption())
    .action(async (grid: string, o) => void (await (await import('./commands/plan.ts')).plan({ grid, ...o })));

  program
    .command('data')
    .description("write the grid's dataset as CSV (features, label, split), exactly what will be trained on")
    .argument('<grid>', 'grid file (YAML)')
    .option('--out <file>', 'output file (default: standard output)')
    .addOption(dataRootOption())
    .action(async (grid: string, o) => void (await (await import('./commands/data.ts')).data({ grid, ...o })));

  program
    .command('run')
    .description('train every trial of a grid on this machine (resumes: stored trials are skipped)')
    .argument('<grid>', 'grid file (YAML)')
    .option('--store <store>', 'results store: a folder or s3://bucket/prefix', defaultStore)
    .option('--concurrency <n>', 'worker processes (default: one per core)', int('concurrency', 1))
    .option('--pack-size <n>', 'most trials trained together in one pack', int('pack-size', 1))
    .addOption(engineOption())
    .option('--report', 'build the report site when training ends')
    .option('--out <dir>', 'with --report: where to write the site')
    .addOption(dataRootOption())
    .action(async (grid: string, o) => void (await (await import('./commands/run.ts')).run({ grid, ...o })));

  program
    .command('worker')
    .description('train one pack of a sweep (what `run` spawns and what an AWS Batch child runs)')
    .option('--store <store>', 'results store: a folder or s3://bucket/prefix', process.env.FITGRID_STORE ?? defaultStore)
    .option('--sweep <name>', 'sweep name', process.env.FITGRID_SWEEP)
    .option('--pack <i>', 'pack index (default: AWS_BATCH_JOB_ARRAY_INDEX, else 0)', int('pack'))
    .addOption(engineOption())
    .action(async (o) => void (await (await import('./commands/worker.ts')).worker(o)));

  program
    .command('report')
    .description('compile a sweep into a static website and print the path of its index.html')
    .argument('<sweep>', 'sweep name (the grid file\'s `name`)')
    .option('--store <store>', 'results store: a folder or s3://bucket/prefix', defaultStore)
    .option('--out <dir>', 'where to write the site (default: <store>/sweeps/<sweep>/site)')
    .option('--publish [url]', 'upload the site to s3://bucket/prefix/ (default: the sweep\'s site/ in the store)')
    .action(async (sweep: string, o) => void (await (await import('./commands/report.ts')).report({ sweep, ...o })));

  program
    .command('serve')
    .description('serve a built report on 127.0.0.1 and print its URL (from S3: the published site, with your AWS credentials)')
    .argument('<sweep>', 'sweep name')
    .option('--store <store>', 'results store: a folder, or s3://bucket/prefix to read the published site', defaultStore)
    .option('--dir <dir>', 'a built site folder (default: <store>/sweeps/<sweep>/site)')
    .option('--port <n>', 'port (default: any free one)', int('port'))
    .action(async (sweep: string, o) => void (await (await import('./commands/serve.ts')).serve({ sweep, ...o })));

  program
    .command('bench')
    .description('measure the engines side by side on the seed workload and print ratios')
    .option('--quick', 'fewer epochs and trials: under a minute')
    .option('--json', 'print the figures as one JSON object')
    .option('--epochs <n>', 'epochs per trial', int('epochs', 1))
    .option('--calibrate [file]', 'measure this machine for cost estimates and write them (default: ./fitgrid-calibration.json)')
    .option('--suite', 'time the workload suite per core, fitgrid beside PyTorch reference loops')
    .option('--cnn', 'the CNN workloads (8×8 digits, 28×28 Fashion-MNIST): conv engine against a PyTorch loop')
    .option('--report <n>', 'instead: time the report path (summary, site) on N synthetic trials, with peak RSS', int('report', 1))
    .option('--grid <file>', 'with --report: the grid to synthesise (default grids/moons-scale.yaml)')
    .option('--s3 <n>', 'with --report: results to write to and read back from a local S3-compatible server (0: skip)', int('s3'))
    .option('--summary-only', 'with --report: time the summary only (no site build)')
    .option('--store <dir>', 'with --report: a folder store to use and keep (reused when it has the sweep)')
    .action(async (o) => void (await (await import('./commands/bench.ts')).bench(o)));

  program
    .command('export')
    .description("write a sweep's trials and per-epoch histories as tidy tables (trials.<ext>, epochs.<ext>) for pandas, DuckDB or polars")
    .argument('<sweep>', 'sweep name')
    .option('--store <store>', 'results store: a folder or s3://bucket/prefix', defaultStore)
    .requiredOption('--out <dir>', 'folder to write the two files into (created if missing)')
    .addOption(new Option('--format <format>', 'file format').choices(['parquet', 'csv']).default('parquet'))
    .action(async (sweep: string, o) => void (await (await import('./commands/export.ts')).exportSweep({ sweep, ...o })));

  program
    .command('synth')
    .description('write synthetic results for a grid without training (for benchmarks and tests of the report path)')
    .argument('<grid>', 'grid file (YAML)')
    .requiredOption('--store <store>', 'an empty folder or s3://bucket/prefix (refused if it holds trained results)')
    .option('--trials <n>', 'about this many trials: the grid\'s cells × as many seeds as needed, the last seed cut short', int('trials', 1))
    .option('--seeds <n>', "this many seeds instead of the grid's", int('seeds', 1))
    .option('--failed <share>', 'share of trials that fail', fraction('failed'), 0.01)
    .option('--diverged <share>', 'share of trials that diverge', fraction('diverged'), 0.005)
    .option('--threads <n>', 'threads that make and write results (default: one per core, or FITGRID_THREADS)', int('threads', 1))
    .action(async (grid: string, o) => void (await (await import('./commands/synth.ts')).synth({ grid, ...o })));

  program
    .command('launch')
    .description('run a grid on AWS Batch: CPU packs to the Fargate queue, packs that need tfjs to the GPU queue, then a report job')
    .argument('<grid>', 'grid file (YAML)')
    .option('--store <url>', 's3://bucket/prefix for results')
    .option('--stack <name>', 'read bucket, queues and job definitions from this CloudFormation stack\'s outputs')
    .option('--cpu-queue <name>', 'AWS Batch queue (Fargate) for the packs the fused engine trains')
    .option('--cpu-job-definition <name>', 'CPU worker job definition')
    .option('--gpu-queue <name>', 'AWS Batch queue (EC2 GPU) for the packs that need tfjs')
    .option('--gpu-job-definition <name>', 'GPU worker job definition')
    .option('--queue <name>', 'one queue for every pack (no routing)')
    .option('--job-definition <name>', 'with --queue: the worker job definition')
    .option('--report-job-definition <name>', 'job definition for the report job (default: the stack\'s, else the worker one)')
    .option('--cpu-vcpus <n>', 'vCPUs of a CPU worker (default: the stack\'s, else 4)', int('cpu-vcpus', 1))
    .option('--target-minutes <n>', 'how long a child should train: sizes the packs', num('target-minutes'))
    .option('--pack-size <n>', 'most trials trained together in one pack (overrides the sizing)', int('pack-size', 1))
    .option('--timeout <seconds>', 'per-child timeout', int('timeout', 60), 3600)
    .option('--attempts <n>', 'attempts per child for infrastructure failures', int('attempts', 1), 3)
    .option('--price <prices>', 'for the estimate: a GPU-hour price, or gpu-hour=N,vcpu-hour=N,gb-hour=N')
    .option('--calibration <file>', 'calibration for the estimate (default: ./fitgrid-calibration.json if present, else the bundled one)')
    .option('--backend <backend>', 'FITGRID_BACKEND for GPU workers', 'tensorflow')
    .option('--dry-run', 'print the routing and every request as JSON and send nothing')
    .addOption(dataRootOption())
    .action(async (grid: string, o) => void (await (await import('./commands/launch.ts')).launch({ grid, ...o })));

  program
    .command('status')
    .description('progress of a launched sweep: AWS Batch states next to the trials in the store')
    .argument('<sweep>', 'sweep name')
    .option('--store <store>', 'results store', defaultStore)
    .option('--watch', 'refresh until every job has ended')
    .option('--interval <seconds>', 'with --watch', int('interval', 1), 30)
    .action(async (sweep: string, o) => void (await (await import('./commands/status.ts')).status({ sweep, ...o })));

  program
    .command('pull')
    .description("copy a sweep's manifest and trials into a local store (only what is missing)")
    .argument('<sweep>', 'sweep name')
    .requiredOption('--store <store>', 'source store, e.g. s3://bucket/prefix')
    .option('--to <dir>', 'destination folder store', defaultStore)
    .action(async (sweep: string, o) => void (await (await import('./commands/pull.ts')).pull({ sweep, ...o })));

  return program;
}
