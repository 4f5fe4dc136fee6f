// A self-signed certificate for 127.0.0.1, made with the real openssl, for servers and clients under test.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface SelfSignedCert {
  /** PEM certificate: the server's --tls-cert, and the client's SSL_CERT_FILE / NODE_EXTRA_CA_CERTS. */
  certFile: string;
  keyFile: string;
}

export async function makeSelfSignedCert(dir: string, name = "tls"): Promise<SelfSignedCert> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  await exec("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile };
}
