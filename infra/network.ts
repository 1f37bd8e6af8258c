import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DbPeering, MYSQL_PORT, type PeerArgs } from "./peering.ts";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";
import { natEgress, privateVpc, s3GatewayEndpoint, type VpcLayout } from "./vpc.ts";

export { MYSQL_PORT, type PeerArgs } from "./peering.ts";

/** Services the Batch tasks reach privately when egress is "endpoints" (S3 goes through a gateway endpoint). */
export const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] as const;

export type VpcChoice =
  VpcLayout | { existingVpcId: string; cidr: string; subnetIds: string[]; routeTableIds: string[] };

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

  private createVpc(name: string, layout: VpcLayout, egress: MigrationNetworkArgs["egress"]): Vpc {
    const scope = {
      parent: this,
      name,
      named: (n: string) => shopTags(this.id, { Name: shopName(this.id, n) }),
    };
    const net = privateVpc(scope, layout);
    // One NAT in the first AZ: imports are batch work that can retry, so a second NAT is not worth its hourly price.
    if (egress === "nat") natEgress(scope, layout, net, 1);
    return {
      id: net.vpc.id,
      cidr: layout.cidr,
      subnetIds: net.privateSubnets.map((s) => s.id),
      routeTableIds: [net.privateRouteTable.id],
    };
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
    const s3 = s3GatewayEndpoint({ parent: this, name }, args.region, vpc.id, vpc.routeTableIds, this.tags);
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
