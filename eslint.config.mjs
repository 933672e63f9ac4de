// Lint: ESLint's recommended rules and typescript-eslint's strict type-checked rules over tsconfig.json's program
// (src, tools, test and bench), with the rules that are style rather than safety here configured or off below.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const projectRules = {
  // `_name` marks a value that is there on purpose but not read (destructuring, callbacks).
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
  // Counts, offsets, milliseconds and flags in log and error text read as intended; objects, nullish values and bigints still need a deliberate conversion.
  '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowAny: false, allowNullish: false, allowRegExp: false, allowNever: false }],
  // `() => voidCall()` and `return voidCall()` in void functions are this codebase's callback and early-return idioms; using a void value elsewhere is still reported.
  '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
  // `!` states an invariant the code just established (a shift after a length check, a setting the schema required); no-unnecessary-type-assertion removes the ones the types already prove.
  '@typescript-eslint/no-non-null-assertion': 'off',
};

export default tseslint.config(
  { ignores: ['dist/**', 'bench/.build/**', 'bench/results/**', '.stack/**', '.ci/node_modules/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: projectRules,
  },
  {
    files: ['test/**'],
    rules: {
      // Fakes implement async interfaces with `async () => value`, the shortest resolved promise that also turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // jest's asymmetric matchers (expect.any, expect.objectContaining, ...) are typed `any` by design.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // .ci/checks is outside tsconfig.json's program: it keeps the rules that need no type information.
    files: ['.ci/**'],
    ...tseslint.configs.disableTypeChecked,
  },
);
