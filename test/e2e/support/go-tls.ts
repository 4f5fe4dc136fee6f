// A loopback HTTPS front for the test server: go sends ~/.netrc credentials over https only, as deployments run it.
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { makeSelfSignedCert } from "./tls.js";

export interface TlsFront {
  url: string;
  /** PEM of the self-signed certificate, for SSL_CERT_FILE. */
  certFile: string;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and a TLS server forwarding every request to `target`. */
export async function startTlsFront(dir: string, target: string): Promise<TlsFront> {
  const { certFile, keyFile } = await makeSelfSignedCert(dir, "front");
  const upstream = new URL(target);
  const server: Server = createServer(
    { key: await readFile(keyFile), cert: await readFile(certFile) },
    (req, res) => {
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on("error", (err) => res.destroy(err));
      req.pipe(forward);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    certFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
