/**
 * `pnpm start`: the project's main job. Until the validation report lands, it runs the
 * primitives benchmark once and prints the figures beside their raw baselines.
 */
import { comparisonTable, selectSuites } from './cli.js';
import { runSuites } from './runner.js';

const results = await runSuites(selectSuites('primitives'), { runs: 3, timeMs: 200 });
console.log(comparisonTable(results));
