#!/usr/bin/env node
import { main } from '../dist/index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    const debug = process.env.PEGASUS_TS_DEBUG && process.env.PEGASUS_TS_DEBUG !== '0';
    const detail = debug ? `\n${err?.stack ?? err}` : ' (run with PEGASUS_TS_DEBUG=1 for the stack)';
    process.stderr.write(`pegasus-ts: internal error: ${err?.message ?? err}${detail}\n`);
    process.exitCode = 70;
  },
);
