// Poolifier's worker for the sha256 task: the same function every peer runs.
import { ThreadWorker } from 'poolifier';
import task from '../sha256.mjs';

export default new ThreadWorker(task);
