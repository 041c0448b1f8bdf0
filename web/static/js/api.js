// Fetch helpers for the JSON API: same-origin requests with the session
// cookie, and one error type carrying the server's message and code.

/** An API call that failed: the HTTP status, the server's message and code. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = null, body = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Returns the login page's address that comes back to the current page. */
export function loginUrl() {
  const here = window.location.pathname + window.location.search;
  return `/login?next=${encodeURIComponent(here)}`;
}

/** Returns the mixer page's address for a download. */
export function mixerUrl(downloadId) {
  return `/mixer?download_id=${encodeURIComponent(downloadId)}`;
}

/**
 * Sends a request and returns the parsed JSON body of a 2xx answer.
 *
 * Throws ApiError otherwise, with the body's `error` text when it has one.
 * A 401 means the session ended: unless `redirectOnUnauthorized` is false
 * (the login form), the browser goes to the login page.
 */
export async function requestJson(url, options = {}) {
  const { method = "GET", body, redirectOnUnauthorized = true } = options;
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError("Cannot reach the server. Check your connection.");
  }

  const data = await readJsonBody(response);
  if (response.ok) {
    return data ?? {};
  }

  if (response.status === 401 && redirectOnUnauthorized) {
    window.location.assign(loginUrl());
  }
  throw new ApiError(errorText(response, data), {
    status: response.status,
    code: data?.code ?? null,
    body: data,
  });
}

/** GETs `url` and returns its JSON body. */
export function getJson(url) {
  return requestJson(url);
}

/** POSTs `body` as JSON to `url` and returns the JSON answer. */
export function postJson(url, body, options = {}) {
  return requestJson(url, { ...options, method: "POST", body });
}

/** DELETEs `url` and returns the JSON answer. */
export function deleteJson(url) {
  return requestJson(url, { method: "DELETE" });
}

/**
 * Returns the message of a JSON error body (the server writes those for
 * users), or one made from the status when a proxy or a crash left none.
 */
export function errorText(response, data) {
  if (data && typeof data.error === "string" && data.error) {
    return data.error;
  }
  switch (response.status) {
    case 403:
      return "You are not allowed to do that.";
    case 404:
      return "It is not there any more; reload the page.";
    case 413:
      return "The file is too large.";
    case 429:
      return "Too many requests, wait a minute.";
    case 502:
    case 503:
    case 504:
      return "The server is not answering right now; try again in a moment.";
    default:
      if (response.status >= 500) {
        return "Something went wrong on the server; its log has the details.";
      }
      return `The server answered ${response.status} ${response.statusText}`.trim();
  }
}

async function readJsonBody(response) {
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.includes("json")) {
    return null;
  }
  try {
    return await response.json();
  } catch {
    return null;
  }
}
