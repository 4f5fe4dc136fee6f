// The modules every package-registry test installs: demo/money and demo/payments (public, payments depends on
// money, from examples/), and acme/ledger (private, depends on demo/money), with a user `reader` of acme.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cliOk } from "./cli.js";
import { adminToken, repoRoot } from "./server.js";

export interface PackageWorld {
  /** The CLI's environment as the admin. */
  env: Record<string, string>;
  /** A token of `reader`, who may read acme's private modules. */
  readerToken: string;
}

/** Pushes the modules through the real CLI; `work` is the test's temp dir (its `seed-ledger/` is written here). */
export async function seedPackageWorld(serverUrl: string, work: string): Promise<PackageWorld> {
  const env = {
    PROTODEPOT_REMOTE: serverUrl,
    PROTODEPOT_TOKEN: adminToken,
    XDG_CONFIG_HOME: join(work, "config"),
  };
  await cliOk(["push", join(repoRoot, "examples/money")], env);
  await cliOk(["push", join(repoRoot, "examples/payments")], env);
  const dir = join(work, "seed-ledger");
  await mkdir(join(dir, "acme/ledger/v1"), { recursive: true });
  await writeFile(
    join(dir, "buf.yaml"),
    "version: v1\nname: buf.build/acme/ledger\ndeps:\n  - buf.build/demo/money\n",
  );
  await writeFile(
    join(dir, "acme/ledger/v1/ledger.proto"),
    'syntax = "proto3";\npackage acme.ledger.v1;\nimport "demo/money/v1/money.proto";\n' +
      "message Entry {\n  string account = 1;\n  demo.money.v1.Money amount = 2;\n}\n",
  );
  await cliOk(["push", dir, "--visibility", "private"], env);
  await cliOk(["user", "create", "reader"], env);
  await cliOk(["org", "member", "add", "acme", "reader", "--role", "reader"], env);
  const readerToken = (await cliOk(["token", "create", "--user", "reader"], env)).stdout.trim();
  return { env, readerToken };
}
