// Poolifier's worker for the empty task: the same function every peer runs.
import { ThreadWorker } from 'poolifier';
import empty from '../empty.mjs';

export default new ThreadWorker(empty);
