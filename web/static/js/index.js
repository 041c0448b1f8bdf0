// Library view: YouTube search, upload, the songs list, the extractions
// list and the shared library, kept up to date by the server's Socket.IO
// progress events.

import { io } from "/static/vendor/socket.io-client/socket.io.esm.min.js";
import { loginUrl } from "./api.js";
import { el, readPageData, showMessage } from "./dom.js";
import { DownloadsList } from "./downloads.js";
import { ExtractionsList } from "./extractions.js";
import { SharedLibrary } from "./library.js";
import { setupUpload } from "./upload.js";
import { setupYouTube } from "./youtube.js";

const REFRESH_DELAY_MS = 300;

const pageData = readPageData();
const liveNotice = document.getElementById("live-notice");

const ANALYSES_KEY = "stemtube.analyses";
const analyses = document.getElementById("analyses");

const extractions = new ExtractionsList({
  list: document.getElementById("extractions-list"),
  message: document.getElementById("extractions-message"),
  onRemoved: () => scheduleRefresh(),
});
const downloads = new DownloadsList({
  list: document.getElementById("downloads-list"),
  message: document.getElementById("downloads-message"),
  models: pageData.models ?? {},
  defaultModel: pageData.default_model,
  analyses: chosenAnalyses,
  onExtractionStarted: () => scheduleRefresh(),
  onRemoved: () => scheduleRefresh(),
});
const sharedLibrary = new SharedLibrary({
  list: document.getElementById("library-list"),
  message: document.getElementById("library-message"),
  filter: document.getElementById("library-filter"),
  onAdded: () => scheduleRefresh(),
});

/** The analyses ticked, as the `generate_*` flags of POST /api/extractions. */
function chosenAnalyses() {
  const flags = {};
  for (const box of analyses.querySelectorAll("input[type=checkbox]")) {
    flags[box.name] = box.checked;
  }
  return flags;
}

// The choice of analyses is remembered in this browser.
try {
  const saved = JSON.parse(localStorage.getItem(ANALYSES_KEY) ?? "{}") ?? {};
  for (const box of analyses.querySelectorAll("input[type=checkbox]")) {
    if (typeof saved[box.name] === "boolean") {
      box.checked = saved[box.name];
    }
  }
} catch {
  // Storage off or damaged: every analysis stays ticked.
}
analyses.addEventListener("change", () => {
  try {
    localStorage.setItem(ANALYSES_KEY, JSON.stringify(chosenAnalyses()));
  } catch {
    // Storage full or off: the choice holds until the page is left.
  }
});

let refreshTimer = null;

/** Fetches both lists again, once for a burst of calls. */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshAll, REFRESH_DELAY_MS);
}

function refreshAll() {
  clearTimeout(refreshTimer);
  return Promise.all([
    downloads.refresh(),
    extractions.refresh(),
    sharedLibrary.refresh(),
  ]);
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
