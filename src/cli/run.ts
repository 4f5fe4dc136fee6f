// Runs the CLI with this process's arguments (main.ts only defines it, so tests can import it).
import { main } from "./main.js";

// `protodepot … | head` closes our stdout early: that is the reader being done, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

await main(process.argv);
