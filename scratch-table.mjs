import { readFileSync } from 'node:fs';
const s = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const f = (x, d = 3) => (x === undefined || x === null ? '—' : Number(x).toFixed(d));
console.log('| l2 | dropout | augmentation | patience | gap (val − train loss) | val acc | verdict |');
console.log('|---|---|---|---|---|---|---|');
for (const c of s.cells) {
  const a = c.axes;
  console.log(`| ${a.l2} | ${JSON.stringify(a.dropout)} | ${a.augmentation} | ${a.patience ?? '—'} | ${f(c.stats.gap_loss.mean)} | ${f(c.stats.val_acc.mean)} | ${c.verdict?.label ?? '—'} |`);
}
console.log('wall', s.wallSeconds, 'train', s.trainSeconds, 'engines', s.engines);
