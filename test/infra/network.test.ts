import { beforeAll, describe, expect, it } from "vitest";
import { INTERFACE_ENDPOINTS, MigrationNetwork, MYSQL_PORT } from "../../infra/network.ts";
import { MOCK_ACCOUNT_ID, type PlannedResource } from "../../stacks/plan/mocks.ts";
import { identity, mockRun, ofType, one, REGION } from "./support.ts";

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const ROUTE = "aws:ec2/route:Route";
const peer = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  cidrs: ["10.0.0.0/16", "10.1.0.0/16"],
  routeTableIds: ["rtb-0a1b2c3d4e5f60718"],
  dbSecurityGroupId: "sg-0db0db0db0db0db00",
};

let resources: PlannedResource[];
const children = (prefix: string) => resources.filter((r) => r.name.startsWith(`${prefix}-`));

beforeAll(async () => {
  ({ resources } = await mockRun(() => {
    new MigrationNetwork("same", {
      identity,
      region: REGION,
      vpc: { cidr: "10.42.0.0/16", azs: ["ap-northeast-1a", "ap-northeast-1c"] },
      egress: "endpoints",
      peer,
    });
    new MigrationNetwork("cross", {
      identity,
      region: REGION,
      vpc: {
        existingVpcId: "vpc-0f1e2d3c4b5a69788",
        cidr: "10.60.0.0/16",
        subnetIds: ["subnet-0f1e2d3c4b5a69781", "subnet-0f1e2d3c4b5a69782"],
        routeTableIds: ["rtb-0f1e2d3c4b5a69781"],
      },
      egress: "nat",
      peer: {
        ...peer,
        accountId: "444455556666",
        roleArn: "arn:aws:iam::444455556666:role/accepter",
        privateHostedZoneId: "Z0DB0DB0DB0DB0DB0DB0",
      },
    });
    new MigrationNetwork("natvpc", {
      identity,
      region: REGION,
      vpc: { cidr: "10.50.0.0/16", azs: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"] },
      egress: "nat",
      peer,
    });
  }));
});

describe("MigrationNetwork", () => {
  it("opens exactly one ingress on the production DB security group: MySQL from the Batch security group", () => {
    for (const net of ["same", "cross", "natvpc"]) {
      const dbRules = children(net).filter(
        (r) => r.type === INGRESS && r.inputs["securityGroupId"] === peer.dbSecurityGroupId,
      );
      expect(dbRules).toHaveLength(1);
      const rule = dbRules[0]!.inputs;
      expect(rule).toMatchObject({ ipProtocol: "tcp", fromPort: MYSQL_PORT, toPort: MYSQL_PORT });
      expect(rule["cidrIpv4"] ?? rule["cidrIpv6"] ?? rule["prefixListId"]).toBeUndefined();
      const batchSg = one(resources, "aws:ec2/securityGroup:SecurityGroup", `${net}-batch`);
      const expected = net === "cross" ? `${MOCK_ACCOUNT_ID}/${batchSg.id}` : batchSg.id;
      expect(rule["referencedSecurityGroupId"]).toBe(expected);
    }
  });

  it("routes only the peer CIDRs over the peering, on both sides", () => {
    const routes = ofType(children("same"), ROUTE);
    const toDb = routes
      .filter((r) => r.name.includes("-to-db-"))
      .map((r) => r.inputs["destinationCidrBlock"]);
    const fromDb = routes.filter((r) => r.name.includes("-from-db-"));
    expect(toDb.sort()).toEqual(peer.cidrs);
    expect(fromDb.map((r) => [r.inputs["routeTableId"], r.inputs["destinationCidrBlock"]])).toEqual([
      ["rtb-0a1b2c3d4e5f60718", "10.42.0.0/16"],
    ]);
    for (const r of routes) expect(r.inputs["vpcPeeringConnectionId"]).toBe("pcx-same-peering");
  });

  it("spreads private subnets over the configured AZs without public IPs", () => {
    const subnets = ofType(children("natvpc"), "aws:ec2/subnet:Subnet").filter((s) =>
      s.name.includes("private"),
    );
    expect(subnets.map((s) => s.inputs["availabilityZone"])).toEqual([
      "ap-northeast-1a",
      "ap-northeast-1c",
      "ap-northeast-1d",
    ]);
    expect(new Set(subnets.map((s) => s.inputs["cidrBlock"])).size).toBe(3);
    for (const s of subnets) expect(s.inputs["mapPublicIpOnLaunch"]).toBe(false);
  });

  it("with endpoints: S3 gateway plus interface endpoints, HTTPS egress stays inside the VPC", () => {
    const endpoints = ofType(children("same"), "aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => e.inputs["serviceName"]).sort()).toEqual(
      ["s3", ...INTERFACE_ENDPOINTS].map((s) => `com.amazonaws.${REGION}.${s}`).sort(),
    );
    const https = ofType(children("same"), EGRESS).filter(
      (r) => r.inputs["fromPort"] === 443 && r.name.startsWith("same-batch"),
    );
    expect(https.map((r) => r.inputs["cidrIpv4"] ?? r.inputs["prefixListId"]).sort()).toEqual([
      "10.42.0.0/16",
      "pl-same-s3",
    ]);
    expect(ofType(children("same"), "aws:ec2/natGateway:NatGateway")).toHaveLength(0);
  });

  it("with NAT: one NAT gateway and a default route only in the private route table", () => {
    expect(ofType(children("natvpc"), "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    const defaults = ofType(children("natvpc"), ROUTE).filter(
      (r) => r.inputs["destinationCidrBlock"] === "0.0.0.0/0",
    );
    expect(defaults.map((r) => (r.inputs["natGatewayId"] ? "nat" : "igw")).sort()).toEqual(["igw", "nat"]);
    expect(ofType(children("natvpc"), "aws:ec2/vpcEndpoint:VpcEndpoint")).toHaveLength(0);
  });

  it("Batch egress to MySQL goes only to the peer CIDRs", () => {
    const mysql = ofType(children("cross"), EGRESS).filter((r) => r.inputs["fromPort"] === MYSQL_PORT);
    expect(mysql.map((r) => r.inputs["cidrIpv4"]).sort()).toEqual(peer.cidrs);
  });

  it("across accounts: requester names the peer owner, the accepter and DB side run through the peer provider", () => {
    const peering = one(resources, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "cross-peering");
    expect(peering.inputs).toMatchObject({
      peerOwnerId: "444455556666",
      autoAccept: false,
      vpcId: "vpc-0f1e2d3c4b5a69788",
    });
    const provider = one(resources, "pulumi:providers:aws", "cross-peer");
    expect(JSON.stringify(provider.inputs["assumeRoles"])).toContain(
      "arn:aws:iam::444455556666:role/accepter",
    );
    const accepter = one(
      resources,
      "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
      "cross-peering-accepter",
    );
    expect(accepter.inputs).toMatchObject({ autoAccept: true, vpcPeeringConnectionId: peering.id });
    expect(
      one(resources, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "same-peering").inputs[
        "autoAccept"
      ],
    ).toBe(true);
    expect(
      ofType(children("same"), "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"),
    ).toHaveLength(0);
  });

  it("edits the production side (accepter, its routes, the DB rule) as the peer account and nothing else", () => {
    const viaPeer = children("cross").filter((r) => r.provider?.includes("::cross-peer::"));
    expect(viaPeer.map((r) => r.type).sort()).toEqual([
      "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions",
      "aws:ec2/route:Route",
      "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
      "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization",
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ]);
    expect(viaPeer.find((r) => r.type === INGRESS)?.inputs["securityGroupId"]).toBe(peer.dbSecurityGroupId);
    expect(viaPeer.find((r) => r.type === ROUTE)?.inputs["routeTableId"]).toBe("rtb-0a1b2c3d4e5f60718");
  });

  it("makes the new VPC resolve DNS names and hostnames (interface endpoints' private DNS needs both)", () => {
    for (const net of ["same", "natvpc"])
      expect(one(resources, "aws:ec2/vpc:Vpc", `${net}-vpc`).inputs).toMatchObject({
        enableDnsHostnames: true,
        enableDnsSupport: true,
      });
  });

  it("gives the Batch tasks a private Secrets Manager endpoint: the job's DB secret is fetched at start", () => {
    const sm = ofType(children("same"), "aws:ec2/vpcEndpoint:VpcEndpoint").find(
      (e) => e.inputs["serviceName"] === `com.amazonaws.${REGION}.secretsmanager`,
    );
    expect(sm?.inputs).toMatchObject({ vpcEndpointType: "Interface", privateDnsEnabled: true });
    const endpointSg = one(resources, "aws:ec2/securityGroup:SecurityGroup", "same-endpoints").id;
    expect(sm?.inputs["securityGroupIds"]).toEqual([endpointSg]);
  });

  it("creates routes, the DB rule and the DNS options only after the peering is accepted", () => {
    const accepter =
      "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter::cross-peering-accepter";
    const needsAccepted = children("cross").filter(
      (r) =>
        r.type === ROUTE ||
        r.type === "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions" ||
        (r.type === INGRESS && r.inputs["securityGroupId"] === peer.dbSecurityGroupId),
    );
    expect(needsAccepted.length).toBe(peer.cidrs.length + peer.routeTableIds.length + 1 + 2);
    for (const r of needsAccepted) expect(r.dependsOn, r.name).toContain(accepter);
    // Same account: the peering accepts itself, so the peering is what they wait for.
    for (const r of ofType(children("same"), ROUTE))
      expect(r.dependsOn).toContain("aws:ec2/vpcPeeringConnection:VpcPeeringConnection::same-peering");
  });

  it("lets both sides resolve each other's DNS names over the peering, each side with its own credentials", () => {
    const options = (net: string) =>
      ofType(children(net), "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions");
    expect(options("same").map((o) => [o.inputs["requester"], o.inputs["accepter"]])).toEqual([
      [{ allowRemoteVpcDnsResolution: true }, { allowRemoteVpcDnsResolution: true }],
    ]);
    const cross = options("cross");
    expect(
      cross.map((o) => [
        Boolean(o.provider?.includes("::cross-peer::")),
        o.inputs["requester"],
        o.inputs["accepter"],
      ]),
    ).toEqual([
      [false, { allowRemoteVpcDnsResolution: true }, undefined],
      [true, undefined, { allowRemoteVpcDnsResolution: true }],
    ]);
  });

  it("associates the DB's private hosted zone with the migration VPC, authorized by the zone's account", () => {
    const auth = one(
      resources,
      "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization",
      "cross-db-zone",
    );
    expect(auth.inputs).toEqual({ zoneId: "Z0DB0DB0DB0DB0DB0DB0", vpcId: "vpc-0f1e2d3c4b5a69788" });
    expect(auth.provider).toContain("::cross-peer::");
    const assoc = one(resources, "aws:route53/zoneAssociation:ZoneAssociation", "cross-db-zone");
    expect(assoc.inputs).toMatchObject({ zoneId: "Z0DB0DB0DB0DB0DB0DB0", vpcId: "vpc-0f1e2d3c4b5a69788" });
    expect(assoc.provider).toBeUndefined();
    expect(assoc.dependsOn).toEqual([
      "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization::cross-db-zone",
    ]);
    expect(ofType(children("same"), "aws:route53/zoneAssociation:ZoneAssociation")).toHaveLength(0);
  });

  it("gives the peer provider the region explicitly", () => {
    expect(one(resources, "pulumi:providers:aws", "cross-peer").inputs["region"]).toBe(REGION);
  });
});
