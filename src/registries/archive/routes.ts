// Routes of the archive registry: generated code as .tar.gz.
import type { FastifyInstance } from "fastify";
import type { AuthService } from "../../services/auth.js";
import type { GenerationService } from "../../services/generation.js";
import { createDownloadHandler, type DownloadParams } from "./download.js";

export function registerArchiveRoutes(
  app: FastifyInstance,
  auth: AuthService,
  generation: GenerationService,
): void {
  app.get<{ Params: DownloadParams }>(
    "/v1/:templateOwner/:templateName/:templateVersion/:moduleOwner/:moduleName/:file",
    createDownloadHandler(auth, generation),
  );
}
