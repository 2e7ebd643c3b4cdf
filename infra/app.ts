import { App } from 'aws-cdk-lib';
import { settingsFrom } from './settings.ts';
import { FitgridStack } from './stack.ts';

/**
 * The CDK app: `npx aws-cdk@2 deploy --app "npx tsx infra/app.ts"` (the CDK CLI sets the
 * account and region; without them the template is environment-agnostic).
 */
export function buildApp(app = new App()): { app: App; stack: FitgridStack } {
  const name = app.node.tryGetContext('fitgrid:stackName') ?? process.env.FITGRID_STACK ?? 'fitgrid';
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new FitgridStack(app, name, {
    ...(account && region ? { env: { account, region } } : {}),
    settings: settingsFrom(app),
    description: 'fitgrid: results bucket, AWS Batch Fargate CPU and EC2 GPU queues, job definitions, optional public report site',
  });
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) buildApp();
