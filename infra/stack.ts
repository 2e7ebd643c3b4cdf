import {
  Annotations,
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
  /**
   * Serve published report sites to anyone with the URL through CloudFront (origin access
   * control, site prefixes only). Off by default: sites are read privately with
   * `fitgrid serve --store s3://…` and the reader's own AWS credentials.
   */
  publicSites: boolean;
  /** Fargate CPU workers: the most vCPUs running at once, in each of the Spot and On-Demand environments. */
  cpuMaxvCpus: number;
  /** A CPU worker's size; a Fargate combination (see fargate.ts). FITGRID_THREADS follows the vCPUs. */
  cpuVcpus: number;
  cpuMemoryMiB: number;
  /** Fargate task storage (21–200 GiB): the image's layers, temp files and the report's staging. */
  cpuEphemeralStorageGiB: number;
}

export const defaultSettings: FitgridSettings = {
  instanceTypes: ['g4dn.xlarge', 'g4dn.2xlarge'],
  maxvCpus: 64,
  spot: false,
  imageTag: 'latest',
  prefix: 'fitgrid',
  workerVcpus: 4,
  workerMemoryMiB: 14_336,
  publicSites: false,
  cpuMaxvCpus: 64,
  cpuVcpus: 4,
  cpuMemoryMiB: 8_192,
  cpuEphemeralStorageGiB: 21,
};

export interface FitgridStackProps extends StackProps {
  settings?: Partial<FitgridSettings>;
}

/** Exit code of `fitgrid worker` for infrastructure failures (runner/records/events.ts EXIT_INFRA). */
const exitInfra = '75';
/** The reason ECS gives a Fargate Spot task it reclaims (also in runner/exec/batch/submit.ts). */
export const fargateSpotReclaimed = 'Your Spot Task was interrupted*';

