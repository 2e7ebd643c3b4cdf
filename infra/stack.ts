import {
  CfnOutput,
  CfnParameter,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
  aws_batch as batch,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_logs as logs,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** What users change; each has a `-c fitgrid:<name>=…` context key (see app.ts). */
export interface FitgridSettings {
  /**
   * GPU instance types. g4dn (T4) by default: libtensorflow 2.9.1 ships compiled kernels for
   * T4/V100 and only PTX for newer GPUs (A10G g5, L4 g6, H100 p5), which every fresh container
   * JIT-compiles at start-up, reported to take minutes. Newer families are faster once warm.
   */
  instanceTypes: string[];
  maxvCpus: number;
  spot: boolean;
  /** Default image tag; the `ImageTag` stack parameter overrides it at deploy time. */
  imageTag: string;
  /** The key prefix under which fitgrid keeps its store in the bucket. */
  prefix: string;
  /** Worker container size: leave the instance some memory (g4dn.xlarge: 4 vCPUs, 16 GiB). */
  workerVcpus: number;
  workerMemoryMiB: number;
  /** Serve published report sites through CloudFront (origin access control). */
  site: boolean;
}

export const defaultSettings: FitgridSettings = {
  instanceTypes: ['g4dn.xlarge', 'g4dn.2xlarge'],
  maxvCpus: 64,
  spot: false,
  imageTag: 'latest',
  prefix: 'fitgrid',
  workerVcpus: 4,
  workerMemoryMiB: 14_336,
  site: true,
};

export interface FitgridStackProps extends StackProps {
  settings?: Partial<FitgridSettings>;
}

/** Exit code of `fitgrid worker` for infrastructure failures (runner/exec/events.ts EXIT_INFRA). */
const exitInfra = '75';

/**
 * Everything `fitgrid launch` needs: a private results bucket, a GPU compute environment that
 * scales to zero, one queue, a GPU job definition for workers and a CPU one for the report job,
 * roles limited to the bucket's fitgrid prefix, and (optionally) a CloudFront site.
 */
export class FitgridStack extends Stack {
  readonly settings: FitgridSettings;

  constructor(scope: Construct, id: string, props: FitgridStackProps = {}) {
    super(scope, id, props);
    const settings = (this.settings = { ...defaultSettings, ...props.settings });
    const prefix = settings.prefix.replace(/^\/+|\/+$/g, '');

    const imageTag = new CfnParameter(this, 'ImageTag', {
      type: 'String',
      default: settings.imageTag,
      description: 'Tag of the worker image in the stack\'s ECR repository',
    });

    // ── results bucket ────────────────────────────────────────────────────────
    const bucket = new s3.Bucket(this, 'Results', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        // The S3 store tags pack logs (sweeps/<name>/logs/*.jsonl) with fitgrid-kind=log.
        { id: 'old-sweep-logs', prefix: `${prefix}/sweeps/`, tagFilters: { 'fitgrid-kind': 'log' }, expiration: Duration.days(90) },
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
    const objects = (...paths: string[]) => paths.map((p) => bucket.arnForObjects(`${prefix}/${p}`));

    // ── network: public subnets only (no NAT gateway to pay for), S3 through a gateway endpoint ──
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    // ── image and logs ───────────────────────────────────────────────────────
    const repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      lifecycleRules: [{ description: 'keep the last 10 images', maxImageCount: 10 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logGroup = new logs.LogGroup(this, 'JobLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });

    // ── roles ────────────────────────────────────────────────────────────────
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'fitgrid: pull the worker image, write container logs',
    });
    repository.grantPull(executionRole);
    logGroup.grantWrite(executionRole);

    const jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `fitgrid: read and write the store under s3://bucket/${prefix}/ only`,
    });
    jobRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadStore',
        actions: ['s3:GetObject'],
        resources: objects('*'),
      }),
    );
    jobRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteResults',
        actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'],
        resources: objects('trials/*', 'sweeps/*/logs/*', 'sweeps/*/summary.json', 'sweeps/*/site/*'),
      }),
    );
    jobRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListStore',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        // IfExists: a GET or HEAD of a missing key consults ListBucket without any prefix, and must
        // get 404 (not 403) for the store to tell "missing" from "denied".
        conditions: { StringLikeIfExists: { 's3:prefix': [`${prefix}/`, `${prefix}/*`] } },
      }),
    );

    // ── compute ──────────────────────────────────────────────────────────────
    const computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'GpuCompute', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceTypes: settings.instanceTypes.map((t) => new ec2.InstanceType(t)),
      useOptimalInstanceClasses: false,
      // Zero when idle: nothing runs, nothing is billed.
      minvCpus: 0,
      maxvCpus: settings.maxvCpus,
      spot: settings.spot,
      allocationStrategy: settings.spot
        ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      // AWS is retiring the AL2 GPU AMIs.
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      updateToLatestImageVersion: true,
    });
    const queue = new batch.JobQueue(this, 'Queue', {
      computeEnvironments: [{ computeEnvironment, order: 1 }],
      // A job that asks for more than any instance has waits in RUNNABLE forever otherwise.
      jobStateTimeLimitActions: [
        { action: batch.JobStateTimeLimitActionsAction.CANCEL, maxTime: Duration.minutes(10), reason: batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT, state: batch.JobStateTimeLimitActionsState.RUNNABLE },
        { action: batch.JobStateTimeLimitActionsAction.CANCEL, maxTime: Duration.minutes(10), reason: batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE, state: batch.JobStateTimeLimitActionsState.RUNNABLE },
      ],
    });

    // Infrastructure failures are retried, the trainer's own errors are results (exit 0) and
    // anything else ends the job: a job that matches no rule would be retried, hence the EXIT rule.
    const retryStrategies = [
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED), // Host EC2*
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: exitInfra })),
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: '137' })),
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: '134' })),
      batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
    ];
    const storeUrl = `s3://${bucket.bucketName}/${prefix}/`;
    const image = ecs.ContainerImage.fromEcrRepository(repository, imageTag.valueAsString);
    const logging = (streamPrefix: string) => ecs.LogDrivers.awsLogs({ logGroup, streamPrefix });

    const workerJob = new batch.EcsJobDefinition(this, 'WorkerJob', {
      container: new batch.EcsEc2ContainerDefinition(this, 'WorkerContainer', {
        image,
        gpu: 1,
        cpu: settings.workerVcpus,
        memory: Size.mebibytes(settings.workerMemoryMiB),
        jobRole,
        executionRole,
        logging: logging('worker'),
        command: ['worker'],
        environment: { FITGRID_STORE: storeUrl, FITGRID_BACKEND: 'tensorflow', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      }),
      retryAttempts: 3,
      retryStrategies,
      timeout: Duration.hours(2),
      propagateTags: true,
    });
    const reportJob = new batch.EcsJobDefinition(this, 'ReportJob', {
      container: new batch.EcsEc2ContainerDefinition(this, 'ReportContainer', {
        image,
        cpu: 2,
        memory: Size.mebibytes(6_144),
        jobRole,
        executionRole,
        logging: logging('report'),
        command: ['report'],
        environment: { FITGRID_STORE: storeUrl, FITGRID_BACKEND: 'cpu', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      }),
      retryAttempts: 2,
      retryStrategies,
      timeout: Duration.hours(1),
      propagateTags: true,
    });

    // ── report site ──────────────────────────────────────────────────────────
    if (settings.site) {
      // Only <sweep>/site/… is served: manifests, trials and logs stay private.
      const onlySites = new cloudfront.Function(this, 'OnlySites', {
        runtime: cloudfront.FunctionRuntime.JS_2_0,
        code: cloudfront.FunctionCode.fromInline(`function handler(event) {
  var r = event.request;
  if (!/^\\/[a-z0-9-]+\\/site\\//.test(r.uri)) return { statusCode: 404, statusDescription: 'Not Found' };
  if (r.uri.endsWith('/')) r.uri += 'index.html';
  return r;
}`),
      });
      const distribution = new cloudfront.Distribution(this, 'Site', {
        comment: 'fitgrid report sites',
        defaultBehavior: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(bucket, { originPath: `/${prefix}/sweeps` }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          functionAssociations: [{ function: onlySites, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      });
      new CfnOutput(this, 'SiteUrl', {
        value: `https://${distribution.distributionDomainName}/`,
        description: 'a sweep\'s report: <SiteUrl><sweep>/site/index.html',
      });
    }

    new CfnOutput(this, 'StoreUrl', { value: storeUrl, description: 'fitgrid --store' });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'JobQueueName', { value: queue.jobQueueName });
    new CfnOutput(this, 'WorkerJobDefinitionName', { value: workerJob.jobDefinitionName });
    new CfnOutput(this, 'ReportJobDefinitionName', { value: reportJob.jobDefinitionName });
    new CfnOutput(this, 'RepositoryUri', { value: repository.repositoryUri, description: 'docker push <RepositoryUri>:<ImageTag>' });
  }
}
