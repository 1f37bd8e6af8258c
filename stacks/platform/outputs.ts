// What the platform stack (`platform-<region>`) exports for the test-env stacks and envsvc.
// A type only: test envs read these through a StackReference.

export interface StandingEnv {
  shop: string;
  id: string;
  rulePriority: number;
}

export interface PlatformStackOutputs {
  region: string;
  vpcId: string;
  privateSubnetIds: string[];
  clusterArn: string;
  httpsListenerArn: string;
  albSecurityGroupId: string;
  albDnsName: string;
  albZoneId: string;
  loadBalancerArnSuffix: string;
  hostedZoneId: string;
  domain: string;
  tasksSecurityGroupId: string;
  testShopRoleBoundaryArn: string;
  standingEnvs: StandingEnv[];
  envServiceUrl: string;
  stateBucketName: string;
  secretsKeyArn: string;
}
