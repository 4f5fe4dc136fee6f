// The two wire forms of the simple index (PEP 503 HTML, PEP 691 JSON) for the root and for one project.
import type { ProjectListing } from "./catalog.js";
import type { IndexFormat } from "./negotiate.js";

/** PEP 700's `versions` and `size` (1.1); PEP 792's `project-status` (1.4). */
const apiVersion = "1.4";

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Relative to `/pypi/simple/{project}/`, so links keep the host (and the credentials) the client used. */
const fileUrl = (project: string, fileName: string) => `../../files/${project}/${fileName}`;

export function renderRoot(projects: readonly string[], format: IndexFormat): string {
  if (format.kind === "json") {
    return JSON.stringify({
      meta: { "api-version": apiVersion },
      projects: projects.map((name) => ({ name })),
    });
  }
  const links = projects.map((p) => `    <a href="${escapeHtml(p)}/">${escapeHtml(p)}</a>\n`).join("");
  return (
    "<!DOCTYPE html>\n<html>\n  <head>\n" +
    `    <meta name="pypi:repository-version" content="${apiVersion}">\n` +
    "    <title>Simple index</title>\n  </head>\n  <body>\n" +
    links +
    "  </body>\n</html>\n"
  );
}

/**
 * Every file with `#sha256=` and its core metadata's hash under PEP 714's name only (`core-metadata`,
 * `data-core-metadata`): Debian's pip 23.0.1 fails on PEP 658's `data-dist-info-metadata`.
 */
export function renderProject(listing: ProjectListing, format: IndexFormat): string {
  const { project, files } = listing;
  if (format.kind === "json") {
    return JSON.stringify({
      meta: { "api-version": apiVersion },
      name: project,
      ...(listing.deprecated !== undefined
        ? { "project-status": { status: "deprecated", reason: listing.deprecated } }
        : {}),
      versions: [...new Set(files.map((f) => f.version))],
      files: files.map((f) => ({
        filename: f.fileName,
        url: fileUrl(project, f.fileName),
        hashes: { sha256: f.sha256 },
        ...(f.requiresPython ? { "requires-python": f.requiresPython } : {}),
        "core-metadata": { sha256: f.metadataSha256 },
        size: f.size,
      })),
    });
  }
  const links = files
    .map((f) => {
      const requires = f.requiresPython ? ` data-requires-python="${escapeHtml(f.requiresPython)}"` : "";
      return (
        `    <a href="${escapeHtml(fileUrl(project, f.fileName))}#sha256=${f.sha256}"${requires}` +
        ` data-core-metadata="sha256=${f.metadataSha256}">${escapeHtml(f.fileName)}</a><br>\n`
      );
    })
    .join("");
  return (
    "<!DOCTYPE html>\n<html>\n  <head>\n" +
    `    <meta name="pypi:repository-version" content="${apiVersion}">\n` +
    (listing.deprecated !== undefined
      ? '    <meta name="pypi:project-status" content="deprecated">\n' +
        `    <meta name="pypi:project-status-reason" content="${escapeHtml(listing.deprecated)}">\n`
      : "") +
    `    <title>Links for ${escapeHtml(project)}</title>\n  </head>\n  <body>\n` +
    `    <h1>Links for ${escapeHtml(project)}</h1>\n` +
    links +
    "  </body>\n</html>\n"
  );
}
