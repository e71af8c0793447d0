// The sharp contender of bench/thumbnails (see ../README.md).
//
//   node sharp.js INPUT OUT_DIR [--format webp|jpeg] [--quality 80] [--warmup 2]
//       [--min-iterations 5] [--max-iterations 50] [--budget-seconds 5]
//
// Single-threaded as RECIPES.md says: the driver sets MALLOC_ARENA_MAX=2,
// VIPS_CONCURRENCY=1 and UV_THREADPOOL_SIZE=1, and this script calls
// sharp.concurrency(1) and sharp.cache(false).
//
// One iteration is what a sharp user writes for three sizes of one upload:
// one sharp(buffer) input with auto-orientation, and three clone()d
// pipelines (cover 256x256 centre, inside 640, inside 1440, never
// enlarged), each awaited in turn. sharp decodes the input once per
// pipeline (each with its own JPEG shrink-on-load); that is how sharp works,
// there is no decoded image to share between pipelines.
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

function parseArgs(argv) {
  const a = { format: 'webp', quality: 80, warmup: 2, minIterations: 5, maxIterations: 50, budget: 5 };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--format': a.format = value(); break;
      case '--quality': a.quality = Number(value()); break;
      case '--warmup': a.warmup = Math.max(1, Number(value())); break;
      case '--min-iterations': a.minIterations = Number(value()); break;
      case '--max-iterations': a.maxIterations = Number(value()); break;
      case '--budget-seconds': a.budget = Number(value()); break;
      default: positional.push(flag);
    }
  }
  [a.input, a.out] = positional;
  return a;
}

const PRESETS = [
  ['thumb', { width: 256, height: 256, fit: 'cover', position: 'centre', withoutEnlargement: true }],
  ['small', { width: 640, height: 640, fit: 'inside', withoutEnlargement: true }],
  ['large', { width: 1440, height: 1440, fit: 'inside', withoutEnlargement: true }],
];

async function once(buf, format, quality) {
  const input = sharp(buf, { failOn: 'error' });
  const upright = typeof input.autoOrient === 'function' ? input.autoOrient() : input.rotate();
  const out = {};
  for (const [name, resize] of PRESETS) {
    const pipeline = upright.clone().resize(resize);
    const encoded = format === 'jpeg' ? pipeline.jpeg({ quality }) : pipeline.webp({ quality });
    out[name] = await encoded.toBuffer();
  }
  return out;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  sharp.concurrency(1);
  sharp.cache(false);
  const buf = fs.readFileSync(a.input);
  let last = 0;
  for (let i = 0; i < a.warmup; i++) {
    const t = process.hrtime.bigint();
    try {
      await once(buf, a.format, a.quality);
    } catch (e) {
      console.log(JSON.stringify({ status: 'unsupported', detail: String(e.message || e) }));
      return;
    }
    last = Number(process.hrtime.bigint() - t) / 1e9;
  }
  const wanted = Math.ceil(a.budget / Math.max(last, 1e-6));
  const iterations = Math.min(Math.max(wanted, a.minIterations), Math.max(a.maxIterations, a.minIterations));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let result;
  for (let i = 0; i < iterations; i++) {
    result = await once(buf, a.format, a.quality);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  fs.mkdirSync(a.out, { recursive: true });
  const ext = a.format === 'jpeg' ? 'jpg' : 'webp';
  const outputs = {};
  for (const [name, bytes] of Object.entries(result)) {
    const file = path.join(a.out, `${name}.${ext}`);
    fs.writeFileSync(file, bytes);
    outputs[name] = file;
  }
  console.log(JSON.stringify({
    status: 'ok',
    iterations,
    wall_seconds: wall,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    threads: `sharp.concurrency()=${sharp.concurrency()}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE || 'unset'}`,
    outputs,
  }));
}

main().catch((e) => {
  console.error(`sharp.js: ${e.stack || e}`);
  process.exit(1);
});
