// Poolifier's worker for the byte-length task: the same function every peer runs.
import { ThreadWorker } from 'poolifier';
import task from '../byte-length.mjs';

export default new ThreadWorker(task);
