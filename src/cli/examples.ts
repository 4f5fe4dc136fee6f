// Examples printed under each command's --help, by command path. main.test.ts fails when a command has none.
import type { Command } from "commander";

const R = "http://127.0.0.1:8080";

export const examples: Readonly<Record<string, readonly string[]>> = {
  serve: [
    "protodepot serve --demo                       # 127.0.0.1:8080, data in ./.protodepot",
    "protodepot serve --port 0 --data /var/lib/protodepot --config /etc/protodepot.yaml",
  ],
  fsck: [
    "protodepot fsck --config /etc/protodepot.yaml            # report only; exit status 1 when damaged",
    "protodepot fsck --config /etc/protodepot.yaml --repair   # remove orphans and leftovers, drop damaged artifacts",
  ],
  login: [
    `protodepot login ${R} --token-stdin < token.txt   # stored in ~/.config/protodepot/config.json`,
    `protodepot login ${R} --sso   # company sign-in: approve the printed code in any browser`,
    `protodepot login ${R} --token-stdin --npmrc --netrc   # also set up npm and go for this registry`,
    `protodepot login ${R} --token-stdin --all   # npm, go, pip, Maven and Yarn 4 for this registry`,
  ],
  whoami: [
    "protodepot whoami                            # alice at http://127.0.0.1:8080",
    `protodepot whoami --remote ${R}   # the token stored for that remote, or PROTODEPOT_TOKEN`,
  ],
  push: [
    "protodepot push examples/money               # the module name comes from buf.yaml",
    "protodepot push ./proto --label v2 --module acme/payments",
    "protodepot push ./proto --allow-breaking        # an owner overriding a 'breaking: reject' policy once",
  ],
  user: ["protodepot user create alice", "protodepot user list"],
  "user create": ["protodepot user create alice", "protodepot user create ops --admin"],
  "user list": ["protodepot user list"],
  token: ["protodepot token create --note ci"],
  "token create": [
    "protodepot token create --note ci",
    "protodepot token create --user alice --note laptop",
    "protodepot token create --note mirror --scope read --expires 30d",
    "protodepot token create --note payments-ci --scope write:acme/payments --expires 90d",
  ],
  "token list": ["protodepot token list", "protodepot token list --user alice"],
  "token revoke": ["protodepot token revoke ID        # an ID from 'protodepot token list'"],
  bot: [
    "protodepot bot create acme acme-ci",
    "protodepot bot token create acme-ci --scope write:acme/payments",
  ],
  "bot create": [
    "protodepot bot create acme acme-ci",
    "protodepot bot create acme acme-mirror --role reader",
  ],
  "bot list": ["protodepot bot list acme"],
  "bot delete": ["protodepot bot delete acme acme-ci   # its tokens stop working"],
  "bot token": ["protodepot bot token list acme-ci"],
  "bot token create": [
    "protodepot bot token create acme-ci --note payments --scope write:acme/payments --expires 90d",
  ],
  "bot token list": ["protodepot bot token list acme-ci"],
  "bot token revoke": ["protodepot bot token revoke ID   # an ID from 'protodepot bot token list'"],
  webhook: [
    "protodepot webhook create --owner acme --url https://ci.acme.example/protodepot --events commit.pushed",
  ],
  "webhook create": [
    "protodepot webhook create --owner acme --url https://ci.acme.example/hook --events commit.pushed,label.moved",
    "protodepot webhook create --url https://ops.example/all-events     # admins: every event of the server",
  ],
  account: ["protodepot account identities", "protodepot account unlink corp"],
  "account identities": [
    "protodepot account identities --json",
    "protodepot account identities --user ann   # admins",
  ],
  "account unlink": [
    "protodepot account unlink corp",
    "protodepot account unlink https://idp.example.com --user ann   # admins",
  ],
  "webhook list": ["protodepot webhook list --owner acme"],
  "webhook delete": ["protodepot webhook delete 5f0c…"],
  "webhook rotate-secret": [
    "protodepot webhook rotate-secret 5f0c…               # the old secret signs too for 24 hours",
    "protodepot webhook rotate-secret 5f0c… --grace 0     # the old secret stops at once (it leaked)",
  ],
  "webhook deliveries": ["protodepot webhook deliveries 5f0c… --limit 20"],
  "webhook redeliver": ["protodepot webhook redeliver 0190…"],
  audit: ["protodepot audit list --since 7d"],
  "audit list": [
    "protodepot audit list --since 7d                  # admins: everything",
    "protodepot audit list --owner acme --actor acme-ci --json",
    "protodepot audit list --action auth.failed --since 1h",
  ],
  quota: ["protodepot quota get acme"],
  "quota get": ["protodepot quota get acme", "protodepot quota get acme --json"],
  "quota set": [
    "protodepot quota set acme --modules 50 --commits-per-day 500   # admins",
    "protodepot quota set acme --modules default                     # back to the server's default",
  ],
  org: ["protodepot org create acme", "protodepot org member add acme alice --role writer"],
  "org create": ["protodepot org create acme"],
  "org list": ["protodepot org list"],
  "org update": [
    "protodepot org update acme --pregenerate protodepot/es,protodepot/go",
    "protodepot org update acme                     # show the list",
    "protodepot org update acme --pregenerate ''    # clear it",
  ],
  "org member": ["protodepot org member list acme"],
  "org member add": [
    "protodepot org member add acme alice --role writer",
    "protodepot org member add acme bob --role reader",
  ],
  "org member remove": ["protodepot org member remove acme bob"],
  "org member list": ["protodepot org member list acme"],
  module: ["protodepot module list", "protodepot module create acme/payments --visibility private"],
  "module list": ["protodepot module list", "protodepot module list demo"],
  "module create": ["protodepot module create acme/payments --visibility private --default-label main"],
  "module update": [
    "protodepot module update acme/payments --visibility public",
    "protodepot module update acme/payments --breaking reject --breaking-category WIRE_JSON",
    "protodepot module update acme/payments --lint warn --lint-category STANDARD --label main",
    'protodepot module update acme/payments --description "Payment messages" --default-label stable',
  ],
  "module delete": [
    "protodepot module delete acme/payments --force   # refused while anything depends on it",
  ],
  "module deprecate": ['protodepot module deprecate acme/payments --message "use acme/billing"'],
  "module undeprecate": ["protodepot module undeprecate acme/payments"],
  "module info": ["protodepot module info acme/payments"],
  "plugin info": ["protodepot plugin info acme/protoc-gen-es"],
  "plugin deprecate": ['protodepot plugin deprecate acme/protoc-gen-es --message "use bufbuild/es"'],
  "plugin undeprecate": ["protodepot plugin undeprecate acme/protoc-gen-es"],
  "template deprecate": ['protodepot template deprecate acme/ts --message "use acme/ts2"'],
  "template undeprecate": ["protodepot template undeprecate acme/ts"],
  commit: ["protodepot commit list demo/payments --limit 10"],
  "commit list": [
    "protodepot commit list demo/payments",
    "protodepot commit list demo/payments --limit 10 --page-token 41",
  ],
  label: ["protodepot label list demo/payments", "protodepot label create demo/payments beta main"],
  "label list": ["protodepot label list demo/payments"],
  "label create": [
    "protodepot label create demo/payments beta main      # at main's commit",
    "protodepot label create demo/payments v1 3f2a9c1e    # at a commit id, or a unique prefix of 8+",
  ],
  "label move": ["protodepot label move demo/payments beta 3f2a9c1e"],
  plugin: ["protodepot plugin create acme/es", "protodepot plugin list"],
  "plugin create": ["protodepot plugin create acme/es"],
  "plugin push": [
    "protodepot plugin push acme/go:v1.28.1 --binary /usr/bin/protoc-gen-go \\",
    "  --runtime-lib go:google.golang.org/protobuf@v1.28.1   # a static binary; no docker needed",
  ],
  "plugin delete": ["protodepot plugin delete acme/es --force   # refused while a template runs it"],
  "plugin update": ["protodepot plugin update acme/es --visibility private"],
  "plugin list": ["protodepot plugin list", "protodepot plugin list protocolbuffers"],
  "plugin version": ["protodepot plugin version list protocolbuffers/go"],
  "plugin version create": [
    'protodepot plugin version create acme/es v2.13.0 --command "$(pwd)/node_modules/.bin/protoc-gen-es" \\',
    "  --runtime-lib npm:@bufbuild/protobuf@^2.13.0",
  ],
  "plugin version list": ["protodepot plugin version list protocolbuffers/go"],
  template: ["protodepot template list", "protodepot template show protodepot/es"],
  "template create": [
    `protodepot template create acme/ts --config '{"plugins":[{"owner":"acme","name":"es","parameter":"target=ts"}]}'`,
    "protodepot template create acme/ts --config template.yaml",
  ],
  "template delete": [
    "protodepot template delete acme/ts --force   # refused while modules pre-generate with it",
  ],
  "template update": ["protodepot template update acme/ts --visibility public"],
  "template list": ["protodepot template list", "protodepot template list protodepot"],
  "template show": ["protodepot template show protodepot/es"],
  "template version": ["protodepot template version list protodepot/es"],
  "template version create": [
    `protodepot template version create acme/ts --config '{"plugin_versions":[{"owner":"acme","name":"es","version":"v2.13.0"}]}'`,
  ],
  "template version list": ["protodepot template version list protodepot/es"],
};

/** `template version create` for the command at that place in the tree. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Adds the examples under every registered command's help, however deep. */
export function addExamples(command: Command): void {
  for (const sub of command.commands) {
    const lines = examples[commandPath(sub)];
    if (lines) sub.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
    addExamples(sub);
  }
}
