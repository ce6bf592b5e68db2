// Poolifier's worker for the fixed CPU work: the same function every peer runs.
import { ThreadWorker } from 'poolifier';
import work from '../work.mjs';

export default new ThreadWorker(work);
