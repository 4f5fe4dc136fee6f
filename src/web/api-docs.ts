// API docs from a commit's stored image (a FileDescriptorSet with source info): packages, messages with their
// fields, enums, services and methods, with comments; every type that the page documents is a link to it.
import {
  createFileRegistry,
  type DescEnum,
  type DescEnumValue,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  ScalarType,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { type Html, html, toHtml } from "./html.js";

export interface ApiDocs {
  packages: {
    name: string;
    files: string[];
    messages: DescMessage[];
    enums: DescEnum[];
    services: DescService[];
  }[];
  /** Fully-qualified names documented here: these become links. */
  documented: Set<string>;
  /** Files of dependency modules the caller may read → the URL of that dependency commit's docs. */
  external: ReadonlyMap<string, string>;
}
function collectMessages(messages: readonly DescMessage[], into: DescMessage[], enums: DescEnum[]) {
  for (const m of messages) {
    if (m.proto.options?.mapEntry) continue;
    into.push(m);
    enums.push(...m.nestedEnums);
    collectMessages(m.nestedMessages, into, enums);
  }
}

/** The docs of the module's own files in `image` (`paths`: the commit's .proto files; imports are left out). */
export function readApiDocs(
  image: Uint8Array,
  paths: readonly string[],
  external: ReadonlyMap<string, string> = new Map(),
): ApiDocs {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, image));
  const byPackage = new Map<string, ApiDocs["packages"][number]>();
  const documented = new Set<string>();
  const files = paths
    .map((p) => registry.getFile(p))
    .filter((f): f is DescFile => f !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const file of files) {
    const name = file.proto.package;
    let pkg = byPackage.get(name);
    if (!pkg) {
      pkg = { name, files: [], messages: [], enums: [], services: [] };
      byPackage.set(name, pkg);
    }
    pkg.files.push(file.proto.name);
    pkg.enums.push(...file.enums);
    collectMessages(file.messages, pkg.messages, pkg.enums);
    pkg.services.push(...file.services);
  }
  for (const pkg of byPackage.values()) {
    for (const d of [...pkg.messages, ...pkg.enums, ...pkg.services]) documented.add(d.typeName);
  }
  return {
    packages: [...byPackage.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    documented,
    external,
  };
}

type Commented = DescMessage | DescField | DescEnum | DescEnumValue | DescService | DescMethod;

/** The element's path in its file's SourceCodeInfo (descriptor.proto field numbers and indexes). */
function pathOf(d: Commented): number[] {
  const file = d.kind === "field" || d.kind === "enum_value" || d.kind === "rpc" ? undefined : d.file.proto;
  switch (d.kind) {
    case "message":
      return d.parent
        ? [...pathOf(d.parent), 3, d.parent.proto.nestedType.indexOf(d.proto)]
        : [4, file?.messageType.indexOf(d.proto) ?? -1];
    case "enum":
      return d.parent
        ? [...pathOf(d.parent), 4, d.parent.proto.enumType.indexOf(d.proto)]
        : [5, file?.enumType.indexOf(d.proto) ?? -1];
    case "service":
      return [6, file?.service.indexOf(d.proto) ?? -1];
    case "field":
      return [...pathOf(d.parent), 2, d.parent.proto.field.indexOf(d.proto)];
    case "enum_value":
      return [...pathOf(d.parent), 2, d.parent.proto.value.indexOf(d.proto)];
    case "rpc":
      return [...pathOf(d.parent), 2, d.parent.proto.method.indexOf(d.proto)];
  }
}

const commentsByFile = new WeakMap<DescFile, Map<string, { leading?: string; trailing?: string }>>();

function commentsOf(file: DescFile) {
  let found = commentsByFile.get(file);
  if (!found) {
    found = new Map();
    for (const l of file.proto.sourceCodeInfo?.location ?? []) {
      found.set(l.path.join("."), {
        ...(l.leadingComments ? { leading: l.leadingComments } : {}),
        ...(l.trailingComments ? { trailing: l.trailingComments } : {}),
      });
    }
    commentsByFile.set(file, found);
  }
  return found;
}

function fileOf(d: Commented): DescFile {
  return d.kind === "field" || d.kind === "enum_value" || d.kind === "rpc" ? fileOf(d.parent) : d.file;
}

function comment(desc: Commented): Html {
  const c = commentsOf(fileOf(desc)).get(pathOf(desc).join(".")) ?? {};
  const text = [c.leading, c.trailing]
    .filter((t): t is string => t !== undefined && t.trim() !== "")
    .map((t) => t.trim())
    .join("\n\n");
  return text ? html`<div class="comment">${text}</div>` : html``;
}

