// Debian's Chromium, driven by playwright-core. Without it the browser tests skip, except in CI, where they fail.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { repoRoot } from "./server.js";

export const chromiumPath = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. In CI a missing browser is a failure. */
export function browserMissing(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  const why = `${chromiumPath} is missing: apt-get install chromium (listed in .ci/apt/webui.txt)`;
  if (process.env.CI === "true") throw new Error(why);
  return why;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Where a failing browser test leaves its screenshot (ignored by git). */
export const failureDir = join(repoRoot, "test-results");

/** Runs one browser step; on failure saves a full-page screenshot named after the test, and rethrows. */
export async function withScreenshot<T>(page: Page, name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await mkdir(failureDir, { recursive: true });
    const file = join(failureDir, `${name.replace(/[^a-z0-9-]+/gi, "-")}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n(screenshot: ${file})`, {
      cause: err,
    });
  }
}
