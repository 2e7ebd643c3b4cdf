import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FitgridStack } from '../../infra/stack.ts';

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
  return policies[id!]!.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown; Sid?: string }[];
};
const actions = (s: { Action: string | string[] }) => [s.Action].flat();

describe('the fitgrid stack', () => {
  test('the worker job definition asks for one GPU, memory below a g4dn.xlarge and a timeout', () => {
    const defs = Object.values(template.findResources('AWS::Batch::JobDefinition'));
    const worker = defs.find((d) => d.Properties.ContainerProperties.Command[0] === 'worker')!;
    const needs = Object.fromEntries(worker.Properties.ContainerProperties.ResourceRequirements.map((r: { Type: string; Value: string }) => [r.Type, r.Value]));
    expect(needs).toEqual({ GPU: '1', MEMORY: '14336', VCPU: '4' });
    expect(Number(needs.MEMORY)).toBeLessThan(16 * 1024);
    expect(worker.Properties.PlatformCapabilities).toEqual(['EC2']);
    expect(worker.Properties.Timeout).toEqual({ AttemptDurationSeconds: 7200 });
  });

  test('the report job definition runs on CPU only', () => {
    const defs = Object.values(template.findResources('AWS::Batch::JobDefinition'));
    const report = defs.find((d) => d.Properties.ContainerProperties.Command[0] === 'report');
    expect(report?.Properties.ContainerProperties.ResourceRequirements.map((r: { Type: string }) => r.Type).sort()).toEqual(['MEMORY', 'VCPU']);
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

  test('the retry strategy retries host and infrastructure failures and ends with a catch-all EXIT', () => {
    const defs = Object.values(template.findResources('AWS::Batch::JobDefinition'));
    expect(defs).toHaveLength(2);
    for (const d of defs) {
      const rules = d.Properties.RetryStrategy.EvaluateOnExit;
      expect(rules.length).toBeLessThanOrEqual(5);
      expect(rules[0]).toEqual({ Action: 'RETRY', OnStatusReason: 'Host EC2*' });
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
    for (const r of objectResources) expect(JSON.stringify(r)).toMatch(/\/fitgrid\/(\*|trials\/\*|sweeps\/\*\/(logs\/\*|summary\.json|site\/\*))"/);
    const writes = statements.find((s) => actions(s).includes('s3:PutObject'));
    expect(JSON.stringify(writes?.Resource)).not.toContain('manifest');
    const list = statements.find((s) => actions(s).includes('s3:ListBucket'));
    expect(list?.Condition).toEqual({ StringLikeIfExists: { 's3:prefix': ['fitgrid/', 'fitgrid/*'] } });
  });

  test('the execution role only pulls the image and writes logs', () => {
    const all = statementsOf('ExecutionRole').flatMap(actions).sort();
    expect(all).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  test('the report site is served by CloudFront through origin access control', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Origins: [Match.objectLike({ OriginPath: '/fitgrid/sweeps', OriginAccessControlId: Match.anyValue() })],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
  });

  test('the outputs that `fitgrid launch --stack` reads are present', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual(
      ['BucketName', 'JobQueueName', 'ReportJobDefinitionName', 'RepositoryUri', 'SiteUrl', 'StoreUrl', 'WorkerJobDefinitionName'].sort(),
    );
    expect(JSON.stringify(outputs.StoreUrl.Value)).toMatch(/"s3:\/\/",\{"Ref":"Results\w+"\},"\/fitgrid\/"/);
  });
});

describe('the worker image', () => {
  const dockerfile = readFileSync(path.join(import.meta.dirname, '../../infra/docker/Dockerfile'), 'utf8');

  test('builds on CUDA 11.8 with cuDNN 8, installs tfjs-node-gpu 4.22.0 and checks its binding', () => {
    expect(dockerfile).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:11\.8\.0-cudnn8-runtime-ubuntu22\.04$/m);
    expect(dockerfile.match(/^FROM .*/gm)?.slice(1)).toEqual(['FROM ${CUDA_IMAGE} AS build', 'FROM ${CUDA_IMAGE}']);
    expect(dockerfile).toContain('@tensorflow/tfjs-node-gpu@4.22.0');
    expect(dockerfile).toContain('lib/napi-v8/tfjs_binding.node');
    expect(dockerfile).toMatch(/npm ci/);
  });

  test('runs as a non-root user with fitgrid worker as its entrypoint', () => {
    expect(dockerfile).toMatch(/^USER (?!root\b)\w+/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/fitgrid\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["worker"\]$/m);
  });
});
