import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'service/dist/', 'data/', '.tools/', '.dev/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read the environment through your program\'s config (service/src/*/config.ts): main.ts hands it to each command.' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
    // Mocha loads reporters with require(): tests/support/suite-times.cjs is CommonJS.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['service/src/main.ts', 'tests/**', 'tooling/**', 'scripts/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Tracing is preloaded before the service's config exists and follows the OpenTelemetry SDK's own
    // standard variables (OTEL_*), which the SDK reads from the environment itself.
    files: ['service/src/api/tracing.ts', 'service/src/api/observability/tracing-sdk.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
