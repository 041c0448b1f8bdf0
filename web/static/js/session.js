// What every signed-in page does: ask once for the disclaimer to be
// accepted, and, when an admin turned browser logging on, send the page's
// errors to the server's log (POST /api/logs/browser).

import { getJson, postJson } from "./api.js";

const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
// At most this many events per page: a loop that throws must not flood.
const MAX_EVENTS = 20;

async function askForDisclaimer() {
  const dialog = document.getElementById("disclaimer");
  if (!dialog) {
    return;
  }
  let status;
  try {
    status = await getJson("/api/user/disclaimer-status");
  } catch {
    return; // asked again on the next page
  }
  if (status.accepted) {
    return;
  }
  const accept = document.getElementById("disclaimer-accept");
  const message = document.getElementById("disclaimer-message");
  // Escape does not dismiss it: the pages are used only once it is accepted.
  dialog.addEventListener("cancel", (event) => event.preventDefault());
  accept.addEventListener("click", async () => {
    accept.disabled = true;
    try {
      await postJson("/api/user/accept-disclaimer", {});
      dialog.close();
    } catch (error) {
      message.textContent = `Cannot save your answer: ${error.message}`;
      message.hidden = false;
      accept.disabled = false;
    }
  });
  dialog.showModal();
}

function sendErrorsToTheServer() {
  const { browserLogging, browserLogLevel } = document.body.dataset;
  if (browserLogging !== "on") {
    return;
  }
  const wanted = Math.max(0, LEVELS.indexOf(browserLogLevel ?? "ERROR"));
  if (wanted > LEVELS.indexOf("ERROR")) {
    return; // only errors are caught here
  }
  let sent = 0;
  const send = (message, stack) => {
    if (sent >= MAX_EVENTS) {
      return;
    }
    sent += 1;
    const event = {
      level: "ERROR",
      message: String(message).slice(0, 2000),
      url: (window.location.pathname + window.location.search).slice(0, 500),
      stack: String(stack ?? "").slice(0, 8000),
    };
    postJson("/api/logs/browser", event).catch(() => {});
  };
  window.addEventListener("error", (event) =>
    send(event.message, event.error?.stack ?? `${event.filename}:${event.lineno}`),
  );
  window.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason?.message ?? event.reason;
    send(`Unhandled rejection: ${reason}`, event.reason?.stack);
  });
}

sendErrorsToTheServer();
askForDisclaimer();
