// The OCI Distribution API under /v2/ (plugin images): one registry plugin; the shared hook authenticates every
// request before anything is parsed, and every error leaves in the spec's format.
import { Code, RegistryError } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { ImageService } from "../../services/images.js";
import { base } from "./base.js";
import { createBlobGetHandler, createBlobHeadHandler } from "./blob.js";
import { ociError, renderError } from "./errors.js";
import { createManifestGetHandler } from "./manifest-get.js";
import { createManifestPutHandler } from "./manifest-put.js";
import { createTagsListHandler } from "./tags-list.js";
import { createUploadCancelHandler } from "./upload-cancel.js";
import { createUploadChunkHandler } from "./upload-chunk.js";
import { createUploadFinishHandler } from "./upload-finish.js";
import { createUploadStartHandler } from "./upload-start.js";
import { createUploadStatusHandler } from "./upload-status.js";

export interface OciRoutesOptions {
  maxManifestBytes: number;
}

export function ociRegistry(images: ImageService, opts: OciRoutesOptions): RegistryPlugin {
  return {
    name: "oci",
    renderError,
    routes(v2) {
      // Bodies (layers, manifests) are streamed by the handlers themselves, whatever their content type.
      v2.removeAllContentTypeParsers();
      v2.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
      // After the shared hook has authenticated the caller: every endpoint, HEAD included, challenges anonymous
      // callers, since some clients never ping /v2/ first.
      v2.addHook("onRequest", async (request, reply) => {
        reply.header("docker-distribution-api-version", "registry/2.0");
        if (!request.principal.user) {
          throw new RegistryError(
            Code.Unauthenticated,
            "authentication required: log in with your protodepot user name and a token as the password",
          );
        }
      });

      const unsupported = async () => {
        throw ociError(
          Code.FailedPrecondition,
          "UNSUPPORTED",
          "deleting is not supported: plugin versions are immutable",
        );
      };

      v2.head("/v2/:owner/:name/blobs/:digest", createBlobHeadHandler(images));
      // …and a HEAD of the version check answers like its GET.
      v2.head("/v2/", base);
      v2.get("/v2/", base);
      v2.get("/v2/:owner/:name/blobs/:digest", createBlobGetHandler(images));
      v2.delete("/v2/:owner/:name/blobs/:digest", unsupported);
      v2.post("/v2/:owner/:name/blobs/uploads/", createUploadStartHandler(images));
      v2.patch("/v2/:owner/:name/blobs/uploads/:id", createUploadChunkHandler(images));
      v2.put("/v2/:owner/:name/blobs/uploads/:id", createUploadFinishHandler(images));
      v2.get("/v2/:owner/:name/blobs/uploads/:id", createUploadStatusHandler(images));
      v2.delete("/v2/:owner/:name/blobs/uploads/:id", createUploadCancelHandler(images));
      v2.put(
        "/v2/:owner/:name/manifests/:reference",
        createManifestPutHandler(images, opts.maxManifestBytes),
      );
      // HEAD before GET: an explicit HEAD route keeps its Content-Length (the automatic one would answer 0).
      const manifestGet = createManifestGetHandler(images);
      v2.head("/v2/:owner/:name/manifests/:reference", manifestGet);
      v2.get("/v2/:owner/:name/manifests/:reference", manifestGet);
      v2.delete("/v2/:owner/:name/manifests/:reference", unsupported);
      v2.get("/v2/:owner/:name/tags/list", createTagsListHandler(images));
      // Everything else under /v2/ answers in the spec's error format (the root 404 would be plain Fastify JSON).
      v2.all("/v2/*", async (request) => {
        throw ociError(
          Code.NotFound,
          "NAME_UNKNOWN",
          `no registry endpoint at ${request.method} ${request.url}`,
        );
      });
    },
  };
}
