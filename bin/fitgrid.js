#!/usr/bin/env node
// The sources are TypeScript; tsx compiles them on the fly so the CLI works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
// The AWS SDK warns on every command that Node 20 support ends in 2027; the SDK is pinned in the lockfile.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../runner/main.ts');
process.exitCode = await main(process.argv);
