// A --config argument: inline JSON, inline YAML, or the path of a JSON/YAML file.
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";

export function parseConfigArg<T extends z.ZodType>(text: string, schema: T, what: string): z.output<T> {
  const source = !/^\s*[{[]/.test(text) && existsSync(text) ? readFileSync(text, "utf8") : text;
  // A lone word or path that is no file was meant as a file: say so, not "expected object, received string".
  if (source === text && /^[^\s:{}[\]]+$/.test(text.trim())) {
    throw new Error(`${what}: no file ${text} (pass a JSON/YAML file path, or the JSON/YAML inline)`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(source);
  } catch (err) {
    throw new Error(
      `${what}: not valid JSON or YAML (${err instanceof Error ? err.message.split("\n")[0] : err})`,
    );
  }
  const result = schema.safeParse(doc);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new Error(
      `${what}: ${first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid"}`,
    );
  }
  return result.data;
}
