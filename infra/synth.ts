import { App } from 'aws-cdk-lib';
import path from 'node:path';
import { buildApp } from './app.ts';

/**
 * `npm run infra:synth`: writes the CloudFormation template to cdk.out/ with no credentials,
 * no network and no CDK CLI.
 */
const outdir = path.resolve(process.env.CDK_OUTDIR ?? 'cdk.out');
const { app, stack } = buildApp(new App({ outdir }));
const assembly = app.synth();
const template = assembly.getStackArtifact(stack.artifactId).templateFullPath;
process.stdout.write(`${path.relative(process.cwd(), template)}\n`);
