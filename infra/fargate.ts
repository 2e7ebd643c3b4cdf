/**
 * Fargate accepts only some vCPU and memory pairs: 1 vCPU with 2–8 GiB, 2 with 4–16, 4 with
 * 8–30 (in 1 GiB steps), 8 with 16–60 (4 GiB steps), 16 with 32–120 (8 GiB steps). A job
 * definition outside them is accepted by CloudFormation and then never runs.
 */
const sizes: Record<number, { min: number; max: number; step: number }> = {
  1: { min: 2, max: 8, step: 1 },
  2: { min: 4, max: 16, step: 1 },
  4: { min: 8, max: 30, step: 1 },
  8: { min: 16, max: 60, step: 4 },
  16: { min: 32, max: 120, step: 8 },
};

/** Why a vCPU/memory pair cannot run on Fargate, or undefined when it can. */
export function fargateSizeProblem(vcpus: number, memoryMiB: number): string | undefined {
  const size = sizes[vcpus];
  if (!size) return `Fargate workers take 1, 2, 4, 8 or 16 vCPUs, got ${vcpus}`;
  const gib = memoryMiB / 1024;
  const fits = Number.isInteger(gib) && gib >= size.min && gib <= size.max && (gib - size.min) % size.step === 0;
  if (fits) return undefined;
  return `Fargate gives ${vcpus} vCPU${vcpus > 1 ? 's' : ''} ${size.min}–${size.max} GiB in ${size.step} GiB steps, got ${memoryMiB} MiB`;
}
