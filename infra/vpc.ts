// The VPC layout a shop's migration network and a region's test-env platform share: one private
// subnet per AZ in the lower half of the CIDR, public subnets in the upper half (so private ones can
// grow without renumbering), one NAT. Plain functions, not a component: the resources keep the parent
// and the names they have always had, so existing stacks see no change.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { cidrSubnet } from "./cidr.ts";

export interface VpcLayout {
  cidr: string;
  azs: string[];
}

/** Where the resources go: children of `parent`, each named `<name>-<part>`, tagged by `named(part)`. */
export interface VpcScope {
  parent: pulumi.Resource;
  name: string;
  named: (part: string) => Record<string, string>;
}

export interface PrivateVpc {
  vpc: aws.ec2.Vpc;
  privateRouteTable: aws.ec2.RouteTable;
  privateSubnets: aws.ec2.Subnet[];
}

function subnet(
  scope: VpcScope,
  layout: VpcLayout,
  kind: "public" | "private",
  i: number,
  vpc: aws.ec2.Vpc,
  routeTable: aws.ec2.RouteTable,
): aws.ec2.Subnet {
  const az = layout.azs[i]!;
  const child = { parent: scope.parent };
  const s = new aws.ec2.Subnet(
    `${scope.name}-${kind}-${az}`,
    {
      vpcId: vpc.id,
      availabilityZone: az,
      cidrBlock: cidrSubnet(layout.cidr, 4, kind === "private" ? i : 8 + i),
      mapPublicIpOnLaunch: false,
      tags: scope.named(`${kind}-${az}`),
    },
    child,
  );
  new aws.ec2.RouteTableAssociation(
    `${scope.name}-${kind}-${az}`,
    { subnetId: s.id, routeTableId: routeTable.id },
    child,
  );
  return s;
}

/** The VPC with a private subnet per AZ on one route table, and no way out yet. */
export function privateVpc(scope: VpcScope, layout: VpcLayout): PrivateVpc {
  const child = { parent: scope.parent };
  // DNS hostnames: interface endpoints' private DNS names and Cloud Map's private namespaces resolve
  // through the VPC resolver.
  const vpc = new aws.ec2.Vpc(
    `${scope.name}-vpc`,
    { cidrBlock: layout.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: scope.named("vpc") },
    child,
  );
  const privateRouteTable = new aws.ec2.RouteTable(
    `${scope.name}-private`,
    { vpcId: vpc.id, tags: scope.named("private") },
    child,
  );
  const privateSubnets = layout.azs.map((_, i) =>
    subnet(scope, layout, "private", i, vpc, privateRouteTable),
  );
  return { vpc, privateRouteTable, privateSubnets };
}

/**
 * Egress through one NAT: an internet gateway, public subnets in the first `publicAzs` AZs, the NAT in
 * the first of them, and the private route table's default route through it.
 */
export function natEgress(
  scope: VpcScope,
  layout: VpcLayout,
  net: PrivateVpc,
  publicAzs: number,
): { publicSubnets: aws.ec2.Subnet[] } {
  const { name, named, parent } = scope;
  const child = { parent };
  const vpc = net.vpc;
  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: named("igw") }, child);
  const publicRt = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags: named("public") }, child);
  new aws.ec2.Route(
    `${name}-public-default`,
    { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
    child,
  );
  const publicSubnets = layout.azs
    .slice(0, publicAzs)
    .map((_, i) => subnet(scope, layout, "public", i, vpc, publicRt));
  const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags: named("nat") }, child);
  const nat = new aws.ec2.NatGateway(
    `${name}-nat`,
    { allocationId: eip.id, subnetId: publicSubnets[0]!.id, tags: named("nat") },
    { parent, dependsOn: [igw] },
  );
  new aws.ec2.Route(
    `${name}-private-default`,
    { routeTableId: net.privateRouteTable.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
    child,
  );
  return { publicSubnets };
}

/** S3 through a gateway endpoint on the given route tables: no NAT per-GB charge, no public route needed. */
export function s3GatewayEndpoint(
  scope: Pick<VpcScope, "parent" | "name">,
  region: string,
  vpcId: pulumi.Input<string>,
  routeTableIds: pulumi.Input<string>[],
  tags: Record<string, string>,
): aws.ec2.VpcEndpoint {
  return new aws.ec2.VpcEndpoint(
    `${scope.name}-s3`,
    {
      vpcId,
      serviceName: `com.amazonaws.${region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds,
      tags,
    },
    { parent: scope.parent },
  );
}
