// BullMQ's side of bench/peers.sh (NODE_PATH finds bullmq).
//   node bullmq.js worker C    (PEER_N, PEER_OUT as in sidekiq.rb)
//   node bullmq.js enqueue single|bulk N | delayed N SPAN_MS | idle N GAP_MS
// REDIS_URL names the Redis.  Jobs are removed when done, as looklook's
// and Sidekiq's are.
'use strict';
const { Queue, Worker } = require('bullmq');
const fs = require('fs');

const url = new URL(process.env.REDIS_URL);
const connection = { host: url.hostname, port: Number(url.port) };
const [cmd, a1, a2] = process.argv.slice(2);
const opts = { removeOnComplete: true, removeOnFail: true };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function client() {
  const q = new Queue('bench', { connection });
  const n = Number(a1);
  if (cmd === 'enqueue') {
    const t0 = Date.now();
    if (a2 === 'bulk') {
      for (let i = 0; i < n; i += 1000) {
        const jobs = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) {
          jobs.push({ name: 'noop', data: {}, opts });
        }
        await q.addBulk(jobs);
      }
    } else {
      for (let i = 0; i < n; i++) await q.add('noop', {}, opts);
    }
    console.log(Math.round((n * 1000) / (Date.now() - t0)));
  } else if (cmd === 'delayed') {
    const start = Date.now() + 1000;
    const jobs = [];
    for (let i = 0; i < n; i++) {
      const due = start + Math.floor(Math.random() * Number(a2));
      jobs.push({ name: 'noop', data: { ts: due }, opts: { ...opts, delay: due - Date.now() } });
    }
    await q.addBulk(jobs);
  } else if (cmd === 'idle') {
    for (let i = 0; i < n; i++) {
      await sleep(Number(a2));
      await q.add('noop', { ts: Date.now() }, opts);
    }
  }
  await q.close();
}

function worker() {
  const n = Number(process.env.PEER_N);
  const out = process.env.PEER_OUT;
  const lat = [];
  let done = 0;
  let t0 = 0;
  new Worker('bench', async (job) => {
    const t = Date.now();
    if (!t0) t0 = t;
    if (job.data.ts !== undefined) lat.push(t - job.data.ts);
    if (++done === n) {
      const text = lat.length
        ? lat.sort((x, y) => x - y).join('\n') + '\n'
        : Math.round(((n - 1) * 1000) / (t - t0)) + '\n';
      fs.writeFileSync(out + '.tmp', text);
      fs.renameSync(out + '.tmp', out);
    }
  }, { connection, concurrency: Number(a1) });
}

if (cmd === 'worker') worker();
else client().catch((e) => { console.error(e); process.exit(1); });
