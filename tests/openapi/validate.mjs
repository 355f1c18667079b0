// Validates an OpenAPI document file with @seriousme/openapi-schema-validator (the official
// OpenAPI 3.x JSON Schemas, on ajv), then checks what a JSON Schema cannot: every security
// requirement names a declared scheme, and an oauth2 requirement only scopes that scheme
// declares. Prints one JSON line {"valid", "version", "errors"}; exit status 0 when valid,
// 1 when not, 2 on a usage or read error.
import { readFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs DOCUMENT.json");
  process.exit(2);
}
let doc;
try {
  doc = JSON.parse(await readFile(file, "utf8"));
} catch (e) {
  console.error(`cannot read ${file}: ${e.message}`);
  process.exit(2);
}

const validator = new Validator();
const result = await validator.validate(doc);
const errors = [];
if (!result.valid) {
  const list = Array.isArray(result.errors) ? result.errors : [result.errors];
  for (const e of list) {
    errors.push(typeof e === "string" ? e : `${e.instancePath || "/"}: ${e.message}`);
  }
}

const schemes = doc?.components?.securitySchemes ?? {};
const declaredScopes = (scheme) => {
  const out = new Set();
  for (const flow of Object.values(scheme.flows ?? {})) {
    for (const s of Object.keys(flow.scopes ?? {})) out.add(s);
  }
  return out;
};
const checkRequirements = (where, list) => {
  for (const requirement of list ?? []) {
    for (const [name, scopes] of Object.entries(requirement)) {
      const scheme = schemes[name];
      if (!scheme) {
        errors.push(`${where}: security names an undeclared scheme ${JSON.stringify(name)}`);
        continue;
      }
      if (scheme.type === "oauth2") {
        const known = declaredScopes(scheme);
        for (const s of scopes) {
          if (!known.has(s)) {
            errors.push(`${where}: scope ${JSON.stringify(s)} is not declared by scheme ${JSON.stringify(name)}`);
          }
        }
      }
    }
  }
};
checkRequirements("/security", doc?.security);
for (const [path, item] of Object.entries(doc?.paths ?? {})) {
  for (const [method, op] of Object.entries(item ?? {})) {
    if (op && typeof op === "object" && "security" in op) {
      checkRequirements(`${method.toUpperCase()} ${path}`, op.security);
    }
  }
}

console.log(JSON.stringify({ valid: errors.length === 0, version: validator.version, errors }));
process.exit(errors.length === 0 ? 0 : 1);
