/**
 * The stages' order, enforced (`npm test` runs this). Data flows grid → data → train → exec →
 * store → analysis → report, with records/ (the stored shapes) and store/ at the bottom: a
 * folder may import the folders listed before it, never one after it. The site reads the
 * summary's types and nothing else of the runner's.
 */
const layers = [
  ['records'],
  ['errors', 'version'],
  ['store'],
  ['grid'],
  ['data'],
  ['train'],
  ['exec'],
  ['analysis'],
  ['report'],
  ['bench'],
  ['commands'],
  ['cli', 'main', 'index'],
];
const path = (name) => `^runner/${name}(/|\\.ts$)`;
const above = (i) => layers.slice(i + 1).flat();

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle ties stages together: a change in either needs the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'records-import-nothing',
      severity: 'error',
      comment: "records/ holds the stored shapes every stage reads: it imports nothing of fitgrid's outside itself.",
      from: { path: '^runner/records/' },
      to: { path: '^(runner|site|infra)/', pathNot: '^runner/records/' },
    },
    ...layers.slice(0, -1).flatMap((names, i) =>
      names.map((name) => ({
        name: `no-upward-from-${name}`,
        severity: 'error',
        comment: `${name} sits below ${above(i).join(', ')} in the flow and must not import them.`,
        from: { path: path(name) },
        to: { path: above(i).map(path) },
      })),
    ),
    {
      name: 'analysis-no-executor',
      severity: 'error',
      comment: 'The summary depends on stored results, never on how they were trained.',
      from: { path: '^runner/analysis/' },
      to: { path: ['^runner/train/', '^runner/exec/'] },
    },
    {
      name: 'site-reads-the-summary-only',
      severity: 'error',
      comment: "The site renders summary.json: of the runner it imports the summary's types and the array reader they use.",
      from: { path: '^site/' },
      to: { path: '^runner/', pathNot: ['^runner/records/summary\\.ts$', '^runner/records/typed-array\\.ts$'] },
    },
    {
      name: 'runner-not-from-tests',
      severity: 'error',
      comment: 'Product code never imports test helpers.',
      from: { path: '^(runner|site|infra)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '^site/dist', '^site/\\.astro'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.mts', '.mjs', '.js', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
