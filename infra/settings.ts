import type { App } from 'aws-cdk-lib';
import { defaultSettings, type FitgridSettings } from './stack.ts';

const envNames: Record<keyof FitgridSettings, string> = {
  instanceTypes: 'FITGRID_INFRA_INSTANCE_TYPES',
  maxvCpus: 'FITGRID_INFRA_MAX_VCPUS',
  spot: 'FITGRID_INFRA_SPOT',
  imageTag: 'FITGRID_INFRA_IMAGE_TAG',
  prefix: 'FITGRID_INFRA_PREFIX',
  workerVcpus: 'FITGRID_INFRA_WORKER_VCPUS',
  workerMemoryMiB: 'FITGRID_INFRA_WORKER_MEMORY_MIB',
  site: 'FITGRID_INFRA_SITE',
};

/**
 * Settings from CDK context (`-c fitgrid:instanceTypes=g5.xlarge,g5.2xlarge`,
 * `-c fitgrid:spot=true`, `-c fitgrid:maxvCpus=128`, …) or FITGRID_INFRA_* environment variables.
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
  return {
    instanceTypes: raw('instanceTypes')?.split(',').map((s) => s.trim()).filter(Boolean) ?? defaultSettings.instanceTypes,
    maxvCpus: number('maxvCpus', defaultSettings.maxvCpus),
    spot: bool('spot', defaultSettings.spot),
    imageTag: raw('imageTag') ?? defaultSettings.imageTag,
    prefix: raw('prefix') ?? defaultSettings.prefix,
    workerVcpus: number('workerVcpus', defaultSettings.workerVcpus),
    workerMemoryMiB: number('workerMemoryMiB', defaultSettings.workerMemoryMiB),
    site: bool('site', defaultSettings.site),
  };
}
