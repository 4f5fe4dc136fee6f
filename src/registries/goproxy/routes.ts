// Routes of the Go module proxy (GOPROXY=http://host/go): one wildcard, dispatched to one handler per endpoint.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthService } from "../../services/auth.js";
import type { GenerationService } from "../../services/generation.js";
import { sendError } from "./errors.js";
import type { GoproxyDeps } from "./handler.js";
import { createInfoHandler } from "./info.js";
import { createLatestHandler } from "./latest.js";
import { createListHandler } from "./list.js";
import { createModHandler } from "./mod.js";
import { parseGoproxyPath } from "./module-path.js";
import { createZipHandler } from "./zip.js";

export interface GoproxyOptions {
  /** The first element of every generated module path (config go.host). */
  goHost: string;
}

export function registerGoproxyRoutes(
  app: FastifyInstance,
  auth: AuthService,
  generation: GenerationService,
  opts: GoproxyOptions,
): void {
  const deps: GoproxyDeps = { auth, generation };
  const list = createListHandler(deps);
  const latest = createLatestHandler(deps);
  const info = createInfoHandler(deps);
  const mod = createModHandler(deps);
  const zip = createZipHandler(deps);
  // Module paths have any number of elements and `@v` sits in the middle: Fastify's router cannot split them, so
  // one wildcard parses the path (Athens routes with a regular expression for the same reason).
  app.get<{ Params: { "*": string } }>(
    "/go/*",
    async (request: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
      try {
        const target = parseGoproxyPath(request.params["*"], opts.goHost);
        switch (target.endpoint) {
          case "list":
            return await list(request, reply, target);
          case "latest":
            return await latest(request, reply, target);
          case "info":
            return await info(request, reply, target);
          case "mod":
            return await mod(request, reply, target);
          case "zip":
            return await zip(request, reply, target);
        }
      } catch (reason) {
        return sendError(reply, reason);
      }
    },
  );
}
