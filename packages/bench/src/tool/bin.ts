#!/usr/bin/env node
/** The `tributary-bench` executable: runs the CLI and exits with its status. */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
