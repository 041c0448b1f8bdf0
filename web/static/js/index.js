// Library view: YouTube search, upload, the songs list and the extractions
// list, kept up to date by the server's Socket.IO progress events.

import { io } from "/static/vendor/socket.io-client/socket.io.esm.min.js";
import { loginUrl } from "./api.js";
import { el, readPageData, showMessage } from "./dom.js";
import { DownloadsList } from "./downloads.js";
import { ExtractionsList } from "./extractions.js";
import { setupUpload } from "./upload.js";
import { setupYouTube } from "./youtube.js";

const REFRESH_DELAY_MS = 300;

const pageData = readPageData();
const liveNotice = document.getElementById("live-notice");

const extractions = new ExtractionsList({
  list: document.getElementById("extractions-list"),
  message: document.getElementById("extractions-message"),
});
const downloads = new DownloadsList({
  list: document.getElementById("downloads-list"),
  message: document.getElementById("downloads-message"),
  models: pageData.models ?? {},
  defaultModel: pageData.default_model,
  onExtractionStarted: () => scheduleRefresh(),
});

let refreshTimer = null;

/** Fetches both lists again, once for a burst of calls. */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshAll, REFRESH_DELAY_MS);
}

function refreshAll() {
  clearTimeout(refreshTimer);
  return Promise.all([downloads.refresh(), extractions.refresh()]);
}

function connectLiveUpdates() {
  const socket = io();
  let lostConnection = false;

  socket.on("connect", () => {
    showMessage(liveNotice, "");
    if (lostConnection) {
      lostConnection = false;
      refreshAll();
    }
  });

  socket.on("disconnect", (reason) => {
    lostConnection = true;
    if (socket.active) {
      showMessage(liveNotice, "Live updates lost, reconnecting…", "warning");
    } else {
      showMessage(liveNotice, "Live updates stopped. Reload the page.", "warning");
    }
    console.info("Socket.IO disconnected:", reason);
  });

  socket.on("connect_error", (error) => {
    lostConnection = true;
    if (socket.active) {
      showMessage(liveNotice, "Live updates unavailable, retrying…", "warning");
      return;
    }
    // The server refused the connection: the session has most likely ended.
    showMessage(liveNotice, "Live updates refused. ", "warning");
    liveNotice.append(el("a", { text: "Log in again", attrs: { href: loginUrl() } }));
    console.info("Socket.IO refused:", error.message);
  });

  socket.on("extraction_progress", (event) => {
    const known = extractions.applyProgress(event);
    downloads.applyProgress(event);
    if (!known || event.status === "failed") {
      scheduleRefresh();
    }
  });

  socket.on("download_progress", (event) => {
    const known = downloads.applyDownloadProgress(event);
    if (!known || event.status === "completed" || event.status === "failed") {
      scheduleRefresh();
    }
  });

  socket.on("extraction_complete", (event) => {
    extractions.applyProgress({ ...event, progress: 100 });
    downloads.applyProgress({ ...event, progress: 100 });
    scheduleRefresh();
  });
}

setupUpload({
  zone: document.getElementById("drop-zone"),
  input: document.getElementById("file-input"),
  progress: document.getElementById("upload-progress"),
  message: document.getElementById("upload-message"),
  maxUploadMb: Number(pageData.max_upload_mb) || 0,
  onUploaded: () => scheduleRefresh(),
});
setupYouTube({
  form: document.getElementById("youtube-form"),
  input: document.getElementById("youtube-query"),
  button: document.getElementById("youtube-submit"),
  results: document.getElementById("youtube-results"),
  message: document.getElementById("youtube-message"),
  onDownloadStarted: () => scheduleRefresh(),
});
document.getElementById("refresh-button").addEventListener("click", refreshAll);

refreshAll();
connectLiveUpdates();