/**
 * Everything `fitgrid launch` needs: a private results bucket; a Fargate CPU queue (Spot, then
 * On-Demand) for the packs the fused engine trains and for the report job; a GPU queue on EC2
 * instances that scale to zero for the packs that need tfjs; a job definition for each; roles
 * limited to the bucket's fitgrid prefix; and, only when asked for, a public CloudFront site.
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

    // ── images and logs ──────────────────────────────────────────────────────
    // Two images: the GPU worker (CUDA, tfjs-node-gpu) and the slim CPU worker (wasm, fused kernel).
    const repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      lifecycleRules: [{ description: 'keep the last 10 images', maxImageCount: 10 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cpuRepository = new ecr.Repository(this, 'CpuRepository', {
      imageScanOnPush: true,
      lifecycleRules: [{ description: 'keep the last 10 images', maxImageCount: 10 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logGroup = new logs.LogGroup(this, 'JobLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });

    // ── roles ────────────────────────────────────────────────────────────────
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'fitgrid: pull the worker images, write container logs',
    });
    repository.grantPull(executionRole);
    cpuRepository.grantPull(executionRole);
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
        resources: objects('trials/*', 'sweeps/*/logs/*', 'sweeps/*/summary.json', 'sweeps/*/cache/*', 'sweeps/*/site/*'),
      }),
    );
    jobRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListStore',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        // Lists only under the two prefixes the store lists (trials/, sweeps/<name>/…). IfExists:
        // S3 decides 404 or 403 for a GET or HEAD of a missing key by this permission, asked
        // without any s3:prefix, and the store must tell "missing" from "denied". A list request
        // that sends no prefix at all looks the same to IAM; the bucket holds only fitgrid's store.
        conditions: { StringLikeIfExists: { 's3:prefix': [`${prefix}/trials/*`, `${prefix}/sweeps/*`] } },
      }),
    );

    // ── GPU compute ──────────────────────────────────────────────────────────
    // IMDSv2 only, one hop: a container cannot reach the instance's metadata (nor its role).
    // Jobs get their own role from the ECS agent's endpoint (169.254.170.2), not from IMDS.
    const launchTemplate = new ec2.LaunchTemplate(this, 'GpuLaunchTemplate', {
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      httpEndpoint: true,
    });
    const computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'GpuCompute', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceTypes: settings.instanceTypes.map((t) => new ec2.InstanceType(t)),
      useOptimalInstanceClasses: false,
      launchTemplate,
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
    // A job that asks for more than any instance has waits in RUNNABLE forever otherwise.
    const cancelUnrunnable = [
      { action: batch.JobStateTimeLimitActionsAction.CANCEL, maxTime: Duration.minutes(10), reason: batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT, state: batch.JobStateTimeLimitActionsState.RUNNABLE },
      { action: batch.JobStateTimeLimitActionsAction.CANCEL, maxTime: Duration.minutes(10), reason: batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE, state: batch.JobStateTimeLimitActionsState.RUNNABLE },
    ];
    const queue = new batch.JobQueue(this, 'Queue', {
      computeEnvironments: [{ computeEnvironment, order: 1 }],
      jobStateTimeLimitActions: cancelUnrunnable,
    });

    // ── Fargate CPU compute ──────────────────────────────────────────────────
    // Public subnets with a public IP and no inbound rule: tasks reach ECR, CloudWatch Logs and S3
    // (through the gateway endpoint) without a NAT gateway or interface endpoints to pay for by the hour.
    const cpuSecurityGroup = new ec2.SecurityGroup(this, 'CpuWorkers', {
      vpc,
      description: 'fitgrid Fargate workers: outbound only',
      allowAllOutbound: true,
    });
    const fargate = (id: string, spot: boolean) => new batch.FargateComputeEnvironment(this, id, {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [cpuSecurityGroup],
      spot,
      maxvCpus: settings.cpuMaxvCpus,
    });
    // Batch fills the Spot environment first and places jobs in On-Demand when Spot is at its maximum.
    const cpuQueue = new batch.JobQueue(this, 'CpuQueue', {
      computeEnvironments: [
        { computeEnvironment: fargate('CpuSpotCompute', true), order: 1 },
        { computeEnvironment: fargate('CpuOnDemandCompute', false), order: 2 },
      ],
      jobStateTimeLimitActions: cancelUnrunnable,
    });

    // Infrastructure failures are retried, the trainer's own errors are results (exit 0) and
    // anything else ends the job: a job that matches no rule would be retried, hence the EXIT rule.
    // The first rule is the Spot reclaim: an EC2 host's reason, or a Fargate Spot task's.
    const retryStrategies = (reclaimed: batch.Reason) => [
      batch.RetryStrategy.of(batch.Action.RETRY, reclaimed),
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: exitInfra })),
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: '137' })),
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: '134' })),
      batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
    ];
    const ec2Retries = retryStrategies(batch.Reason.SPOT_INSTANCE_RECLAIMED); // Host EC2*
    const fargateRetries = retryStrategies(batch.Reason.custom({ onStatusReason: fargateSpotReclaimed }));
    const storeUrl = `s3://${bucket.bucketName}/${prefix}/`;
    const image = ecs.ContainerImage.fromEcrRepository(repository, imageTag.valueAsString);
    const cpuImageTag = new CfnParameter(this, 'CpuImageTag', {
      type: 'String',
      default: settings.imageTag,
      description: 'Tag of the CPU worker image in the stack\'s CPU ECR repository',
    });
    const cpuImage = ecs.ContainerImage.fromEcrRepository(cpuRepository, cpuImageTag.valueAsString);
    const logging = (streamPrefix: string) => ecs.LogDrivers.awsLogs({ logGroup, streamPrefix });
    const quiet = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

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
        environment: { FITGRID_STORE: storeUrl, FITGRID_BACKEND: 'tensorflow', ...quiet },
      }),
      retryAttempts: 3,
      retryStrategies: ec2Retries,
      timeout: Duration.hours(2),
      propagateTags: true,
    });
    const fargateContainer = (id: string, props: { vcpus: number; memoryMiB: number; stream: string; command: string[]; environment: Record<string, string> }) =>
      new batch.EcsFargateContainerDefinition(this, id, {
        image: cpuImage,
        cpu: props.vcpus,
        memory: Size.mebibytes(props.memoryMiB),
        ephemeralStorageSize: Size.gibibytes(settings.cpuEphemeralStorageGiB),
        assignPublicIp: true,
        fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
        fargateCpuArchitecture: ecs.CpuArchitecture.X86_64,
        jobRole,
        executionRole,
        logging: logging(props.stream),
        command: props.command,
        environment: props.environment,
      });
    const cpuWorkerJob = new batch.EcsJobDefinition(this, 'CpuWorkerJob', {
      container: fargateContainer('CpuWorkerContainer', {
        vcpus: settings.cpuVcpus,
        memoryMiB: settings.cpuMemoryMiB,
        stream: 'cpu-worker',
        command: ['worker'],
        environment: { FITGRID_STORE: storeUrl, FITGRID_BACKEND: 'wasm', FITGRID_THREADS: String(settings.cpuVcpus), ...quiet },
      }),
      retryAttempts: 3,
      retryStrategies: fargateRetries,
      timeout: Duration.hours(2),
      propagateTags: true,
    });
    const reportJob = new batch.EcsJobDefinition(this, 'ReportJob', {
      container: fargateContainer('ReportContainer', {
        vcpus: 2,
        memoryMiB: 6_144,
        stream: 'report',
        command: ['report'],
        environment: { FITGRID_STORE: storeUrl, FITGRID_BACKEND: 'cpu', ...quiet },
      }),
      retryAttempts: 2,
      retryStrategies: fargateRetries,
      timeout: Duration.hours(1),
      propagateTags: true,
    });

    // ── public report site (only when asked for) ─────────────────────────────
    if (settings.publicSites) {
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
      // The origin sees the bucket as imported, so it adds no grant of its own (it would cover
      // every object): the statement below grants the distribution the site prefixes only.
      const siteBucket = s3.Bucket.fromBucketAttributes(this, 'SiteOriginBucket', { bucketArn: bucket.bucketArn, bucketName: bucket.bucketName, bucketRegionalDomainName: bucket.bucketRegionalDomainName });
      Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac', 'the stack grants the site prefixes itself');
      const distribution = new cloudfront.Distribution(this, 'Site', {
        comment: 'fitgrid report sites (public)',
        defaultBehavior: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(siteBucket, { originPath: `/${prefix}/sweeps` }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          functionAssociations: [{ function: onlySites, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      });
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'PublicSitesOnly',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: objects('sweeps/*/site/*'),
        conditions: { StringEquals: { 'AWS:SourceArn': `arn:${this.partition}:cloudfront::${this.account}:distribution/${distribution.distributionId}` } },
      }));
      new CfnOutput(this, 'SiteUrl', {
        value: `https://${distribution.distributionDomainName}/`,
        description: 'PUBLIC: anyone with the URL reads a sweep\'s report at <SiteUrl><sweep>/site/index.html',
      });
    }

    new CfnOutput(this, 'StoreUrl', { value: storeUrl, description: 'fitgrid --store' });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'JobQueueName', { value: queue.jobQueueName, description: 'the GPU queue (EC2): packs that need tfjs' });
    new CfnOutput(this, 'WorkerJobDefinitionName', { value: workerJob.jobDefinitionName, description: 'the GPU worker' });
    new CfnOutput(this, 'CpuJobQueueName', { value: cpuQueue.jobQueueName, description: 'the CPU queue (Fargate Spot, then On-Demand): packs the fused engine trains' });
    new CfnOutput(this, 'CpuWorkerJobDefinitionName', { value: cpuWorkerJob.jobDefinitionName, description: 'the CPU worker' });
    new CfnOutput(this, 'CpuWorkerVcpus', { value: String(settings.cpuVcpus), description: 'vCPUs of a CPU worker (its FITGRID_THREADS)' });
    new CfnOutput(this, 'CpuWorkerMemoryMiB', { value: String(settings.cpuMemoryMiB), description: 'memory of a CPU worker, for launch\'s estimate' });
    new CfnOutput(this, 'ReportJobDefinitionName', { value: reportJob.jobDefinitionName, description: 'the report job (Fargate)' });
    new CfnOutput(this, 'RepositoryUri', { value: repository.repositoryUri, description: 'GPU image: docker push <RepositoryUri>:<ImageTag>' });
    new CfnOutput(this, 'CpuRepositoryUri', { value: cpuRepository.repositoryUri, description: 'CPU image: docker push <CpuRepositoryUri>:<CpuImageTag>' });
  }
}
