// Errors of the CMake registry: plain text with the HTTP status of the domain code; CMake prints the status and
// curl's message, people with curl read the text.
export { renderError } from "../sources/errors.js";
