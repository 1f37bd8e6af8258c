// Task sizes Fargate accepts (same table for ECS and AWS Batch on Fargate), from
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
// (checked 2025). Anything else is rejected by the Batch API at submit time, long after `pulumi up`.
const steps = (from: number, to: number, step: number): number[] =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

const MEMORY_BY_VCPU = new Map<number, number[]>([
  [0.25, [512, 1024, 2048]],
  [0.5, steps(1024, 4096, 1024)],
  [1, steps(2048, 8192, 1024)],
  [2, steps(4096, 16384, 1024)],
  [4, steps(8192, 30720, 1024)],
  [8, steps(16384, 61440, 4096)],
  [16, steps(32768, 122880, 8192)],
]);

export const FARGATE_VCPUS: readonly number[] = [...MEMORY_BY_VCPU.keys()];

export interface SizeProblem {
  field: "vcpu" | "memoryMiB";
  message: string;
}

/** Why a vCPU/memory pair is not a Fargate size, or undefined when it is. */
export function fargateSizeProblem(vcpu: number, memoryMiB: number): SizeProblem | undefined {
  const allowed = MEMORY_BY_VCPU.get(vcpu);
  if (!allowed)
    return {
      field: "vcpu",
      message: `${vcpu} is not a Fargate vCPU size (allowed: ${FARGATE_VCPUS.join(", ")})`,
    };
  if (allowed.includes(memoryMiB)) return undefined;
  const span =
    allowed.length > 3
      ? `${allowed[0]}-${allowed.at(-1)} in steps of ${allowed[1]! - allowed[0]!}`
      : allowed.join(", ");
  return {
    field: "memoryMiB",
    message: `${memoryMiB} is not a Fargate memory size in MiB for ${vcpu} vCPU (allowed: ${span})`,
  };
}
