import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";

export const MYSQL_PORT = 3306;

export interface PeerArgs {
  vpcId: string;
  cidrs: string[];
  routeTableIds: string[];
  dbSecurityGroupId: string;
  /** Set when the production DB lives in another account; the accepter side then runs as `roleArn`. */
  accountId?: string;
  roleArn?: string;
  /** The peer's region; defaults to the stack's (the config refuses any other, see stacks/config.ts). */
  region?: string;
  /**
   * Private hosted zone the DB's name lives in (e.g. `shops-db.internal.example`). It resolves only
   * in VPCs associated with the zone, so the migration VPC is associated with it.
   */
  privateHostedZoneId?: string;
}

/** The VPC side of a peering: its id, CIDR and the route tables that get a route to the DB. */
export interface PeeredVpc {
  id: pulumi.Input<string>;
  cidr: string;
  routeTableIds: pulumi.Input<string>[];
}

export interface DbPeeringArgs {
  identity: ShopIdentity;
  region: string;
  vpc: PeeredVpc;
  peer: PeerArgs;
  /** The one security group whose members may reach MySQL (the Batch tasks, or the test envs' tasks). */
  clientSecurityGroupId: pulumi.Input<string>;
  clientDescription: string;
}

/**
 * A VPC's way to the production DB: the peering (accepted as the DB's account when it is another),
 * routes both ways, DNS resolution over the peering, the DB's private zone, and the single hole in the
 * DB security group for `clientSecurityGroupId`. Shared by a shop's migration network and the
 * test-env platform.
 */
export class DbPeering extends pulumi.ComponentResource {
  readonly peeringConnectionId: pulumi.Output<string>;

  private readonly tags: Record<string, string>;
  private readonly id: ShopIdentity;

  constructor(name: string, args: DbPeeringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:DbPeering", name, {}, opts);
    this.id = args.identity;
    this.tags = shopTags(args.identity);
    const peering = this.peer(name, args);
    this.peeringConnectionId = peering.id;
    this.registerOutputs({ peeringConnectionId: this.peeringConnectionId });
  }

  private peer(name: string, args: DbPeeringArgs): aws.ec2.VpcPeeringConnection {
    const { vpc, peer, region } = args;
    const crossAccount = peer.accountId !== undefined;
    // The production side is edited as the production account, never with the migration account's
    // credentials. Its region is explicit: a provider without one follows AWS_REGION of whoever runs `up`.
    const peerProvider = crossAccount
      ? new aws.Provider(
          `${name}-peer`,
          {
            region: peer.region ?? region,
            assumeRoles: [{ roleArn: peer.roleArn, sessionName: shopName(this.id, "peering") }],
          },
          { parent: this },
        )
      : undefined;
    const onPeer = { parent: this, provider: peerProvider };

    const peering = new aws.ec2.VpcPeeringConnection(
      `${name}-peering`,
      {
        vpcId: vpc.id,
        peerVpcId: peer.vpcId,
        peerOwnerId: peer.accountId,
        autoAccept: !crossAccount,
        tags: shopTags(this.id, { Name: shopName(this.id, "to-db") }),
      },
      { parent: this },
    );
    const accepted = crossAccount
      ? new aws.ec2.VpcPeeringConnectionAccepter(
          `${name}-peering-accepter`,
          {
            vpcPeeringConnectionId: peering.id,
            autoAccept: true,
            tags: shopTags(this.id, { Name: shopName(this.id, "from-migration") }),
          },
          onPeer,
        )
      : peering;

    this.peeringDns(name, vpc, peer, peering, accepted, peerProvider);

    peer.cidrs.forEach((cidr, c) =>
      vpc.routeTableIds.forEach(
        (rt, r) =>
          new aws.ec2.Route(
            `${name}-to-db-${r}-${c}`,
            { routeTableId: rt, destinationCidrBlock: cidr, vpcPeeringConnectionId: peering.id },
            { parent: this, dependsOn: [accepted] },
          ),
      ),
    );
    peer.routeTableIds.forEach(
      (rt) =>
        new aws.ec2.Route(
          `${name}-from-db-${rt}`,
          { routeTableId: rt, destinationCidrBlock: vpc.cidr, vpcPeeringConnectionId: peering.id },
          { ...onPeer, dependsOn: [accepted] },
        ),
    );

    // Across accounts a security group is referenced as <account>/<sg-id>.
    const source = crossAccount
      ? pulumi.interpolate`${aws.getCallerIdentityOutput({}, { parent: this }).accountId}/${args.clientSecurityGroupId}`
      : args.clientSecurityGroupId;
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-from-batch`,
      {
        securityGroupId: peer.dbSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: MYSQL_PORT,
        toPort: MYSQL_PORT,
        referencedSecurityGroupId: source,
        description: args.clientDescription,
        tags: this.tags,
      },
      { ...onPeer, dependsOn: [accepted] },
    );
    return peering;
  }

  /**
   * Lets each side resolve the other's DNS names to private addresses over the peering (an RDS
   * endpoint's public name otherwise resolves to its public IP, which the peering does not route),
   * and associates the DB's private hosted zone with the migration VPC. Both need the peering active.
   */
  private peeringDns(
    name: string,
    vpc: PeeredVpc,
    peer: PeerArgs,
    peering: aws.ec2.VpcPeeringConnection,
    accepted: pulumi.Resource,
    peerProvider: aws.Provider | undefined,
  ): void {
    const dns = { allowRemoteVpcDnsResolution: true };
    if (peerProvider) {
      // Across accounts each side sets its own half, with its own credentials.
      new aws.ec2.PeeringConnectionOptions(
        `${name}-peering-dns`,
        { vpcPeeringConnectionId: peering.id, requester: dns },
        { parent: this, dependsOn: [accepted] },
      );
      new aws.ec2.PeeringConnectionOptions(
        `${name}-peering-dns-accepter`,
        { vpcPeeringConnectionId: peering.id, accepter: dns },
        { parent: this, provider: peerProvider, dependsOn: [accepted] },
      );
    } else {
      new aws.ec2.PeeringConnectionOptions(
        `${name}-peering-dns`,
        { vpcPeeringConnectionId: peering.id, requester: dns, accepter: dns },
        { parent: this, dependsOn: [accepted] },
      );
    }
    if (!peer.privateHostedZoneId) return;
    // A zone in another account is associated in two steps: its owner authorizes, then we associate.
    const authorization = peerProvider
      ? new aws.route53.VpcAssociationAuthorization(
          `${name}-db-zone`,
          { zoneId: peer.privateHostedZoneId, vpcId: vpc.id },
          { parent: this, provider: peerProvider },
        )
      : undefined;
    new aws.route53.ZoneAssociation(
      `${name}-db-zone`,
      { zoneId: peer.privateHostedZoneId, vpcId: vpc.id },
      { parent: this, dependsOn: authorization ? [authorization] : [] },
    );
  }
}
