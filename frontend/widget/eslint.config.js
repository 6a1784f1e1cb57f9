import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "dist/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
    rules: {
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: "error",
      "no-implicit-globals": "error",
      "no-restricted-properties": ["error",
        { property: "innerHTML", message: "Insert text with textContent." },
        { property: "outerHTML", message: "Insert text with textContent." },
        { property: "insertAdjacentHTML", message: "Insert text with textContent." }],
      "no-restricted-syntax": ["error", { selector: "CallExpression[callee.name='eval']", message: "No eval." }]
    }
  },
  {
    // The loader is plain ES5-style script (no module, no build transforms but a define).
    files: ["src/loader.js"],
    languageOptions: {
      ecmaVersion: 2015, sourceType: "script",
      globals: { ...globals.browser, __CONCIERGE_BUNDLE__: "readonly", __CONCIERGE_INTEGRITY__: "readonly" }
    },
    rules: { "no-var": "off", "prefer-const": "off" }
  },
  {
    files: ["scripts/**/*.mjs", "test/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } }
  }
];
