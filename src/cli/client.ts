// Connect clients for the CLI, pointed at the chosen remote with the chosen token.
import type { DescService } from "@bufbuild/protobuf";
import type { Client, Interceptor } from "@connectrpc/connect";
import { normalizeRemote, readSettings } from "./settings.js";

export interface RemoteOptions {
  remote?: string;
  token?: string;
}

export interface Remote {
  url: string;
  token?: string;
  client<S extends DescService>(service: S): Client<S>;
}

/** Flags win over env (PROTODEPOT_REMOTE, PROTODEPOT_TOKEN), which win over the stored login. */
export async function openRemote(opts: RemoteOptions, env: NodeJS.ProcessEnv = process.env): Promise<Remote> {
  const settings = await readSettings();
  const chosen = opts.remote ?? env.PROTODEPOT_REMOTE ?? settings.current;
  if (!chosen) {
    throw new Error(
      "no remote: run 'protodepot login URL --token-stdin' (the token on stdin), set PROTODEPOT_REMOTE, or pass --remote URL",
    );
  }
  const url = normalizeRemote(chosen);
  const token = opts.token ?? env.PROTODEPOT_TOKEN ?? settings.remotes[url]?.token;
  const auth: Interceptor = (next) => async (req) => {
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  // Loaded here, not at the top: `protodepot --help` and every command's parsing start without it.
  const [{ createClient }, { createConnectTransport }] = await Promise.all([
    import("@connectrpc/connect"),
    import("@connectrpc/connect-node"),
  ]);
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: "1.1",
    useBinaryFormat: true,
    interceptors: [auth],
  });
  return { url, ...(token ? { token } : {}), client: (service) => createClient(service, transport) };
}
