// CrossGuard wrapping of the plain rules. Importing this module has no side effects; index.ts
// is what `pulumi preview --policy-pack infra/policies` runs (it starts the analyzer server).
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { IKOU_RULES, type ResourceView, type Rule, stackOfUrn } from "./rules.ts";

export function viewOf(resource: PolicyResource, cache = new Map<string, ResourceView>()): ResourceView {
  const cached = cache.get(resource.urn);
  if (cached) return cached;
  const view: ResourceView = {
    type: resource.type,
    name: resource.name,
    urn: resource.urn,
    props: resource.props,
    dependencies: (prop) => (resource.propertyDependencies[prop] ?? []).map((d) => viewOf(d, cache)),
  };
  cache.set(resource.urn, view);
  return view;
}

function toPolicy(rule: Rule): StackValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      const cache = new Map<string, ResourceView>();
      const resources = args.resources.map((r) => viewOf(r, cache));
      const shop = stackOfUrn(resources[0]?.urn ?? "");
      for (const r of resources)
        for (const message of rule.check(r, { shop, resources })) reportViolation(message, r.urn);
    },
  };
}

export const ikouPolicies: StackValidationPolicy[] = IKOU_RULES.map(toPolicy);
