// One linter for the whole tree; type-aware so a forgotten `await` (a real bug in a workflow) fails the build.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers (README, Architecture): what each folder may import of Ferry's own code. Imports point down; `types`
// only with `import type`, which is erased, so workflows never load activity or plugin code into their sandbox.
// workers/ (the process) and lab/, test/, bench/ and test files (outside the layers) may import anything.
const ferryTop = ['api', 'workers', 'workflows', 'activities', 'planning', 'plugins', 'db', 'core', 'ssh', 'net'];
const config = 'temporal.config';
const layers = {
  api: { values: ['planning', 'plugins', 'db', 'core', 'ssh', 'net', config], types: ['workflows'] },
  workflows: { values: ['core'], types: ['activities', 'planning', 'plugins', 'db'] },
  activities: { values: ['planning', 'plugins', 'db', 'core', 'ssh', 'net', config], types: [] },
  planning: { values: ['plugins', 'db', 'core', 'ssh', 'net'], types: [] },
  plugins: { values: ['db', 'core', 'ssh', 'net'], types: [] },
  db: { values: ['core'], types: [] },
  core: { values: [], types: [] },
  ssh: { values: ['core'], types: [] },
  net: { values: ['core'], types: [] },
};

/** Matches a relative import of any of `targets` (top-level folders, or temporal.config) from anywhere below. */
const importOf = (targets) => `^(\\.\\./)+(${targets.map((t) => t.replace('.', '\\.')).join('|')})(\\.ts|\\.js)?(/|$)`;
const shown = (names) => names.map((n) => (n === config ? `${n}.ts` : `${n}/`)).join(', ');

const layerRules = Object.entries(layers).map(([layer, { values, types }]) => {
  const forbidden = [...ferryTop, config, 'lab', 'test', 'bench'].filter(
    (t) => t !== layer && !values.includes(t) && !types.includes(t),
  );
  const patterns = [
    {
      regex: importOf(forbidden),
      message:
        (values.length ? `${layer}/ may import only ${shown(values)}` : `${layer}/ may import none`) +
        ` of Ferry's other folders${types.length ? ` (and types of ${shown(types)})` : ''}: imports point down (README, Architecture).`,
    },
  ];
  if (types.length > 0) {
    patterns.push({
      regex: importOf(types),
      allowTypeImports: true,
      message: `${layer}/ may import ${shown(types)} with \`import type\` only (README, Architecture).`,
    });
  }
  return {
    files: [`${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/', '.ferry/', 'db/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // With verbatimModuleSyntax, `import { type A }` still loads the module; the layers rely on `import type`.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
