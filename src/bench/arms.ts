import type { InferenceSession } from '../runtime/backend.js';
import type { MachineChecker } from './machine-check.js';
import { type SessionPlan, benchInput, configurationLabel } from './configurations.js';
import type { Arm } from './rounds.js';

export type { Arm };

/** The arms bench's rounds run in this process: a loaded session at one batch size, and the machine check's MatMul. */

export interface Loaded {
  plan: SessionPlan;
  session: InferenceSession;
  seconds: number;
}

/** A session at one batch size as an arm of the rounds. */
export function sessionArmOf(plan: SessionPlan, session: InferenceSession, batch: number): Arm {
  const input = benchInput(batch, plan.card.preprocessing.resolution);
  return {
    key: configurationLabel(plan, batch),
    prepare: session.prepare ? () => session.prepare!() : undefined,
    async slice(batches) {
      const times: number[] = [];
      for (let i = 0; i < batches; i++) {
        const t0 = performance.now();
        await session.run(input);
        times.push(performance.now() - t0);
      }
      return times;
    },
  };
}

export function machineCheckArm(c: MachineChecker): Arm {
  return {
    key: 'machine check (float32 MatMul, 1 thread)',
    async slice(batches) {
      const times: number[] = [];
      for (let i = 0; i < batches; i++) times.push(await c.time());
      return times;
    },
  };
}
