import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ZodIssue } from 'zod';
import { UserError, firstLine } from '../errors.ts';
import { canonicalJson, isPlainObject } from './canonical.ts';
import { dataRoots, resolveDataFile } from './data-roots.ts';
import { DEFAULT_LIMITS, estimateTrialMiB, overLimit, widestLayer, type DataFileShape, type Limits } from './limits.ts';
import {
  cnnShrinks, dataSchema, defaultSplit, gridFileSchema, hiddenLayers, IMAGE_ONLY_AUGMENTATIONS, modelSchema, trainSchema, type GridFile,
} from './schema.ts';
import type { Augmentation, DataSpec, DropoutValue, Grid, ModelSpec, PartialConfig, TrainSpec } from '../records/config.ts';

type Path = (string | number)[];

/** `grid.dropout[1]`, `include[0].model.hidden`: the field as a user finds it in the file. */
const fieldName = (p: Path) =>
  p.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), '');

/** Where things are in one grid file, so every error can name its line. */
class Source {
  /** Size and columns of each data file read, by sha256, for the memory estimate. */
  readonly dataFiles = new Map<string, DataFileShape>();
  constructor(readonly file: string, readonly doc: Document, readonly lines: LineCounter, readonly raw: unknown, readonly roots: string[]) {}

  /** The line of the deepest part of `p` that exists: a key's line for map fields, an item's line in lists. */
  line(p: Path): number | undefined {
    let node: unknown = this.doc.contents;
    let offset = (node as Node | null)?.range?.[0];
    for (const seg of p) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === seg);
        if (!pair) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        node = node.items[seg];
        offset = (node as Node).range?.[0] ?? offset;
      } else break;
    }
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  value(p: Path): unknown {
    let v: unknown = this.raw;
    for (const seg of p) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
    return v;
  }

  fail(p: Path, message: string): never {
    throw new UserError(message, { file: this.file, line: this.line(p), field: fieldName(p) || undefined });
  }
}

const describe = (v: unknown) => {
  if (v === undefined) return 'nothing';
  const text = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const isMismatch = (issue: ZodIssue, at: Path) =>
  issue.path.length === at.length &&
  (issue.code === 'invalid_type' || issue.code === 'invalid_literal' || issue.code === 'invalid_enum_value');

/**
 * A union reports every branch's failure; the user meant the branch whose type matched. When
 * none did, the union's own phrase ("a rate or a list of rates") is the message.
 */
function leafIssues(issue: ZodIssue): ZodIssue[] {
  if (issue.code !== 'invalid_union') {
    return issue.code === 'unrecognized_keys' ? [{ ...issue, path: [...issue.path, issue.keys[0]] }] : [issue];
  }
  const meant = issue.unionErrors
    .map((e) => e.issues)
    .filter((issues) => !issues.every((i) => isMismatch(i, issue.path)))
    .sort((a, b) => a.length - b.length)[0];
  return meant ? meant.flatMap(leafIssues) : [issue];
}

function issueMessage(issue: ZodIssue, src: Source, at: Path): string {
  const full = [...at, ...issue.path];
  if (issue.code === 'unrecognized_keys') return issue.message;
  const name = fieldName(full.filter((s) => typeof s === 'string').slice(-1)) || 'grid file';
  const value = src.value(full);
  if (value === undefined) return `Missing required field \`${name}\`: expected ${issue.message}`;
  return `Expected \`${name}\` to be ${issue.message}, got ${describe(value)}`;
}

/** Parse `value` (found at `at` in the file) with `schema`, or fail with the issue that comes first in the file. */
function parseAt<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ZodIssue[] } } }, value: unknown, src: Source, at: Path): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap(leafIssues);
  // First in the file; on one line, an unknown field first: it usually explains a missing one.
  const rank = (i: ZodIssue) => (src.line([...at, ...i.path]) ?? 0) * 2 + (i.code === 'unrecognized_keys' ? 0 : 1);
  const first = issues.reduce((a, b) => (rank(b) < rank(a) ? b : a));
  src.fail([...at, ...first.path], issueMessage(first, src, at));
}

// ---- checks that span fields --------------------------------------------------------------------

function checkDistinct(values: unknown[], src: Source, at: Path, what: string) {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const key = canonicalJson(v);
    const before = seen.get(key);
    if (before !== undefined) src.fail([...at, i], `Duplicate ${what} ${describe(src.value([...at, i]))} (same as \`${fieldName([...at, before])}\`)`);
    seen.set(key, i);
  });
}

