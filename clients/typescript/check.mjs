// Fails when src/schema.d.ts is not what openapi-typescript makes from the
// committed docs/openapi.json (regenerate with `npm run generate`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const out = join(mkdtempSync(join(tmpdir(), "runway-client-")), "schema.d.ts");
execFileSync(
  "node_modules/.bin/openapi-typescript",
  ["../../docs/openapi.json", "--output", out],
  { stdio: ["ignore", "ignore", "inherit"] },
);
const fresh = readFileSync(out, "utf8");
const committed = readFileSync("src/schema.d.ts", "utf8");
if (fresh !== committed) {
  console.error(
    "clients/typescript/src/schema.d.ts is stale: run `npm run generate` in clients/typescript and commit it",
  );
  process.exit(1);
}
console.error("clients/typescript: schema.d.ts matches docs/openapi.json");
