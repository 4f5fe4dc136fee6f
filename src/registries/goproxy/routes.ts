// Routes of the Go module proxy (GOPROXY=http://host/go): one wildcard, dispatched to one handler per endpoint.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import { renderError } from "./errors.js";
import { createInfoHandler } from "./info.js";
import { createLatestHandler } from "./latest.js";
import { createListHandler } from "./list.js";
import { createModHandler } from "./mod.js";
import { parseGoproxyPath } from "./module-path.js";
import type { GoProtocol } from "./protocol.js";
import { createZipHandler } from "./zip.js";

export interface GoproxyOptions {
  /** The first element of every generated module path (config go.host). */
  goHost: string;
}

export function goproxyRegistry(protocol: GoProtocol, opts: GoproxyOptions): RegistryPlugin {
  const list = createListHandler(protocol);
  const latest = createLatestHandler(protocol);
  const info = createInfoHandler(protocol);
  const mod = createModHandler(protocol);
  const zip = createZipHandler(protocol);
  return {
    name: "goproxy",
    renderError,
    routes(app) {
      // Module paths have any number of elements and `@v` sits in the middle: Fastify's router cannot split
      // them, so one wildcard parses the path (Athens routes with a regular expression for the same reason).
      app.get<{ Params: { "*": string } }>(
        "/go/*",
        async (request: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
          const target = parseGoproxyPath(request.params["*"], opts.goHost);
          switch (target.endpoint) {
            case "list":
              return list(request, reply, target);
            case "latest":
              return latest(request, reply, target);
            case "info":
              return info(request, reply, target);
            case "mod":
              return mod(request, reply, target);
            case "zip":
              return zip(request, reply, target);
          }
        },
      );
    },
  };
}
