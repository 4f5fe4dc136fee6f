// The CLI's command tree: every command says what it does and shows an example; --help stays lazy.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { commandPath, examples } from "./examples.js";
import { buildProgram, commands, reasonOf, version } from "./main.js";

function walk(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...walk(c)]);
}

describe("protodepot CLI", () => {
  it("gives every command and subcommand a description and an example", async () => {
    const program = await buildProgram([], true);
    const all = walk(program);
    assert.ok(all.length > 25, `only ${all.length} commands`);
    for (const command of all) {
      const path = commandPath(command);
      assert.notEqual(command.description(), "", `${path} has no description`);
      assert.ok(examples[path]?.length, `${path} has no example in src/cli/examples.ts`);
      let help = "";
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      assert.match(help, /\nExamples:\n {2}\$ protodepot /, `${path} --help shows no example`);
      for (const option of command.options.filter((o) => o.long === "--remote" || o.long === "--token"))
        assert.notEqual(option.description, "", `${path} ${option.long} has no description`);
    }
    const paths = new Set(all.map(commandPath));
    for (const path of Object.keys(examples))
      assert.ok(paths.has(path), `examples for unknown command ${path}`);
  });

  it("lists each command in --help with the description it has when loaded", async () => {
    const loaded = await buildProgram([], true);
    for (const [name, { summary }] of Object.entries(commands)) {
      const command = loaded.commands.find((c) => c.name() === name);
      assert.equal(command?.description(), summary, `summary of ${name} in main.ts`);
    }
    const lazy = await buildProgram([]);
    assert.deepEqual(
      lazy.commands.map((c) => [c.name(), c.description()]),
      Object.entries(commands).map(([name, c]) => [name, c.summary]),
    );
    assert.equal(
      lazy.commands.find((c) => c.name() === "push")?.commands.length,
      0,
      "nothing loaded for --help",
    );
  });

  it("knows its version", () => {
    assert.match(version(), /^\d+\.\d+\.\d+/);
  });

  it("turns a refused connection into what to do", () => {
    const err = Object.assign(new Error("[unavailable] connect ECONNREFUSED 127.0.0.1:1"), {
      name: "ConnectError",
      rawMessage: "connect ECONNREFUSED 127.0.0.1:1",
    });
    assert.match(
      reasonOf(err),
      /^nothing answers at 127\.0\.0\.1:1 \(connection refused\): start the registry/,
    );
  });
});