function checkDropout(dropout: DropoutValue, model: ModelSpec, src: Source, at: Path) {
  if (typeof dropout === 'number') return;
  const layers = hiddenLayers(model);
  if (dropout.length !== layers) {
    src.fail(at, `Expected \`dropout\` to have one rate per hidden layer (${layers}${model.kind === 'cnn' ? ': conv blocks, then dense' : ''}), got ${dropout.length}`);
  }
}

const IMAGE_KINDS = new Set(['digits', 'images', 'idx']);

function checkModel(model: ModelSpec, data: DataSpec, src: Source, at: Path) {
  if (model.kind === 'cnn' && !IMAGE_KINDS.has(data.kind)) {
    src.fail([...at, 'kind'], `A \`cnn\` needs image data (\`digits\`, \`images\` or \`idx\`), not \`${data.kind}\``);
  }
  const shape = data.kind === 'digits' ? [8, 8] : data.kind === 'images' ? [data.height, data.width] : undefined;
  const shrunk = shape && cnnShrinks(model, shape[0], shape[1]);
  if (shrunk) src.fail([...at, 'blocks'], shrunk);
}

function checkAugmentation(a: Augmentation | null, data: DataSpec, src: Source, at: Path) {
  if (!a || IMAGE_KINDS.has(data.kind)) return;
  const option = IMAGE_ONLY_AUGMENTATIONS.find((k) => a[k] !== undefined);
  if (option) src.fail([...at, option], `\`${option}\` augments images; \`${data.kind}\` data takes jitter, rotation and scale`);
}

async function checkData(data: DataSpec, src: Source, at: Path): Promise<DataSpec> {
  if ((data.kind === 'moons' || data.kind === 'circles') && data.split.kind === 'first' && data.split.train >= data.samples) {
    src.fail([...at, 'split', 'train'], `Expected \`train\` to be less than \`samples\` (${data.samples}), got ${data.split.train}`);
  }
  if (data.kind === 'idx') return checkIdxSection(data, src, at);
  if (data.kind !== 'csv' && data.kind !== 'images') return data;
  return { ...data, sha256: await hashDataFile(data.path, src, [...at, 'path']) };
}

/** Every data file a grid names passes the data-roots rule here, then is read once for its hash. */
async function hashDataFile(relative: string, src: Source, at: Path): Promise<string> {
  const found = await resolveDataFile(relative, src.file, src.roots);
  if ('problem' in found) src.fail(at, found.problem);
  const bytes = await readFile(found.file).catch((e: NodeJS.ErrnoException) =>
    src.fail(at, `Cannot read data file ${found.file} (${e.code ?? e.message})`));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const end = bytes.indexOf(10);
  const header = end < 0 ? bytes : bytes.subarray(0, end);
  src.dataFiles.set(sha256, { bytes: bytes.length, columns: header.filter((b) => b === 44).length + 1 });
  return sha256;
}

/** The sizes one trial config sets, against the ceilings; `at` is where its sections are in the file. */
function checkSizes(c: { data: DataSpec; model: ModelSpec; train: TrainSpec }, src: Source, at: Path, limits: Limits) {
  const over = (p: Path, name: keyof Limits, what: string, value: number) => {
    if (value > limits[name]) src.fail([...at, ...p], overLimit(name, what, value, limits[name]));
  };
  if (c.data.kind === 'moons' || c.data.kind === 'circles') over(['data', 'samples'], 'samples', 'The number of samples', c.data.samples);
  over(['model', c.model.kind === 'mlp' ? 'hidden' : 'dense'], 'units', 'The widest layer\'s number of units', widestLayer(c.model));
  over(['train', 'epochs'], 'epochs', 'The number of epochs', c.train.epochs);
  const file = 'sha256' in c.data ? src.dataFiles.get(c.data.sha256) : undefined;
  over(['model'], 'memoryMiB', 'The estimated memory of one trial in MiB', estimateTrialMiB(c.data, c.model, c.train, file));
}

