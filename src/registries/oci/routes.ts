// The OCI Distribution API under /v2/ (plugin images): one encapsulated Fastify plugin that authenticates every
// request before anything is parsed and renders every error in the spec's format.
import type { FastifyInstance } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { principalOf } from "../../http/principal.js";
import type { AuthService } from "../../services/auth.js";
import type { ImageService } from "../../services/images.js";
import { base } from "./base.js";
import { createBlobGetHandler, createBlobHeadHandler } from "./blob.js";
import { ociError, sendError } from "./errors.js";
import { createManifestGetHandler } from "./manifest-get.js";
import { createManifestPutHandler } from "./manifest-put.js";
import { principals } from "./request.js";
import { createTagsListHandler } from "./tags-list.js";
import { createUploadCancelHandler } from "./upload-cancel.js";
import { createUploadChunkHandler } from "./upload-chunk.js";
import { createUploadFinishHandler } from "./upload-finish.js";
import { createUploadStartHandler } from "./upload-start.js";
import { createUploadStatusHandler } from "./upload-status.js";

export interface OciRoutesOptions {
  maxManifestBytes: number;
}

export async function registerOciRoutes(
  app: FastifyInstance,
  auth: AuthService,
  images: ImageService,
  opts: OciRoutesOptions,
): Promise<void> {
  await app.register(
    async (v2) => {
      // Bodies (layers, manifests) are streamed by the handlers themselves, whatever their content type.
      v2.removeAllContentTypeParsers();
      v2.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

      v2.addHook("onRequest", async (request, reply) => {
        reply.header("docker-distribution-api-version", "registry/2.0");
        const principal = await principalOf(auth, request);
        // Every endpoint, HEAD included, challenges anonymous callers: some clients never ping /v2/ first.
        if (!principal.user) {
          throw new RegistryError(
            Code.Unauthenticated,
            "authentication required: log in with your protodepot user name and a token as the password",
          );
        }
        principals.set(request, principal);
      });
      v2.setErrorHandler((err, _request, reply) => sendError(reply, err));
      v2.setNotFoundHandler((request, reply) =>
        sendError(
          reply,
          ociError(Code.NotFound, "NAME_UNKNOWN", `no registry endpoint at ${request.method} ${request.url}`),
        ),
      );

      const unsupported = async () => {
        throw ociError(
          Code.FailedPrecondition,
          "UNSUPPORTED",
          "deleting is not supported: plugin versions are immutable",
        );
      };

      v2.get("/", base);
      v2.head("/:owner/:name/blobs/:digest", createBlobHeadHandler(images));
      v2.get("/:owner/:name/blobs/:digest", createBlobGetHandler(images));
      v2.delete("/:owner/:name/blobs/:digest", unsupported);
      v2.post("/:owner/:name/blobs/uploads/", createUploadStartHandler(images));
      v2.patch("/:owner/:name/blobs/uploads/:id", createUploadChunkHandler(images));
      v2.put("/:owner/:name/blobs/uploads/:id", createUploadFinishHandler(images));
      v2.get("/:owner/:name/blobs/uploads/:id", createUploadStatusHandler(images));
      v2.delete("/:owner/:name/blobs/uploads/:id", createUploadCancelHandler(images));
      v2.put("/:owner/:name/manifests/:reference", createManifestPutHandler(images, opts.maxManifestBytes));
      v2.get("/:owner/:name/manifests/:reference", createManifestGetHandler(images));
      v2.delete("/:owner/:name/manifests/:reference", unsupported);
      v2.get("/:owner/:name/tags/list", createTagsListHandler(images));
    },
    { prefix: "/v2" },
  );
}
