import type { App } from 'aws-cdk-lib';
import { fargateSizeProblem } from './fargate.ts';
import { defaultSettings, type FitgridSettings } from './stack.ts';

const envNames: Record<keyof FitgridSettings, string> = {
  instanceTypes: 'FITGRID_INFRA_INSTANCE_TYPES',
  maxvCpus: 'FITGRID_INFRA_MAX_VCPUS',
  spot: 'FITGRID_INFRA_SPOT',
  imageTag: 'FITGRID_INFRA_IMAGE_TAG',
  prefix: 'FITGRID_INFRA_PREFIX',
  workerVcpus: 'FITGRID_INFRA_WORKER_VCPUS',
  workerMemoryMiB: 'FITGRID_INFRA_WORKER_MEMORY_MIB',
  publicSites: 'FITGRID_INFRA_PUBLIC_SITES',
  cpuMaxvCpus: 'FITGRID_INFRA_CPU_MAX_VCPUS',
  cpuVcpus: 'FITGRID_INFRA_CPU_VCPUS',
  cpuMemoryMiB: 'FITGRID_INFRA_CPU_MEMORY_MIB',
  cpuEphemeralStorageGiB: 'FITGRID_INFRA_CPU_EPHEMERAL_STORAGE_GIB',
};

/**
 * Settings from CDK context (`-c fitgrid:instanceTypes=g5.xlarge,g5.2xlarge`,
 * `-c fitgrid:spot=true`, `-c fitgrid:maxvCpus=128`, `-c fitgrid:cpuVcpus=8`,
 * `-c fitgrid:publicSites=true`, …) or FITGRID_INFRA_* environment variables.
 */
export function settingsFrom(app: App, env: NodeJS.ProcessEnv = process.env): FitgridSettings {
  const raw = (name: keyof FitgridSettings): string | undefined => {
    const fromContext = app.node.tryGetContext(`fitgrid:${name}`);
    if (fromContext !== undefined) return String(fromContext);
    return env[envNames[name]];
  };
  const number = (name: keyof FitgridSettings, fallback: number) => {
    const v = raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Expected \`fitgrid:${name}\` to be an integer from 1 and up, got ${v}`);
    return n;
  };
  const bool = (name: keyof FitgridSettings, fallback: boolean) => {
    const v = raw(name);
    if (v === undefined) return fallback;
    if (!/^(true|false)$/.test(v)) throw new Error(`Expected \`fitgrid:${name}\` to be true or false, got ${v}`);
    return v === 'true';
  };
  if (app.node.tryGetContext('fitgrid:site') !== undefined || env.FITGRID_INFRA_SITE !== undefined)
    throw new Error('`fitgrid:site` is gone: sites are private (read them with `fitgrid serve --store s3://…`); `fitgrid:publicSites=true` makes them public');
  const settings: FitgridSettings = {
    instanceTypes: raw('instanceTypes')?.split(',').map((s) => s.trim()).filter(Boolean) ?? defaultSettings.instanceTypes,
    maxvCpus: number('maxvCpus', defaultSettings.maxvCpus),
    spot: bool('spot', defaultSettings.spot),
    imageTag: raw('imageTag') ?? defaultSettings.imageTag,
    prefix: raw('prefix') ?? defaultSettings.prefix,
    workerVcpus: number('workerVcpus', defaultSettings.workerVcpus),
    workerMemoryMiB: number('workerMemoryMiB', defaultSettings.workerMemoryMiB),
    publicSites: bool('publicSites', defaultSettings.publicSites),
    cpuMaxvCpus: number('cpuMaxvCpus', defaultSettings.cpuMaxvCpus),
    cpuVcpus: number('cpuVcpus', defaultSettings.cpuVcpus),
    cpuMemoryMiB: number('cpuMemoryMiB', defaultSettings.cpuMemoryMiB),
    cpuEphemeralStorageGiB: number('cpuEphemeralStorageGiB', defaultSettings.cpuEphemeralStorageGiB),
  };
  const size = fargateSizeProblem(settings.cpuVcpus, settings.cpuMemoryMiB);
  if (size) throw new Error(`\`fitgrid:cpuVcpus\`/\`fitgrid:cpuMemoryMiB\`: ${size}`);
  if (settings.cpuEphemeralStorageGiB < 21 || settings.cpuEphemeralStorageGiB > 200)
    throw new Error(`Expected \`fitgrid:cpuEphemeralStorageGiB\` to be from 21 to 200 (Fargate's range), got ${settings.cpuEphemeralStorageGiB}`);
  if (settings.cpuMaxvCpus < settings.cpuVcpus)
    throw new Error(`Expected \`fitgrid:cpuMaxvCpus\` to be at least \`fitgrid:cpuVcpus\` (${settings.cpuVcpus}), got ${settings.cpuMaxvCpus}`);
  return settings;
}
