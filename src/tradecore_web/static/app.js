// tradecore's pages: a little plain JavaScript, no framework, no inline script (the content
// security policy forbids it). Each feature looks for its elements and does nothing without them.
"use strict";

/** The CSRF token the server set in its cookie, for requests made from scripts. */
function csrfToken() {
  const found = document.cookie.split("; ").find((part) => part.startsWith("tradecore_csrf="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}
window.tradecore = { csrfToken };