/** An idx section: each path becomes `{ path, sha256 }`; the files' contents are checked where they load (runner/data/). */
async function checkIdxSection(data: DataSpec & { kind: 'idx' }, src: Source, at: Path): Promise<DataSpec> {
  const raw = data as unknown as { images: string; labels: string; val: { images: string; labels: string; size: number | null } | null };
  const file = async (p: string, field: Path) => ({ path: p, sha256: await hashDataFile(p, src, [...at, ...field]) });
  if (raw.val && data.split) src.fail([...at, 'split'], '`split` and `val` exclude each other: with `val` the training file trains and the `val` files validate');
  if (data.classNames) checkDistinct(data.classNames, src, [...at, 'classNames'], 'class name');
  return {
    ...data,
    images: await file(raw.images, ['images']),
    labels: await file(raw.labels, ['labels']),
    split: raw.val ? null : data.split ?? defaultSplit(),
    val: raw.val && { size: raw.val.size, images: await file(raw.val.images, ['val', 'images']), labels: await file(raw.val.labels, ['val', 'labels']) },
  };
}

// ---- include / exclude --------------------------------------------------------------------------

type Sections = { data: unknown; model: unknown; train: unknown };
const SECTIONS = ['data', 'model', 'train'] as const;
/** Values replaced whole by a partial config, never merged into: a split's two forms do not mix. */
const ATOMIC = new Set(['split']);


/** A partial section over the file's own section: objects merge, lists and values replace, a new `kind` replaces all. */
function mergeSection(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  if (over.kind !== undefined && over.kind !== base.kind) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = ATOMIC.has(k) ? v : mergeSection(base[k], v);
  return out;
}

/** The file's sections, and the axis values an include takes where it names none. */
interface Base { data: DataSpec; model: ModelSpec; train: TrainSpec; dropout: DropoutValue; augmentation: Augmentation | null; limits: Limits }

/**
 * Checks one include/exclude entry by merging its sections over the file's and parsing the result,
 * so a misspelt or ill-typed field fails at its own line. Includes keep whole, resolved sections
 * (expansion then only overrides); excludes keep what they name, to match trials by subset.
 */
async function resolvePartial(entry: Record<string, unknown>, raw: Sections, base: Base, src: Source, at: Path, include: boolean): Promise<PartialConfig> {
  const out: PartialConfig = { ...entry };
  const merged = { data: base.data, model: base.model, train: base.train };
  for (const section of SECTIONS) {
    if (entry[section] === undefined) continue;
    const value = mergeSection(raw[section], entry[section]);
    const where = [...at, section];
    if (section === 'data') merged.data = await checkData(parseAt(dataSchema, value, src, where), src, where);
    else if (section === 'model') merged.model = parseAt(modelSchema, value, src, where);
    else merged.train = parseAt(trainSchema, value, src, where);
    if (include) out[section] = merged[section];
  }
  if (include) {
    if (SECTIONS.some((s) => entry[s] !== undefined)) checkSizes(merged, src, at, base.limits);
    if (entry.model !== undefined || entry.data !== undefined) checkModel(merged.model, merged.data, src, [...at, entry.model !== undefined ? 'model' : 'data']);
    checkDropout((entry.dropout as DropoutValue | undefined) ?? base.dropout, merged.model, src, entry.dropout === undefined ? at : [...at, 'dropout']);
    const augmentation = entry.augmentation === undefined ? base.augmentation : (entry.augmentation as Augmentation | null);
    checkAugmentation(augmentation, merged.data, src, entry.augmentation === undefined ? at : [...at, 'augmentation']);
  }
  return out;
}

// ---- the loader ---------------------------------------------------------------------------------

function parseYaml(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const message = firstLine(error).replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`YAML does not parse: ${message}`, { file, line: error.linePos?.[0].line });
  }
  return { doc, lines };
}

/**
 * Seeds, bootstrap resamples and the sweep's trial count against their ceilings, counted without
 * building anything (a million combinations fail here at once); then the list of seeds.
 */
function checkCounts(g: GridFile, src: Source, limits: Limits): number[] {
  const seedCount = typeof g.seeds === 'number' ? g.seeds : g.seeds.length;
  if (seedCount > limits.seeds) src.fail(['seeds'], overLimit('seeds', 'The number of seeds', seedCount, limits.seeds));
  if (g.bootstrap > limits.bootstrap) src.fail(['bootstrap'], overLimit('bootstrap', 'The number of bootstrap resamples', g.bootstrap, limits.bootstrap));
  const combinations = g.grid.l2.length * g.grid.dropout.length * g.grid.augmentation.length * g.grid.patience.length;
  const trials = (combinations + g.include.length) * seedCount * Math.max(1, g.bootstrap);
  if (trials > limits.trials) {
    const how = `(${combinations.toLocaleString('en-US')} axis combinations + ${g.include.length} includes) × ${seedCount} seeds${g.bootstrap ? ` × ${g.bootstrap} resamples` : ''}`;
    src.fail(['grid'], overLimit('trials', `The number of trials before exclude, ${how},`, trials, limits.trials));
  }
  return typeof g.seeds === 'number' ? Array.from({ length: g.seeds }, (_, i) => i) : g.seeds;
}

