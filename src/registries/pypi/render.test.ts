// PEP 792's project status in both wire forms of a project page: present while deprecated, escaped, absent after.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProjectListing } from "./catalog.js";
import { renderProject } from "./render.js";

const json = { kind: "json", contentType: "application/vnd.pypi.simple.v1+json" } as const;
const html = { kind: "html", contentType: "text/html; charset=utf-8" } as const;
const listing: ProjectListing = { project: "protodepot-python-acme-pay", files: [] };

describe("renderProject: project status", () => {
  it("says deprecated, with the reason, in JSON and in HTML", () => {
    const deprecated = { ...listing, deprecated: 'module acme/pay is deprecated: use "acme/billing" <now>' };
    const body = JSON.parse(renderProject(deprecated, json)) as Record<string, unknown>;
    assert.deepEqual(body.meta, { "api-version": "1.4" });
    assert.deepEqual(body["project-status"], {
      status: "deprecated",
      reason: 'module acme/pay is deprecated: use "acme/billing" <now>',
    });
    const page = renderProject(deprecated, html);
    assert.match(page, /<meta name="pypi:project-status" content="deprecated">/);
    assert.match(
      page,
      /<meta name="pypi:project-status-reason" content="module acme\/pay is deprecated: use &quot;acme\/billing&quot; &lt;now&gt;">/,
    );
  });

  it("says nothing of a project that is not deprecated", () => {
    assert.equal(
      (JSON.parse(renderProject(listing, json)) as Record<string, unknown>)["project-status"],
      undefined,
    );
    assert.doesNotMatch(renderProject(listing, html), /project-status/);
  });
});
