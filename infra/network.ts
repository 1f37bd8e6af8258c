import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { cidrSubnet } from "./cidr.ts";
import { DbPeering, MYSQL_PORT, type PeerArgs } from "./peering.ts";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";

export { MYSQL_PORT, type PeerArgs } from "./peering.ts";

/** Services the Batch tasks reach privately when egress is "endpoints" (S3 goes through a gateway endpoint). */
export const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] as const;

export type VpcChoice =
  | { cidr: string; azs: string[] }
  | { existingVpcId: string; cidr: string; subnetIds: string[]; routeTableIds: string[] };

export interface MigrationNetworkArgs {
  identity: ShopIdentity;
  region: string;
  vpc: VpcChoice;
  egress: "endpoints" | "nat";
  peer: PeerArgs;
}

interface Vpc {
  id: pulumi.Input<string>;
  cidr: string;
  subnetIds: pulumi.Input<string>[];
  routeTableIds: pulumi.Input<string>[];
}

/**
 * The private network a shop's migration runs in: Batch tasks without public IPs, peered to the
 * production DB VPC, and the single hole in the DB security group that lets them in.
 */
export class MigrationNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly subnetIds: pulumi.Output<string[]>;
  readonly batchSecurityGroupId: pulumi.Output<string>;
  readonly peeringConnectionId: pulumi.Output<string>;

  private readonly tags: Record<string, string>;
  private readonly id: ShopIdentity;

  constructor(name: string, args: MigrationNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:MigrationNetwork", name, {}, opts);
    this.id = args.identity;
    this.tags = shopTags(args.identity);

    const vpc =
      "existingVpcId" in args.vpc ? this.existingVpc(args.vpc) : this.createVpc(name, args.vpc, args.egress);
    const batchSg = new aws.ec2.SecurityGroup(
      `${name}-batch`,
      {
        name: shopName(this.id, "batch"),
        vpcId: vpc.id,
        description: `ikou ${this.id.shop}: Batch import tasks`,
        tags: shopTags(this.id, { "ikou:role": "batch", Name: shopName(this.id, "batch") }),
      },
      { parent: this },
    );
    const peering = new DbPeering(
      name,
      {
        identity: args.identity,
        region: args.region,
        vpc,
        peer: args.peer,
        clientSecurityGroupId: batchSg.id,
        clientDescription: `ikou ${this.id.shop} import tasks`,
      },
      { parent: this },
    );
    this.egress(name, vpc, args, batchSg);

    this.vpcId = pulumi.output(vpc.id);
    this.subnetIds = pulumi.output(vpc.subnetIds);
    this.batchSecurityGroupId = batchSg.id;
    this.peeringConnectionId = peering.peeringConnectionId;
    this.registerOutputs({
      vpcId: this.vpcId,
      subnetIds: this.subnetIds,
      batchSecurityGroupId: this.batchSecurityGroupId,
      peeringConnectionId: this.peeringConnectionId,
    });
  }

  /** An existing VPC brings its own egress path (NAT or endpoints); we only add the security group rules. */
  private existingVpc(v: Extract<VpcChoice, { existingVpcId: string }>): Vpc {
    return { id: v.existingVpcId, cidr: v.cidr, subnetIds: v.subnetIds, routeTableIds: v.routeTableIds };
  }

  private createVpc(
    name: string,
    v: { cidr: string; azs: string[] },
    egress: MigrationNetworkArgs["egress"],
  ): Vpc {
    const base = shopName(this.id);
    const child = { parent: this };
    const named = (n: string) => shopTags(this.id, { Name: `${base}-${n}` });
    // DNS hostnames are what make interface endpoints' private DNS names resolve.
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: v.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: named("vpc") },
      child,
    );
    const privateRt = new aws.ec2.RouteTable(
      `${name}-private`,
      { vpcId: vpc.id, tags: named("private") },
      child,
    );
    const subnets = v.azs.map(
      (az, i) =>
        new aws.ec2.Subnet(
          `${name}-private-${az}`,
          {
            vpcId: vpc.id,
            availabilityZone: az,
            cidrBlock: cidrSubnet(v.cidr, 4, i),
            mapPublicIpOnLaunch: false,
            tags: named(`private-${az}`),
          },
          child,
        ),
    );
    subnets.forEach(
      (s, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-private-${v.azs[i]}`,
          { subnetId: s.id, routeTableId: privateRt.id },
          child,
        ),
    );
    if (egress === "nat") this.natGateway(name, vpc, v, privateRt);
    return { id: vpc.id, cidr: v.cidr, subnetIds: subnets.map((s) => s.id), routeTableIds: [privateRt.id] };
  }

  /** One NAT in the first AZ: imports are batch work that can retry, so a second NAT is not worth its hourly price. */
  private natGateway(
    name: string,
    vpc: aws.ec2.Vpc,
    v: { cidr: string; azs: string[] },
    privateRt: aws.ec2.RouteTable,
  ): void {
    const base = shopName(this.id);
    const child = { parent: this };
    const named = (n: string) => shopTags(this.id, { Name: `${base}-${n}` });
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: named("igw") }, child);
    const publicRt = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, tags: named("public") },
      child,
    );
    new aws.ec2.Route(
      `${name}-public-default`,
      { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      child,
    );
    // Public subnets live in the upper half of the VPC so private ones can grow without renumbering.
    const publicSubnet = new aws.ec2.Subnet(
      `${name}-public-${v.azs[0]}`,
      {
        vpcId: vpc.id,
        availabilityZone: v.azs[0],
        cidrBlock: cidrSubnet(v.cidr, 4, 8),
        mapPublicIpOnLaunch: false,
        tags: named(`public-${v.azs[0]}`),
      },
      child,
    );
    new aws.ec2.RouteTableAssociation(
      `${name}-public-${v.azs[0]}`,
      { subnetId: publicSubnet.id, routeTableId: publicRt.id },
      child,
    );
    const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags: named("nat") }, child);
    const nat = new aws.ec2.NatGateway(
      `${name}-nat`,
      { allocationId: eip.id, subnetId: publicSubnet.id, tags: named("nat") },
      { parent: this, dependsOn: [igw] },
    );
    new aws.ec2.Route(
      `${name}-private-default`,
      { routeTableId: privateRt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
      child,
    );
  }

  private egress(name: string, vpc: Vpc, args: MigrationNetworkArgs, batchSg: aws.ec2.SecurityGroup): void {
    const rule = (
      suffix: string,
      ruleArgs: Omit<aws.vpc.SecurityGroupEgressRuleArgs, "securityGroupId" | "tags">,
    ) =>
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${suffix}`,
        { securityGroupId: batchSg.id, tags: this.tags, ...ruleArgs },
        { parent: this },
      );

    args.peer.cidrs.forEach((cidr, i) =>
      rule(`batch-mysql-${i}`, {
        ipProtocol: "tcp",
        fromPort: MYSQL_PORT,
        toPort: MYSQL_PORT,
        cidrIpv4: cidr,
        description: "production DB over the peering",
      }),
    );
    if (args.egress === "nat") {
      // Through the NAT the AWS APIs have public addresses only; HTTPS is all the tasks speak.
      rule("batch-https", {
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "AWS APIs via NAT",
      });
      return;
    }
    const s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: vpc.routeTableIds,
        tags: this.tags,
      },
      { parent: this },
    );
    rule("batch-s3", {
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      prefixListId: s3.prefixListId,
      description: "S3 via gateway endpoint",
    });
    rule("batch-endpoints", {
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: vpc.cidr,
      description: "interface endpoints",
    });

    const endpointSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        name: shopName(this.id, "endpoints"),
        vpcId: vpc.id,
        description: `ikou ${this.id.shop}: VPC interface endpoints`,
        tags: this.tags,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-endpoints-from-batch`,
      {
        securityGroupId: endpointSg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: batchSg.id,
        description: "Batch tasks",
        tags: this.tags,
      },
      { parent: this },
    );
    for (const service of INTERFACE_ENDPOINTS) {
      new aws.ec2.VpcEndpoint(
        `${name}-${service.replace(".", "-")}`,
        {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${args.region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: vpc.subnetIds,
          securityGroupIds: [endpointSg.id],
          tags: this.tags,
        },
        { parent: this },
      );
    }
  }
}
