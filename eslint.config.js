// ESLint: typescript-eslint's type-checked recommendations, plus import-x rules that keep the
// layers of src/ pointing one way (docs/architecture.md). `npm run lint` runs it and Prettier.

/**
 * The layers, lowest first: each may import only those before it in its line.
 *   protocol < trace < results < load < verdict < report < cli
 *   protocol < trace < capture < cli
 * errors.ts and host-port.ts are leaves any layer may use; index.ts (the public entry) no layer.
 */
const ABOVE = {
  protocol: ['trace', 'capture', 'results', 'load', 'verdict', 'report', 'cli'],
  trace: ['capture', 'results', 'load', 'verdict', 'report', 'cli'],
  capture: ['results', 'load', 'verdict', 'report', 'cli'],
  results: ['capture', 'load', 'verdict', 'report', 'cli'],
  load: ['capture', 'verdict', 'report', 'cli'],
  verdict: ['capture', 'report', 'cli'],
  report: ['capture', 'cli'],
};
const LAYERS = ['protocol', 'trace', 'capture', 'results', 'load', 'verdict', 'report', 'cli'];
const layerZones = [
  ...Object.entries(ABOVE).map(([layer, above]) => ({
    target: `./src/${layer}`,
    from: [...above.map((a) => `./src/${a}`), './src/index.ts'],
    message: `${layer}/ is below these layers (docs/architecture.md): move the shared piece down instead`,
  })),
  {
    target: ['./src/errors.ts', './src/host-port.ts'],
    from: LAYERS.map((l) => `./src/${l}`),
    message: 'errors.ts and host-port.ts are leaves every layer imports: they import no layer',
  },
  { target: './src/cli', from: './src/index.ts', message: 'the CLI imports the layers, not the package entry' },
];
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/lab/.run/', 'captures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  importX.flatConfigs.typescript,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // Wire codes are numbers read from a buffer; comparing them with the const enum that names
      // them (switch (type) { case MessageType.SendHeaders: ... }) is the point of the enum.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A protocol tool matches control bytes on purpose (byte strings, NULs, terminal escapes).
      'no-control-regex': 'off',
      // Rethrowing what a catch or a stored failure holds (unknown) is not throwing a non-Error.
      '@typescript-eslint/only-throw-error': ['error', { allowRethrowing: true, allowThrowingUnknown: true }],
    },
  },
  {
    // The report page is browser code with its own compilation (DOM library, no Node types).
    files: ['src/report/page/report-page.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.page.json' } },
  },
  {
    // Tests and their tools: async fakes that return at once, matchers handed a method, vitest's
    // asymmetric matchers (typed any), helpers that rethrow what a decoder reported, benchmark
    // loops that set a figure before measuring it.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/await-thenable': 'off',
      'preserve-caught-error': 'off',
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['**/*.js', 'vitest.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
