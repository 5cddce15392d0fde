/**
 * What fills a V8 heap snapshot, by constructor: `node dist/bench/heap-summary.js FILE.heapsnapshot [TOP=25] [PER=N]`
 * prints count and shallow (self) size per (node type, constructor/name), largest first. With PER (e.g.
 * the number of queued messages), it also prints bytes and objects per message.
 *
 * Take the snapshot from a running broker: start it with `node --heapsnapshot-signal=SIGUSR2 bin/warren ...`,
 * fill a queue, `kill -USR2 PID`; the file lands in the broker's working directory.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: heap-summary.js FILE.heapsnapshot [TOP] [PER]');
  const top = Number(process.argv[3] ?? 25);
  const per = process.argv[4] === undefined ? 0 : Number(process.argv[4]);
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const F = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const agg = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += F) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    let name = s.strings[s.nodes[i + iName]!] ?? '?';
    // Strings and numbers are named by their content: group them by type only.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'code') name = '';
    const size = s.nodes[i + iSize]!;
    total += size;
    const key = `${type}\t${name.slice(0, 60)}`;
    const e = agg.get(key);
    if (e === undefined) agg.set(key, { count: 1, bytes: size });
    else {
      e.count++;
      e.bytes += size;
    }
  }
  const rows = [...agg.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  process.stdout.write(`heap total ${(total / 1048576).toFixed(1)} MB (shallow sizes)${per ? `, ${(total / per).toFixed(0)} bytes per unit (${per})` : ''}\n`);
  process.stdout.write(`| type | name | count | MB |${per ? ' objects/unit | bytes/unit |' : ''}\n|---|---|---:|---:|${per ? '---:|---:|' : ''}\n`);
  for (const [k, v] of rows) {
    const [type, name] = k.split('\t');
    process.stdout.write(`| ${type} | ${name || '–'} | ${v.count} | ${(v.bytes / 1048576).toFixed(2)} |` +
      `${per ? ` ${(v.count / per).toFixed(2)} | ${(v.bytes / per).toFixed(0)} |` : ''}\n`);
  }
}

main();
