// Errors of the archive registry: plain text with the HTTP status of the domain code, for curl users.
export { renderError } from "../sources/errors.js";
