// The merge worker's entry (merge.ts starts it and keeps it for the next merge): merges one generation's plugin
// output at a time and posts the files back.
// It imports only the merge and the error type, so it starts in a fraction of the time a protobuf runtime takes.
import { parentPort } from "node:worker_threads";
import { isRegistryError } from "../core/errors.js";
import type { MergeReply, MergeRequest } from "./merge.js";
import { createOutputTree, wantedPoints } from "./output.js";

parentPort?.on("message", (request: MergeRequest) => {
  const port = parentPort;
  if (!port) return;
  const post = (reply: MergeReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
  try {
    const outputs = request.outputs.map((o) => ({
      plugin: o.plugin,
      files: o.chunks.map((c) => ({
        name: c.name,
        insertionPoint: c.insertionPoint,
        content: new Uint8Array(request.buffers[c.buffer] as ArrayBuffer, c.offset, c.length),
      })),
    }));
    const tree = createOutputTree(request.limits, { wanted: wantedPoints(outputs) });
    for (const output of outputs) {
      post({ kind: "plugin", plugin: output.plugin });
      tree.add(output.plugin, output.files);
    }
    const files = tree.files();
    // The files are built from this merge's own buffers: every one can move to the parent, none needs copying.
    const transfer = [...new Set(files.map((f) => f.content.buffer as ArrayBuffer))];
    post({ kind: "done", files }, transfer);
  } catch (err) {
    if (!isRegistryError(err)) throw err;
    post({ kind: "error", code: err.code, message: err.message, plugin: err.fields.plugin });
  }
});
