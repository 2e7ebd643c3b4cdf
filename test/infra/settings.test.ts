import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { afterAll, expect, test } from 'vitest';
import { settingsFrom } from '../../infra/settings.ts';
import { defaultSettings } from '../../infra/stack.ts';

// an App without an outdir leaves a cdk.outXXXX folder in the system's temp folder
const outdir = mkdtempSync(path.join(tmpdir(), 'fitgrid-cdk-settings-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));
const app = (props: AppProps = {}) => new App({ outdir, ...props });

test('settingsFrom reads instance types, Spot, max vCPUs and image tag from CDK context', () => {
  const cdk = app({ context: { 'fitgrid:instanceTypes': 'g5.xlarge, g5.2xlarge', 'fitgrid:spot': 'true', 'fitgrid:maxvCpus': '128', 'fitgrid:imageTag': 'v2' } });
  expect(settingsFrom(cdk, {})).toEqual({ ...defaultSettings, instanceTypes: ['g5.xlarge', 'g5.2xlarge'], spot: true, maxvCpus: 128, imageTag: 'v2' });
});

test('settingsFrom falls back to FITGRID_INFRA_* variables, then to the defaults (g4dn, On-Demand)', () => {
  expect(settingsFrom(app(), { FITGRID_INFRA_MAX_VCPUS: '16', FITGRID_INFRA_SPOT: 'false' })).toEqual({ ...defaultSettings, maxvCpus: 16 });
  expect(settingsFrom(app(), {})).toEqual(defaultSettings);
  expect(defaultSettings.instanceTypes.every((t) => t.startsWith('g4dn.'))).toBe(true);
});

test('settingsFrom refuses a malformed number or flag', () => {
  expect(() => settingsFrom(app({ context: { 'fitgrid:maxvCpus': 'lots' } }), {})).toThrow('Expected `fitgrid:maxvCpus` to be an integer from 1 and up, got lots');
  expect(() => settingsFrom(app({ context: { 'fitgrid:spot': 'yes' } }), {})).toThrow('Expected `fitgrid:spot` to be true or false, got yes');
});

test('settingsFrom reads the Fargate worker size and public sites, and refuses a size Fargate cannot run', () => {
  const cdk = app({ context: { 'fitgrid:cpuVcpus': '8', 'fitgrid:cpuMemoryMiB': '16384', 'fitgrid:publicSites': 'true', 'fitgrid:cpuMaxvCpus': '32' } });
  expect(settingsFrom(cdk, {})).toMatchObject({ cpuVcpus: 8, cpuMemoryMiB: 16_384, publicSites: true, cpuMaxvCpus: 32 });
  expect(defaultSettings.publicSites).toBe(false);
  expect(() => settingsFrom(app({ context: { 'fitgrid:cpuVcpus': '3' } }), {})).toThrow('Fargate workers take 1, 2, 4, 8 or 16 vCPUs, got 3');
  expect(() => settingsFrom(app(), { FITGRID_INFRA_CPU_MEMORY_MIB: '4096' })).toThrow('Fargate gives 4 vCPUs 8–30 GiB in 1 GiB steps, got 4096 MiB');
  expect(() => settingsFrom(app({ context: { 'fitgrid:cpuEphemeralStorageGiB': '10' } }), {})).toThrow(/from 21 to 200/);
});

test('settingsFrom refuses the old `site` setting, which made sites public without saying so', () => {
  expect(() => settingsFrom(app({ context: { 'fitgrid:site': 'true' } }), {})).toThrow(/`fitgrid:publicSites=true` makes them public/);
});