/**
 * YAML keeps a `__proto__` key as a plain field, but merging it into a section (include/exclude)
 * would set that object's prototype: the field would vanish silently. It is refused anywhere.
 */
function refuseProtoKeys(value: unknown, src: Source, at: Path): void {
  if (Array.isArray(value)) value.forEach((v, i) => refuseProtoKeys(v, src, [...at, i]));
  else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key === '__proto__') src.fail([...at, key], 'Unknown field `__proto__` (a reserved name, never a grid field)');
      refuseProtoKeys(value[key], src, [...at, key]);
    }
  }
}

/** Aliases may not multiply a small file into a huge value (a "billion laughs" bomb): yaml counts them. */
const MAX_ALIASES = 1000;

function toPlain(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    if (error instanceof ReferenceError) {
      throw new UserError(`YAML aliases expand too far (over ${MAX_ALIASES} alias uses): ${firstLine(error)}`, { file });
    }
    throw error;
  }
}

export interface LoadGridOptions {
  /** Folders data files may lie in besides the grid's own, /usr/share/datasets and FITGRID_DATA_ROOTS (`--data-root`). */
  dataRoots?: string[];
}

/**
 * Reads, validates and defaults a grid file. Every mistake is a UserError naming the file, the
 * line and the field; data files are resolved relative to the grid file, allowed only under the
 * data folders (data-roots.ts), and hashed; every size is checked against its ceiling (limits.ts).
 *
 * @example
 * const grid = await loadGrid('grids/moons-sweep.yaml');
 * expandGrid(grid).length; // 216
 */
export async function loadGrid(file: string, options: LoadGridOptions = {}): Promise<Grid> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`Cannot read grid file (${e.code === 'ENOENT' ? 'no such file' : e.code ?? e.message})`, { file });
  });
  const { doc, lines } = parseYaml(text, file);
  const raw = toPlain(doc, file);
  const roots = dataRoots(file, options.dataRoots);
  const src = new Source(file, doc, lines, raw, roots);
  if (!isPlainObject(raw)) src.fail([], 'Expected the grid file to be a mapping (name, data, model, train, grid, ...)');
  refuseProtoKeys(raw, src, []);
  const g = parseAt(gridFileSchema, raw, src, []);
  const limits: Limits = { ...DEFAULT_LIMITS, ...g.limits };
  const seeds = checkCounts(g, src, limits);

  const data = await checkData(g.data as DataSpec, src, ['data']);
  const model = g.model;
  checkModel(model, data, src, ['model']);
  checkSizes({ data, model, train: g.train }, src, [], limits);
  for (const axis of ['l2', 'dropout', 'augmentation', 'patience'] as const) {
    checkDistinct(g.grid[axis], src, ['grid', axis], `value on axis \`${axis}\`:`);
  }
  g.grid.dropout.forEach((d, i) => checkDropout(d, model, src, ['grid', 'dropout', i]));
  g.grid.augmentation.forEach((a, i) => checkAugmentation(a, data, src, ['grid', 'augmentation', i]));
  checkDistinct(seeds, src, ['seeds'], 'seed');

  const base: Base = { data, model, train: g.train, dropout: g.grid.dropout[0], augmentation: g.grid.augmentation[0]!, limits };
  const rawSections = raw as unknown as Sections;
  const partials = async (list: 'include' | 'exclude') => {
    const out: PartialConfig[] = [];
    for (const [i, entry] of g[list].entries()) {
      out.push(await resolvePartial(entry as Record<string, unknown>, rawSections, base, src, [list, i], list === 'include'));
    }
    return out;
  };

  return {
    file: path.resolve(file),
    dataRoots: roots,
    name: g.name,
    description: g.description,
    data,
    model,
    train: g.train,
    axes: g.grid,
    seeds,
    bootstrap: g.bootstrap,
    include: await partials('include'),
    exclude: await partials('exclude'),
    verdict: g.verdict,
  };
}
