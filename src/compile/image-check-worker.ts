// The worker thread of image-check-thread.ts: runs checkImage on each image it is sent and answers by id.
import { parentPort } from "node:worker_threads";
import { isRegistryError } from "../core/errors.js";
import { checkImage } from "./image-checks.js";

export interface CheckRequest {
  id: number;
  image: Uint8Array;
  owners: [string, string][];
}

export type CheckAnswer =
  | { id: number; ok: true }
  | { id: number; ok: false; code?: string; message: string; details?: readonly string[] };

parentPort?.on("message", (req: CheckRequest) => {
  let answer: CheckAnswer;
  try {
    checkImage(req.image, new Map(req.owners));
    answer = { id: req.id, ok: true };
  } catch (err) {
    answer = isRegistryError(err)
      ? {
          id: req.id,
          ok: false,
          code: err.code,
          message: err.message,
          ...(err.fields.details ? { details: err.fields.details } : {}),
        }
      : { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(answer);
});