function typeRef(docs: ApiDocs, type: DescMessage | DescEnum): Html {
  const { typeName } = type;
  if (docs.documented.has(typeName)) return html`<a href="#${typeName}">${typeName}</a>`;
  const elsewhere = docs.external.get(type.file.proto.name);
  return elsewhere ? html`<a href="${elsewhere}#${typeName}">${typeName}</a>` : html`${typeName}`;
}

const scalarName = (s: ScalarType) => ScalarType[s].toLowerCase();

function fieldType(docs: ApiDocs, f: DescField): Html {
  switch (f.fieldKind) {
    case "scalar":
      return html`${scalarName(f.scalar)}`;
    case "enum":
      return typeRef(docs, f.enum);
    case "message":
      return typeRef(docs, f.message);
    case "list": {
      const item =
        f.listKind === "scalar"
          ? html`${scalarName(f.scalar)}`
          : f.listKind === "enum"
            ? typeRef(docs, f.enum)
            : typeRef(docs, f.message);
      return html`repeated ${item}`;
    }
    case "map": {
      const value =
        f.mapKind === "scalar"
          ? html`${scalarName(f.scalar)}`
          : f.mapKind === "enum"
            ? typeRef(docs, f.enum)
            : typeRef(docs, f.message);
      return html`map&lt;${scalarName(f.mapKey)}, ${value}&gt;`;
    }
  }
}

function renderMessage(docs: ApiDocs, m: DescMessage): Html {
  return html`<section class="decl" id="${m.typeName}">
<h4><span class="kind">message</span> ${m.typeName}</h4>
${comment(m)}
${
  m.fields.length === 0
    ? html`<p class="muted">No fields.</p>`
    : html`<table class="fields"><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Number</th><th scope="col">Description</th></tr></thead><tbody>
${m.fields.map(
  (f) =>
    html`<tr><td><code>${f.name}</code>${f.oneof ? html` <span class="muted">(oneof ${f.oneof.name})</span>` : ""}</td><td><code>${fieldType(docs, f)}</code></td><td>${f.number}</td><td>${comment(f)}</td></tr>`,
)}
</tbody></table>`
}
</section>`;
}

function renderEnum(e: DescEnum): Html {
  return html`<section class="decl" id="${e.typeName}">
<h4><span class="kind">enum</span> ${e.typeName}</h4>
${comment(e)}
<table class="fields"><thead><tr><th scope="col">Value</th><th scope="col">Number</th><th scope="col">Description</th></tr></thead><tbody>
${e.values.map((v) => html`<tr><td><code>${v.name}</code></td><td>${v.number}</td><td>${comment(v)}</td></tr>`)}
</tbody></table>
</section>`;
}

function renderService(docs: ApiDocs, s: DescService): Html {
  return html`<section class="decl" id="${s.typeName}">
<h4><span class="kind">service</span> ${s.typeName}</h4>
${comment(s)}
<ul class="methods">
${s.methods.map(
  (m) =>
    html`<li id="${s.typeName}.${m.name}"><code>rpc ${m.name}(${m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming" ? "stream " : ""}${typeRef(docs, m.input)}) returns (${m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming" ? "stream " : ""}${typeRef(docs, m.output)})</code>${comment(m)}</li>`,
)}
</ul>
</section>`;
}

export function renderApiDocs(docs: ApiDocs): Html {
  if (docs.packages.length === 0) return html`<p class="muted">This commit has no .proto files.</p>`;
  const index = html`<nav aria-label="Declarations" class="toc"><ul>${docs.packages.map(
    (p) =>
      html`<li><a href="#pkg-${p.name}">${p.name || "(no package)"}</a><ul>${[
        ...p.services,
        ...p.messages,
        ...p.enums,
      ].map(
        (d) =>
          html`<li><a href="#${d.typeName}">${d.typeName.slice(p.name ? p.name.length + 1 : 0)}</a></li>`,
      )}</ul></li>`,
  )}</ul></nav>`;
  const body = docs.packages.map(
    (p) => html`<section class="package" id="pkg-${p.name}">
<h3><span class="kind">package</span> ${p.name || "(no package)"}</h3>
<p class="muted">Files: ${p.files.map((f, i) => toHtml([i ? ", " : "", html`<code>${f}</code>`]))}</p>
${p.services.map((s) => renderService(docs, s))}
${p.messages.map((m) => renderMessage(docs, m))}
${p.enums.map((e) => renderEnum(e))}
</section>`,
  );
  return html`<div class="docs">${index}<div class="docs-body">${body}</div></div>`;
}
