// Policy pack entry point: `pulumi preview -s <shop> --policy-pack infra/policies`.
import { PolicyPack } from "@pulumi/policy";
import { ikouPolicies } from "./pack.ts";

new PolicyPack("ikou", { policies: ikouPolicies, enforcementLevel: "mandatory" });
