import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FitgridStack } from '../../infra/stack.ts';
import { settingsFrom } from '../../infra/settings.ts';

/** One synth (a few seconds) shared by every assertion. */
let template: Template;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'fitgrid-cdk-'));
  const app = new App({ outdir });
  const stack = new FitgridStack(app, 'fitgrid-test', { env: { account: '123456789012', region: 'us-east-1' } });
  template = Template.fromStack(stack);
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const statementsOf = (logicalIdPrefix: string) => {
  const policies = template.findResources('AWS::IAM::Policy');
  const id = Object.keys(policies).find((k) => k.startsWith(logicalIdPrefix));
  expect(id, `a policy named ${logicalIdPrefix}*`).toBeDefined();
  return policies[id!].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown; Sid?: string }[];
};
const actions = (s: { Action: string | string[] }) => [s.Action].flat();
const jobDefinition = (logicalIdPrefix: string) => {
  const defs = template.findResources('AWS::Batch::JobDefinition');
  const id = Object.keys(defs).find((k) => k.startsWith(logicalIdPrefix));
  expect(id, `a job definition named ${logicalIdPrefix}*`).toBeDefined();
  return defs[id!];
};

describe('the fitgrid stack', () => {
  test('the GPU worker job definition asks for one GPU, memory below a g4dn.xlarge and a timeout', () => {
    const worker = jobDefinition('WorkerJob');
    const needs = Object.fromEntries(worker.Properties.ContainerProperties.ResourceRequirements.map((r: { Type: string; Value: string }) => [r.Type, r.Value]));
    expect(needs).toEqual({ GPU: '1', MEMORY: '14336', VCPU: '4' });
    expect(Number(needs.MEMORY)).toBeLessThan(16 * 1024);
    expect(worker.Properties.PlatformCapabilities).toEqual(['EC2']);
    expect(worker.Properties.Timeout).toEqual({ AttemptDurationSeconds: 7200 });
  });

  test('the CPU worker and the report job run on Fargate: no GPU, an execution role, a public IP, nothing privileged', () => {
    for (const id of ['CpuWorkerJob', 'ReportJob']) {
      const d = jobDefinition(id);
      const c = d.Properties.ContainerProperties;
      expect(d.Properties.PlatformCapabilities).toEqual(['FARGATE']);
      expect(c.ResourceRequirements.map((r: { Type: string }) => r.Type).sort()).toEqual(['MEMORY', 'VCPU']);
      expect(JSON.stringify(c.ExecutionRoleArn)).toContain('ExecutionRole');
      expect(JSON.stringify(c.JobRoleArn)).toContain('JobRole');
      expect(c.NetworkConfiguration).toEqual({ AssignPublicIp: 'ENABLED' });
      expect(c.EphemeralStorage).toEqual({ SizeInGiB: 21 });
      expect(c.Privileged).toBeUndefined();
      expect(c.LinuxParameters).toBeUndefined();
      expect(c.User).toBeUndefined();
      expect(JSON.stringify(c.Image)).toContain('CpuRepository');
    }
    const cpu = jobDefinition('CpuWorkerJob').Properties.ContainerProperties;
    const needs = Object.fromEntries(cpu.ResourceRequirements.map((r: { Type: string; Value: string }) => [r.Type, r.Value]));
    expect(needs).toEqual({ VCPU: '4', MEMORY: '8192' });
    expect(cpu.Environment).toEqual(expect.arrayContaining([{ Name: 'FITGRID_BACKEND', Value: 'wasm' }, { Name: 'FITGRID_THREADS', Value: '4' }]));
    expect(jobDefinition('ReportJob').Properties.ContainerProperties.Command).toEqual(['report']);
  });

  test('the Fargate queue tries Spot first and On-Demand after, each capped at the configured vCPUs', () => {
    const environments = template.findResources('AWS::Batch::ComputeEnvironment');
    const typeOf = (id: string) => environments[id].Properties.ComputeResources.Type;
    const fargate = Object.keys(environments).filter((id) => /FARGATE/.test(typeOf(id)));
    expect(fargate.map(typeOf).sort()).toEqual(['FARGATE', 'FARGATE_SPOT']);
    for (const id of fargate) expect(environments[id].Properties.ComputeResources.MaxvCpus).toBe(64);
    const queues = Object.values(template.findResources('AWS::Batch::JobQueue'));
    const cpuQueue = queues.find((q) => q.Properties.ComputeEnvironmentOrder.length === 2)!;
    const idOf = (ref: { Ref?: string; 'Fn::GetAtt'?: string[] }) => ref.Ref ?? ref['Fn::GetAtt']![0];
    const order = cpuQueue.Properties.ComputeEnvironmentOrder.map((o: { Order: number; ComputeEnvironment: { Ref?: string } }) => [o.Order, typeOf(idOf(o.ComputeEnvironment))]);
    expect(order).toEqual([[1, 'FARGATE_SPOT'], [2, 'FARGATE']]);
    expect(queues).toHaveLength(2);
  });

  test('GPU instances start from a launch template that requires IMDSv2 with one hop', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 } }),
    });
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: Match.objectLike({ Type: 'EC2', LaunchTemplate: { LaunchTemplateId: { Ref: Match.stringLikeRegexp('^GpuLaunchTemplate') } } }),
    });
  });

  test('the compute environment scales to zero on GPU instances with the AL2023 NVIDIA AMI', () => {
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      Type: 'managed',
      ComputeResources: Match.objectLike({
        MinvCpus: 0,
        MaxvCpus: 64,
        Type: 'EC2',
        InstanceTypes: ['g4dn.xlarge', 'g4dn.2xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
      }),
    });
  });

  test('the retry strategy retries Spot reclaims and infrastructure failures and ends with a catch-all EXIT', () => {
    const defs = Object.values(template.findResources('AWS::Batch::JobDefinition'));
    expect(defs).toHaveLength(3);
    for (const d of defs) {
      const rules = d.Properties.RetryStrategy.EvaluateOnExit;
      expect(rules.length).toBeLessThanOrEqual(5);
      const reclaimed = d.Properties.PlatformCapabilities[0] === 'FARGATE' ? 'Your Spot Task was interrupted*' : 'Host EC2*';
      expect(rules[0]).toEqual({ Action: 'RETRY', OnStatusReason: reclaimed });
      expect(rules).toContainEqual({ Action: 'RETRY', OnExitCode: '75' });
      expect(rules.at(-1)).toEqual({ Action: 'EXIT', OnReason: '*' });
    }
  });

  test('the bucket blocks public access, is encrypted and versioned, and expires old logs', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'fitgrid/sweeps/', TagFilters: [{ Key: 'fitgrid-kind', Value: 'log' }], ExpirationInDays: 90, Status: 'Enabled' })]),
      },
    });
  });

  test('the bucket policy denies every request without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the job role reaches only the fitgrid prefix of the bucket: no s3:* and no * resource', () => {
    const statements = statementsOf('JobRole');
    const json = JSON.stringify(statements);
    expect(json).not.toContain('"s3:*"');
    for (const s of statements) {
      expect(actions(s).every((a) => a.startsWith('s3:') && a !== 's3:*')).toBe(true);
      expect(JSON.stringify(s.Resource)).not.toBe('"*"');
    }
    const objectResources = statements.filter((s) => s.Sid !== 'ListStore').flatMap((s) => [s.Resource].flat());
    for (const r of objectResources) expect(JSON.stringify(r)).toMatch(/\/fitgrid\/(\*|trials\/\*|sweeps\/\*\/(logs\/\*|summary\.json|cache\/\*|site\/\*))"/);
    const writes = statements.find((s) => actions(s).includes('s3:PutObject'));
    expect(JSON.stringify(writes?.Resource)).not.toContain('manifest');
    // the report job keeps its per-cell aggregates beside the summary, so a later report reads only new trials
    expect(JSON.stringify(writes?.Resource)).toContain('sweeps/*/cache/*');
    const list = statements.find((s) => actions(s).includes('s3:ListBucket'));
    expect(list?.Condition).toEqual({ StringLikeIfExists: { 's3:prefix': ['fitgrid/trials/*', 'fitgrid/sweeps/*'] } });
  });

  test('the execution role only pulls the two images and writes logs', () => {
    const statements = statementsOf('ExecutionRole');
    const all = [...new Set(statements.flatMap(actions))].sort();
    expect(all).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    const pulls = statements.filter((s) => actions(s).includes('ecr:BatchGetImage')).map((s) => JSON.stringify(s.Resource)).join(' ');
    expect(pulls).toContain('CpuRepository');
    expect(pulls).toMatch(/"Repository\w+"/);
  });

  test('report sites are private by default: no CloudFront distribution and no grant to CloudFront', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
    expect(JSON.stringify(template.findResources('AWS::S3::BucketPolicy'))).not.toContain('cloudfront');
  });

  test('the outputs that `fitgrid launch --stack` reads are present', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual(
      ['BucketName', 'CpuJobQueueName', 'CpuRepositoryUri', 'CpuWorkerJobDefinitionName', 'CpuWorkerMemoryMiB', 'CpuWorkerVcpus', 'JobQueueName', 'ReportJobDefinitionName', 'RepositoryUri', 'StoreUrl', 'WorkerJobDefinitionName'].sort(),
    );
    expect(JSON.stringify(outputs.StoreUrl.Value)).toMatch(/"s3:\/\/",\{"Ref":"Results\w+"\},"\/fitgrid\/"/);
  });
});

