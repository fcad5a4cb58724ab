// @ts-check
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": "off",
    },
  },
  {
    // The model is pure: no node: imports, no clock, no Math.random (DESIGN.md "Layers").
    files: ["src/kernel/**/*.ts", "src/observe/**/*.ts", "src/scenario/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: ["fs", "path", "os", "child_process", "process"], patterns: ["node:*"] },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "use the seeded Rng passed in" },
        { object: "Date", property: "now", message: "the model has no clock" },
      ],
    },
  },
);
