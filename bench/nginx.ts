// nginx serving a directory of static files on loopback: the ceiling the benchmarks compare protodepot with.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * nginx with `workers` worker processes serving `root` (which must hold a `healthz` file, polled until it answers).
 * `etag: false` for clients that read an ETag as a digest of the body (Bundler takes it for an MD5).
 */
export async function startNginx(
  root: string,
  workers: number,
  opts: { etag?: boolean } = {},
): Promise<Nginx> {
  const port = await freePort();
  const prefix = await mkdtemp(join(tmpdir(), "protodepot-bench-nginx-"));
  const conf = join(prefix, "nginx.conf");
  // Static files, keep-alive, sendfile: the ceiling for serving these bytes on this machine.
  await writeFile(
    conf,
    `worker_processes ${workers};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    etag ${opts.etag === false ? "off" : "on"};
  }
}
`,
  );
  const child: ChildProcess = spawn("nginx", ["-p", prefix, "-c", conf], { stdio: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) break;
    if (i > 100 || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error("nginx did not start");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      if (child.exitCode === null) child.kill("SIGQUIT");
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
