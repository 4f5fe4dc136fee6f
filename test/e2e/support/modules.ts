// Builds small in-memory modules for tests: buf.yaml plus .proto files.
export interface TestFile {
  path: string;
  content: Uint8Array;
}

const enc = new TextEncoder();

export function moduleFiles(name: string, protos: Record<string, string>, deps: string[] = []): TestFile[] {
  const depLines = deps.length ? `deps:\n${deps.map((d) => `  - buf.build/${d}\n`).join("")}` : "";
  return [
    { path: "buf.yaml", content: enc.encode(`version: v1\nname: buf.build/${name}\n${depLines}`) },
    ...Object.entries(protos).map(([path, text]) => ({ path, content: enc.encode(text) })),
  ];
}

/** A module of `count` files in one package where file i imports file i-1, so compiling it is real work. */
export function chainModule(pkg: string, count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const imp = i > 0 ? `import "${pkg}/v1/f${i - 1}.proto";\n` : "";
    const field = i > 0 ? `  M${i - 1} prev = 2;\n` : "";
    files[`${pkg}/v1/f${i}.proto`] =
      `syntax = "proto3";\npackage ${pkg}.v1;\n${imp}message M${i} {\n  string name = 1;\n${field}  repeated int64 values = 3;\n}\n`;
  }
  return files;
}

/** Copies a module directory to `dir` and renames it to `name` in its buf.yaml (same files, another module). */
export async function copyModule(from: string, dir: string, name: string): Promise<string> {
  const { cp, readFile, writeFile } = await import("node:fs/promises");
  await cp(from, dir, { recursive: true });
  const yaml = await readFile(`${dir}/buf.yaml`, "utf8");
  await writeFile(`${dir}/buf.yaml`, yaml.replace(/^name: .*$/m, `name: buf.build/${name}`));
  return dir;
}
