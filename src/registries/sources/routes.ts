// Routes of the module sources download.
import type { FastifyInstance } from "fastify";
import { invalidArgument } from "../../core/errors.js";
import type { AuthService } from "../../services/auth.js";
import type { ModuleService } from "../../services/modules.js";
import { createArchiveHandler } from "./archive.js";
import { sendError } from "./errors.js";

export function registerSourceRoutes(app: FastifyInstance, auth: AuthService, modules: ModuleService): void {
  const archive = createArchiveHandler(auth, modules);
  app.get<{ Params: { owner: string; module: string; file: string } }>(
    "/:owner/:module/archive/:file",
    async (request, reply) => {
      if (!request.params.file.endsWith(".tar.gz")) {
        return sendError(
          reply,
          invalidArgument("only .tar.gz archives are served: GET …/archive/{ref}.tar.gz"),
        );
      }
      return archive(request, reply);
    },
  );
}
