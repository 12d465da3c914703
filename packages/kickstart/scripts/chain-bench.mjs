// Throughput of back-to-back short tasks, two lanes, in one run (not a test: numbers vary).
//   node packages/kickstart/scripts/chain-bench.mjs [tasks=20000] [rounds=2]
// plain:   each lane launches its next task when the previous result arrives (JS round trip)
// chained: each lane keeps one successor chained (launch(next, { after: running })), so the
//          spawner starts it right after reaping its predecessor
// xargs:   seq N | xargs -P 2 -n 1 /bin/true
// Build first: node native/launch/build.mjs && pnpm exec tsc -b
import { spawnSync } from 'node:child_process';
import { createLauncher } from '../dist/index.js';

const total = Number(process.argv[2] ?? 20000);
const rounds = Number(process.argv[3] ?? 2);
const lanes = 2;
const spec = { argv: ['/bin/true'] };

async function plain(launcher) {
  let next = 0;
  const lane = async () => {
    while (next < total) {
      next++;
      const r = await launcher.launch(spec).result;
      if (r.raw !== 0) throw new Error(`task failed: ${JSON.stringify(r.status)}`);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

async function chained(launcher) {
  let next = 0;
  const lane = async () => {
    if (next >= total) return;
    next++;
    let cur = launcher.launch(spec);
    while (cur) {
      let succ = null;
      if (next < total) {
        next++;
        succ = launcher.launch(spec, { after: cur });
      }
      const r = await cur.result;
      if (r.raw !== 0) throw new Error(`task failed: ${JSON.stringify(r.status)}`);
      cur = succ;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function timeIt(name, fn) {
  const c0 = cpuMs();
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuMs() - c0;
  console.log(
    `${name.padEnd(8)} ${String(Math.round(total / s)).padStart(6)} tasks/s  (${s.toFixed(2)} s, node CPU ${((cpu / total) * 1000).toFixed(0)} us/task)`,
  );
}

const launcher = createLauncher();
console.log(`${total} x /bin/true, ${lanes} lanes, ${launcher.kind} launcher`);
await plain(launcher); // warm up
for (let i = 0; i < rounds; i++) {
  await timeIt('plain', () => plain(launcher));
  await timeIt('chained', () => chained(launcher));
  await timeIt('xargs', async () => {
    const r = spawnSync('sh', ['-c', `seq ${total} | xargs -P ${lanes} -n 1 /bin/true`], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('xargs failed');
  });
}
await launcher.close();
