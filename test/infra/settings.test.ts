import { App } from 'aws-cdk-lib';
import { expect, test } from 'vitest';
import { settingsFrom } from '../../infra/settings.ts';
import { defaultSettings } from '../../infra/stack.ts';

test('settingsFrom reads instance types, Spot, max vCPUs and image tag from CDK context', () => {
  const app = new App({ context: { 'fitgrid:instanceTypes': 'g5.xlarge, g5.2xlarge', 'fitgrid:spot': 'true', 'fitgrid:maxvCpus': '128', 'fitgrid:imageTag': 'v2' } });
  expect(settingsFrom(app, {})).toEqual({ ...defaultSettings, instanceTypes: ['g5.xlarge', 'g5.2xlarge'], spot: true, maxvCpus: 128, imageTag: 'v2' });
});

test('settingsFrom falls back to FITGRID_INFRA_* variables, then to the defaults (g4dn, On-Demand)', () => {
  expect(settingsFrom(new App(), { FITGRID_INFRA_MAX_VCPUS: '16', FITGRID_INFRA_SPOT: 'false' })).toEqual({ ...defaultSettings, maxvCpus: 16 });
  expect(settingsFrom(new App(), {})).toEqual(defaultSettings);
  expect(defaultSettings.instanceTypes.every((t) => t.startsWith('g4dn.'))).toBe(true);
});

test('settingsFrom refuses a malformed number or flag', () => {
  expect(() => settingsFrom(new App({ context: { 'fitgrid:maxvCpus': 'lots' } }), {})).toThrow('Expected `fitgrid:maxvCpus` to be an integer from 1 and up, got lots');
  expect(() => settingsFrom(new App({ context: { 'fitgrid:spot': 'yes' } }), {})).toThrow('Expected `fitgrid:spot` to be true or false, got yes');
});
