#!/usr/bin/env node
// The sources are TypeScript; tsx compiles them on the fly so the CLI works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../runner/main.ts');
process.exitCode = await main(process.argv);
