// Runs the real `go` command against our proxy only: temp GOPATH/caches, a consumer module whose non-generated
// requirements are replaced by Debian's sources, so nothing but the loopback server is ever asked.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const goBinary = "/usr/bin/go";
export const goHost = "protodepot.local";
const gocode = "/usr/share/gocode/src";

/** The three replaces protoc-gen-go output needs, pointing at Debian's packaged sources. */
export const debianReplaces = [
  "google.golang.org/protobuf",
  "github.com/golang/protobuf",
  "github.com/google/go-cmp",
];

export interface GoEnv {
  /** HOME (for ~/.netrc), GOPATH, GOCACHE and GOMODCACHE all live under this directory. */
  root: string;
  env: Record<string, string>;
}

export async function makeGoEnv(root: string, proxyUrl: string): Promise<GoEnv> {
  await mkdir(join(root, "home"), { recursive: true });
  return {
    root,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: join(root, "home"),
      GOPATH: join(root, "gopath"),
      GOCACHE: join(root, "gocache"),
      GOMODCACHE: join(root, "modcache"),
      GOPROXY: `${proxyUrl}/go`,
      GONOSUMDB: goHost,
      // -modcacherw: the module cache can be deleted by the test's cleanup without chmod.
      GOFLAGS: "-mod=mod -modcacherw",
      GOTOOLCHAIN: "local",
      GO111MODULE: "on",
      CGO_ENABLED: "0",
    },
  };
}

export interface GoResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runGo(args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<GoResult> {
  return new Promise((resolve) => {
    execFile(
      goBinary,
      args,
      { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Throws with go's output when it fails, so a broken step names itself. */
export async function goOk(
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<GoResult> {
  const res = await runGo(args, opts);
  if (res.code !== 0) throw new Error(`go ${args.join(" ")} exited ${res.code}:\n${res.stderr}${res.stdout}`);
  return res;
}

/** A consumer module with Debian's replaces and one main package. */
export async function writeConsumer(dir: string, mainGo: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const replaces = debianReplaces.map((m) => `replace ${m} => ${gocode}/${m}\n`).join("\n");
  await writeFile(join(dir, "go.mod"), `module example.com/consumer\n\ngo 1.19\n\n${replaces}`);
  await writeFile(join(dir, "main.go"), mainGo);
}
