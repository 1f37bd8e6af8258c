import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, pulumi.Input<string> | pulumi.Input<string>[]>;
  Action: string | string[];
  Resource: pulumi.Input<string> | pulumi.Input<string>[];
  Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

/** IAM policy JSON from statements whose ARNs may still be outputs. */
export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Every role here is a service role with one inline policy; role and policy share the resource name. */
export function serviceRole(
  parent: pulumi.Resource,
  name: string,
  opts: {
    roleName: string;
    service: string;
    tags: Record<string, string>;
    statements: Statement[];
    /** Caps what the role can ever be granted; roles envsvc creates must carry the platform's boundary. */
    permissionsBoundary?: pulumi.Input<string>;
  },
): aws.iam.Role {
  const role = new aws.iam.Role(
    name,
    {
      name: opts.roleName,
      assumeRolePolicy: assumeRolePolicy(opts.service),
      permissionsBoundary: opts.permissionsBoundary,
      tags: opts.tags,
    },
    { parent },
  );
  new aws.iam.RolePolicy(name, { role: role.id, policy: policyDocument(opts.statements) }, { parent });
  return role;
}

// GetAuthorizationToken has no resource-level permissions; it grants no image access by itself.
export const ECR_LOGIN: Statement = {
  Sid: "EcrLogin",
  Effect: "Allow",
  Action: "ecr:GetAuthorizationToken",
  Resource: "*",
};

export const ECR_PULL_ACTIONS = [
  "ecr:BatchGetImage",
  "ecr:GetDownloadUrlForLayer",
  "ecr:BatchCheckLayerAvailability",
];

/** Pull plus what pushing a built image needs. */
export const ECR_PUSH_ACTIONS = [
  ...ECR_PULL_ACTIONS,
  "ecr:DescribeImages",
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
];

// Task definition APIs have no resource-level permissions.
export const TASK_DEFINITIONS: Statement = {
  Sid: "TaskDefinitions",
  Effect: "Allow",
  Action: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
  Resource: "*",
};

export function logWrite(logGroupArn: pulumi.Input<string>): Statement {
  return {
    Sid: "Logs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: pulumi.interpolate`${logGroupArn}:*`,
  };
}
