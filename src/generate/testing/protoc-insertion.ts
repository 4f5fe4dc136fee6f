// protoc's insertion-point rule as the merge applied it before it was planned (on decoded text, one insertion at a
// time): the oracle the planned merge is tested against, and the "before" of bench:generate:merge.
/**
 * protoc's rule (command_line_interface.cc, MemoryOutputStream): find the first `@@protoc_insertion_point(NAME)`;
 * when it is written inline as `/* @@protoc_insertion_point(NAME) *\/`, insert right before the comment as is;
 * otherwise insert before the start of its line, with that line's leading spaces and tabs prefixed to every
 * inserted line. The inserted text gets a final newline when it lacks one.
 */
export function applyInsertion(target: string, point: string, content: string): string | undefined {
  const magic = `@@protoc_insertion_point(${point})`;
  let pos = target.indexOf(magic);
  if (pos < 0) return undefined;
  let data = content;
  if (data !== "" && !data.endsWith("\n")) data += "\n";
  if (pos > 3 && target.slice(pos - 3, pos - 1) === "/*") {
    pos -= 3;
  } else {
    pos = target.lastIndexOf("\n", pos) + 1;
  }
  const indent = /^[ \t]*/.exec(target.slice(pos))?.[0] ?? "";
  if (indent !== "" && data !== "") {
    data = data
      .slice(0, -1)
      .split("\n")
      .map((line) => indent + line)
      .join("\n")
      .concat("\n");
  }
  return target.slice(0, pos) + data + target.slice(pos);
}
