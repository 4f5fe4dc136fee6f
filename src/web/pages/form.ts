// Pieces every management page shares: the outcome of the last form, and reading a posted form's fields.
import type { FormOutcome } from "../context.js";
import { type Html, html } from "../html.js";

/** The refusal or the confirmation of the form just sent, announced to screen readers. */
export function outcome(o: FormOutcome): Html {
  return html`${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ""}${
    o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ""
  }`;
}

/** A posted form, as parsed: an object of strings (or arrays of them, for repeated fields), or anything else. */
export type FormBody = unknown;

/** One text field of a posted form, trimmed; anything but a single string reads as empty. */
export function field(body: FormBody, name: string): string {
  const value =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value.trim() : "";
}

/** A field that may repeat (checkboxes): every string value, in order. */
export function fields(body: FormBody, name: string): string[] {
  const value =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** `<option>`s with the current value selected. */
export function options(values: readonly string[], current: string): Html[] {
  return values.map((v) => html`<option value="${v}"${v === current ? html` selected` : ""}>${v}</option>`);
}
