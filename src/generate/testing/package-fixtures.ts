// The template, template version and commit the packagers' tests package: protodepot/{name} v2 over demo/payments
// at seq 7 (commit "ccc…"), so each test states only its plugins and dependencies.
import type { Commit, Template, TemplateVersion } from "../../core/types.js";

export function fixtureTemplate(name: string): Template {
  return {
    id: "t1",
    owner: "protodepot",
    name,
    visibility: "public",
    plugins: [],
    createdAt: "2024-01-01T00:00:00Z",
  };
}

export const fixtureTemplateVersion: TemplateVersion = {
  templateId: "t1",
  number: 2,
  plugins: [],
  createdAt: "",
};

export const fixtureCommit: Commit = {
  id: "c".repeat(32),
  moduleId: "m1",
  owner: "demo",
  module: "payments",
  seq: 7,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: "2024-01-01T00:00:00Z",
};
