#!/usr/bin/env node
// bench/push's node-apn contender: sends N notifications through
// @parse/node-apn's Provider (Parse Server's APNs client), C at a time, to
// the fake APNs described by `fake_apns --info FILE`.
//
//   node node_apn_bench.js --info FILE [--count N] [--concurrency C]
//                          [--warmup W] [--token-offset O]
//
// Mirrors crates/runway-push/examples/apns_bench.rs: per send, a device
// token of 64 hex digits (the send's number, from O on: every send goes to
// a distinct token) and a Notification with its own apns-id, the same
// alert title and body, topic and priority; C workers each await
// `provider.send(note, token)` in turn, so C sends are in flight. W untimed
// sends first. Prints one JSON line: counts, the timed loop's wall and CPU
// seconds (process.cpuUsage: this process, every thread) and peak RSS.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const apn = require('@parse/node-apn');

function parseArgs(argv) {
  const a = { count: 200000, concurrency: 256, warmup: 5000, tokenOffset: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i];
    if (k === '--info') a.info = v;
    else if (k === '--count') a.count = Number(v);
    else if (k === '--concurrency') a.concurrency = Number(v);
    else if (k === '--warmup') a.warmup = Number(v);
    else if (k === '--token-offset') a.tokenOffset = Number(v);
    else {
      console.error(`unknown argument ${k}`);
      process.exit(2);
    }
  }
  if (!a.info) {
    console.error('usage: node_apn_bench.js --info FILE [--count N] [--concurrency C] [--warmup W] [--token-offset O]');
    process.exit(2);
  }
  return a;
}

function token(i) {
  return i.toString(16).padStart(64, '0');
}

function notification() {
  const note = new apn.Notification();
  note.alert = { title: 'Benchmark', body: 'Hello from bench/push' };
  note.topic = 'com.example.runway';
  note.pushType = 'alert';
  note.priority = 10;
  note.id = crypto.randomUUID();
  return note;
}

async function sendMany(provider, from, count, concurrency) {
  const outcomes = {};
  let next = from;
  const end = from + count;
  async function worker() {
    while (next < end) {
      const i = next++;
      const result = await provider.send(notification(), token(i));
      let key = 'delivered';
      if (result.failed.length) {
        const f = result.failed[0];
        key = `failed ${f.status || ''} ${(f.response && f.response.reason) || (f.error && f.error.message) || ''}`.trim();
      }
      outcomes[key] = (outcomes[key] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const info = JSON.parse(fs.readFileSync(a.info, 'utf8'));
  const provider = new apn.Provider({
    token: { key: info.key_pem, keyId: info.key_id, teamId: info.team_id },
    // The fake's host and port; http2.connect takes the port from these
    // options (node-apn's default is 443).
    address: info.host,
    port: info.port,
    ca: info.ca_pem,
    production: true,
    requestTimeout: 30000,
  });
  const warm = await sendMany(provider, a.tokenOffset, a.warmup, a.concurrency);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const outcomes = await sendMany(provider, a.tokenOffset + a.warmup, a.count, a.concurrency);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const delivered = outcomes.delivered || 0;
  console.log(
    JSON.stringify({
      contender: 'node-apn',
      count: a.count,
      concurrency: a.concurrency,
      connections: 1,
      warmup: a.warmup,
      warmup_outcomes: warm,
      delivered,
      outcomes,
      seconds,
      cpu_seconds: cpuSeconds,
      notifications_per_second: delivered / seconds,
      cpu_seconds_per_10k: (cpuSeconds / a.count) * 10000,
      peak_rss_kib: Math.round(process.resourceUsage().maxRSS),
    })
  );
  await provider.shutdown();
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