describe('the worker images', () => {
  const read = (name: string) => readFileSync(path.join(import.meta.dirname, '../../infra/docker', name), 'utf8');
  const gpu = read('Dockerfile');
  const cpu = read('Dockerfile.cpu');

  test('the GPU image builds on CUDA 11.8 with cuDNN 8, installs tfjs-node-gpu 4.22.0 and checks its binding', () => {
    expect(gpu).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:11\.8\.0-cudnn8-runtime-ubuntu22\.04@sha256:[0-9a-f]{64}$/m);
    expect(gpu.match(/^FROM .*/gm)?.slice(1)).toEqual(['FROM ${CUDA_IMAGE} AS build', 'FROM ${CUDA_IMAGE}']);
    expect(gpu).toContain('@tensorflow/tfjs-node-gpu@4.22.0');
    expect(gpu).toContain('lib/napi-v8/tfjs_binding.node');
    expect(gpu).toMatch(/npm ci/);
  });

  test('the CPU image is Node 20 slim with production dependencies only, the fused kernel checked, and no CUDA', () => {
    expect(cpu).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    expect(cpu.match(/^FROM .*/gm)).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
    expect(cpu).toMatch(/npm ci --omit=dev/);
    expect(cpu).toContain('runner/train/fused/kernel.wasm');
    expect(cpu).toMatch(/--engine fused/);
    const instructions = cpu.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    expect(instructions).not.toMatch(/cuda|tfjs-node/i);
    expect(cpu).toMatch(/FITGRID_BACKEND=wasm/);
  });

  test('both pin every base image by digest: no FROM or base ARG names a bare tag', () => {
    for (const file of [gpu, cpu]) {
      const bases = file.match(/^ARG \w+_IMAGE=.*$/gm) ?? [];
      expect(bases.length).toBeGreaterThan(0);
      for (const base of bases) expect(base).toMatch(/@sha256:[0-9a-f]{64}$/);
      for (const from of file.match(/^FROM .*/gm) ?? []) expect(from).toMatch(/^FROM \$\{\w+_IMAGE\}/);
    }
    expect(gpu.match(/^ARG NODE_IMAGE=.*$/m)?.[0]).toBe(cpu.match(/^ARG NODE_IMAGE=.*$/m)?.[0]);
  });

  test('both run as a non-root user that cannot change the application files', () => {
    for (const file of [gpu, cpu]) {
      expect(file).toMatch(/^USER (?!root\b)\w+/m);
      expect(file).toMatch(/^ENTRYPOINT \["node", "bin\/fitgrid\.js"\]$/m);
      expect(file).toMatch(/^CMD \["worker"\]$/m);
      expect(file).not.toMatch(/--chown=/);
      expect(file).toMatch(/^COPY --from=build \/app \/app$/m);
      expect(file).toMatch(/chmod -R go-w \/app/);
    }
  });
});

describe('the fitgrid stack with public sites', () => {
  let site: Template;
  beforeAll(() => {
    const app = new App({ outdir, context: { 'fitgrid:publicSites': 'true' } });
    const stack = new FitgridStack(app, 'fitgrid-public', { env: { account: '123456789012', region: 'us-east-1' }, settings: settingsFrom(app, {}) });
    site = Template.fromStack(stack);
  });

  test('serves only the site prefixes through CloudFront: the origin access grant covers sweeps/*/site/*, not the bucket', () => {
    site.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    site.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Origins: [Match.objectLike({ OriginPath: '/fitgrid/sweeps', OriginAccessControlId: Match.anyValue() })],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    const statements = Object.values(site.findResources('AWS::S3::BucketPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement as { Principal?: { Service?: string }; Resource: unknown; Action: unknown }[]);
    const grants = statements.filter((s) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(grants).toHaveLength(1);
    expect(grants[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(grants[0].Resource)).toMatch(/"\/fitgrid\/sweeps\/\*\/site\/\*"\]\]\}$/);
    expect(Object.keys(site.toJSON().Outputs)).toContain('SiteUrl');
    expect(site.toJSON().Outputs.SiteUrl.Description).toMatch(/^PUBLIC/);
  });
});
