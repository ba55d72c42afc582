// MultiTask: row r runs the child named by task_ids[r]. For LoRA (whose pre-block is the identity)
// that is row r of that child's Parallel channel.
import { describe, expect, it } from 'vitest';
import { ADAPTER_PRESETS } from '../../src/config/index.ts';
import type { Composition } from '../../src/dsl/checked.ts';
import { lowerProgram } from '../../src/lower/bert.ts';
import { interpret } from '../../src/runtime/reference/interpret.ts';
import { programOf, randomInputs, randomWeights, tinyEncoderConfig } from '../../src/testing/model.ts';

const model = tinyEncoderConfig({ hidden: 16, layers: 2, heads: 2, intermediate: 32 });

function lastHidden(setup: Composition, taskIds?: number[]) {
  const program = programOf({ adapters: { a: ADAPTER_PRESETS.lora(), b: ADAPTER_PRESETS.lora() }, setup });
  const graph = lowerProgram(program, model);
  const weights = randomWeights(graph, 3);
  const inputs = randomInputs(3, 5, model.vocabSize, 3);
  const withTasks = taskIds
    ? { ...inputs, task_ids: { shape: [3], data: Int32Array.from(taskIds) } }
    : inputs;
  return interpret(graph, (k) => weights.get(k), withTasks).get('last_hidden_state')!;
}

describe('MultiTask', () => {
  it('runs each row through the child its task id names', () => {
    const tasks = [1, 0, 1];
    const multi = lastHidden({ type: 'MultiTask', children: ['a', 'b'] }, tasks);
    const parallel = lastHidden({ type: 'Parallel', children: ['a', 'b'] });
    const rowSize = multi.data.length / 3;
    tasks.forEach((task, row) => {
      const channelRow = task * 3 + row;
      const want = parallel.data.subarray(channelRow * rowSize, (channelRow + 1) * rowSize);
      expect(Array.from(multi.data.subarray(row * rowSize, (row + 1) * rowSize))).toEqual(Array.from(want));
    });
  });
});
