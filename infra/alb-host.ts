import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

export interface AlbHostArgs {
  host: pulumi.Input<string>;
  listenerArn: pulumi.Input<string>;
  priority: pulumi.Input<number>;
  targetGroupArn: pulumi.Input<string>;
  /** The public zone `host` goes into. */
  zoneId: pulumi.Input<string>;
  alb: { dnsName: pulumi.Input<string>; zoneId: pulumi.Input<string> };
  /** Whether Route 53 answers only while the ALB has healthy targets. */
  evaluateTargetHealth: boolean;
  tags: Record<string, string>;
}

/**
 * A host name on the platform's shared ALB: a host-header rule on its HTTPS listener forwarding to
 * the target group, and an alias record for the host. Both resources are named `name`.
 */
export function albHost(parent: pulumi.Resource, name: string, args: AlbHostArgs): void {
  new aws.lb.ListenerRule(
    name,
    {
      listenerArn: args.listenerArn,
      priority: args.priority,
      conditions: [{ hostHeader: { values: [args.host] } }],
      actions: [{ type: "forward", targetGroupArn: args.targetGroupArn }],
      tags: args.tags,
    },
    { parent },
  );
  new aws.route53.Record(
    name,
    {
      zoneId: args.zoneId,
      name: args.host,
      type: "A",
      aliases: [
        { name: args.alb.dnsName, zoneId: args.alb.zoneId, evaluateTargetHealth: args.evaluateTargetHealth },
      ],
    },
    { parent },
  );
}
