import { UserError } from '../errors.ts';
import { manifestKey, siteKey, sweepPrefix, trialKey, trialsPrefix } from '../store/keys.ts';
import { openStore } from '../store/open.ts';
import { checkKey } from '../store/key-check.ts';
import { copyChanged, copyKeys } from '../store/sync.ts';
import { parseStoredManifest } from '../store/manifest.ts';
import { terminal, type Output } from './output.ts';

export interface PullOptions {
  /** Where the command's lines go (default: stdout and stderr). */
  output?: Output;
  sweep: string;
  store: string;
  to: string;
}

export interface PullResult {
  trialsCopied: number;
  trialsPresent: number;
  trialsPending: number;
  otherFilesCopied: number;
  /** Data files the manifest names by hash (data/<sha256>) that were missing here. */
  dataFilesCopied: number;
}

/**
 * `fitgrid pull <sweep> --store s3://… --to DIR`: the sweep's manifest, summary and logs, the
 * trials its manifest names that the source has and DIR lacks, and the data files it stores by hash. Trials are content-addressed
 * and never rewritten, so a copy already present is never downloaded again.
 */
export async function pull(options: PullOptions): Promise<PullResult> {
  const output = options.output ?? terminal;
  const [from, to] = await Promise.all([openStore(options.store), openStore(options.to)]);
  const manifestBytes = await from.get(manifestKey(options.sweep));
  if (!manifestBytes) {
    throw new UserError(`no sweep \`${options.sweep}\` in ${from.url} (${manifestKey(options.sweep)} is missing)`);
  }
  const manifest = parseStoredManifest(manifestBytes, `${from.url}${manifestKey(options.sweep)}`);
  const ids = manifest.trials.map((t) => t.trialId);
  // Large data files (IDX) are stored once by hash, outside the sweep: without them a local
  // report could not draw the image galleries.
  const dataKeys = Object.values(manifest.dataKeys ?? {});

  const [sourceTrials, localTrials, sweepFiles] = await Promise.all([
    from.list(trialsPrefix),
    to.list(trialsPrefix),
    from.list(sweepPrefix(options.sweep)),
  ]);
  refuseUnsafeKeys([...sweepFiles, ...dataKeys], from.url);
  const inSource = new Set(sourceTrials);
  const local = new Set(localTrials);
  const wanted = ids.map(trialKey);
  const missing = wanted.filter((k) => inSource.has(k) && !local.has(k));
  const trialsPresent = wanted.filter((k) => local.has(k)).length;
  const trialsPending = wanted.filter((k) => !inSource.has(k) && !local.has(k)).length;

  const { copied } = await copyKeys(from, to, missing);
  const dataMissing = (await Promise.all(dataKeys.map(async (k) => ((await to.exists(k)) ? [] : [k])))).flat();
  const { copied: dataFilesCopied } = await copyKeys(from, to, dataMissing);
  // The manifest, summary and logs may change as a sweep goes on: refresh them when they differ.
  // The published site stays in the cloud; `fitgrid report` rebuilds it locally.
  const others = sweepFiles.filter((k) => !k.startsWith(siteKey(options.sweep)));
  const otherFilesCopied = await copyChanged(from, to, others);

  output.print(
    `pulled ${options.sweep} from ${from.url} to ${to.url}: ${copied} trials copied, ${trialsPresent} already here, ` +
      `${trialsPending} not in the store yet; ${otherFilesCopied} of ${others.length} sweep files updated` +
      (dataKeys.length ? `; ${dataFilesCopied} of ${dataKeys.length} data files copied` : ''),
  );
  return { trialsCopied: copied, trialsPresent, trialsPending, otherFilesCopied, dataFilesCopied };
}

/** A bucket may hold keys no folder can: one of those under the sweep stops the pull before anything is copied. */
function refuseUnsafeKeys(keys: string[], source: string) {
  for (const key of keys) {
    try {
      checkKey(key);
    } catch (error) {
      throw new UserError(`${source} lists a key that cannot be copied safely, so nothing was pulled: ${(error as Error).message}`);
    }
  }
}
