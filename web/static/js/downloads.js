// Songs list component: one row per download, with a model choice, an
// "Extract stems" button, a link to the mixer once stems exist, and a
// button that takes the song off the user's list.

import { deleteJson, getJson, mixerUrl, postJson } from "./api.js";
import { el, showMessage } from "./dom.js";
import { formatDuration, formatSize } from "./format.js";

const RUNNING = new Set(["queued", "extracting"]);

/**
 * The songs list. `onExtractionStarted()` is called after the server
 * accepted an extraction, and `onRemoved()` after a song left the list, so
 * the page can refresh the other lists; `analyses()` gives the
 * `generate_*` flags an extraction is started with.
 */
export class DownloadsList {
  constructor({
    list,
    message,
    models,
    defaultModel,
    analyses = () => ({}),
    onExtractionStarted,
    onRemoved = () => {},
  }) {
    this.list = list;
    this.message = message;
    this.models = models;
    this.defaultModel = defaultModel;
    this.analyses = analyses;
    this.onExtractionStarted = onExtractionStarted;
    this.onRemoved = onRemoved;
    this.downloads = [];
    this.chosenModels = new Map();
    this.rows = new Map();
  }

  /** Fetches the list from the server and shows it. */
  async refresh() {
    try {
      const data = await getJson("/api/downloads");
      this.downloads = data.downloads ?? [];
      this.render();
    } catch (error) {
      showMessage(this.message, `Cannot load the songs: ${error.message}`, "error");
    }
  }

  render() {
    this.rows.clear();
    if (this.downloads.length === 0) {
      const hint = "No songs yet. Find one on YouTube, upload one, or add one below.";
      showMessage(this.message, hint);
      this.list.replaceChildren();
      return;
    }

    showMessage(this.message, "");
    this.list.replaceChildren(...this.downloads.map((d) => this.renderRow(d)));
  }

  renderRow(download) {
    if (download.status && download.status !== "completed") {
      return this.renderFetchRow(download);
    }
    const select = el("select", { attrs: { "aria-label": "Separation model" } });
    // The model being extracted, else the one last asked for here, else the
    // server's default: a reload shows the work under way.
    const running = extractionsOf(download).find((e) => RUNNING.has(e.status));
    const chosen =
      this.chosenModels.get(download.id) ??
      running?.model ??
      rememberedModel(this.models) ??
      this.defaultModel;
    for (const [model, stems] of Object.entries(this.models)) {
      const label = `${model} (${stems.length} stems)`;
      const option = el("option", {
        text: label,
        attrs: { value: model, title: stems.join(", ") },
      });
      option.selected = model === chosen;
      select.append(option);
    }

    const button = el("button", { text: "Extract stems", attrs: { type: "button" } });
    const status = el("p", { className: "row-status", attrs: { role: "status" } });
    const mixerLink = el("a", {
      className: "button-link",
      text: "Open mixer",
      attrs: { href: mixerUrl(download.id) },
    });
    const row = { download, select, button, status, mixerLink };

    select.addEventListener("change", () => {
      this.chosenModels.set(download.id, select.value);
      rememberModel(select.value);
      this.updateControls(row);
    });
    button.addEventListener("click", () => this.extract(row));
    this.updateControls(row);
    this.rows.set(download.id, row);

    const details = [
      formatDuration(download.duration),
      formatSize(download.file_size),
      download.author,
    ].filter(Boolean);
    return el("li", { className: "item" }, [
      el("div", { className: "item-main" }, [
        el("p", { className: "item-title", text: download.title || download.video_id }),
        el("p", { className: "item-details", text: details.join(" · ") }),
        status,
      ]),
      el("div", { className: "item-actions" }, [
        select,
        button,
        mixerLink,
        this.removeButton(download, status),
      ]),
    ]);
  }

  /** A button that takes the song off the user's list, after asking. */
  removeButton(download, status) {
    const button = el("button", {
      className: "secondary",
      text: "Remove",
      attrs: { type: "button", title: "Take this song off your list" },
    });
    button.addEventListener("click", async () => {
      const title = download.title || download.video_id;
      const question =
        `Remove “${title}” from your songs? Its stems go off your list too; ` +
        "other users who have the song keep it.";
      if (!window.confirm(question)) {
        return;
      }
      button.disabled = true;
      const id = encodeURIComponent(download.video_id);
      try {
        // The bulk route counts, where the single one would be a 404 for a
        // song without stems on the list.
        const videoIds = { video_ids: [download.video_id] };
        await postJson("/api/user/extractions/bulk-remove-from-list", videoIds);
        await deleteJson(`/api/user/downloads/${id}/remove-from-list`);
        this.onRemoved();
      } catch (error) {
        status.textContent = `Cannot remove it: ${error.message}`;
        status.dataset.kind = "error";
        button.disabled = false;
      }
    });
    return button;
  }

  /** A song still being downloaded, or whose download failed. */
  renderFetchRow(download) {
    const status = el("p", { className: "row-status", attrs: { role: "status" } });
    const actions = [];
    if (download.status === "failed") {
      const retry = el("button", { text: "Try again", attrs: { type: "button" } });
      retry.addEventListener("click", async () => {
        retry.disabled = true;
        try {
          await postJson(`/api/downloads/${encodeURIComponent(download.id)}/retry`, {});
          download.status = "queued";
          download.message = "";
          showFetchStatus(status, download);
        } catch (error) {
          status.textContent = error.message;
          retry.disabled = false;
        }
      });
      actions.push(retry);
    }
    const row = { download, status, fetching: true };
    showFetchStatus(status, download);
    this.rows.set(download.id, row);
    actions.push(this.removeButton(download, status));
    return el("li", { className: "item" }, [
      el("div", { className: "item-main" }, [
        el("p", { className: "item-title", text: download.title || download.video_id }),
        status,
      ]),
      el("div", { className: "item-actions" }, actions),
    ]);
  }

  /** Applies a Socket.IO download event to the row of its song. */
  applyDownloadProgress(event) {
    for (const row of this.rows.values()) {
      if (row.download.video_id === event.video_id && row.fetching) {
        Object.assign(row.download, {
          status: event.status,
          progress: event.progress,
          message: event.error ?? event.message,
          speed: event.speed,
          eta: event.eta,
        });
        showFetchStatus(row.status, row.download);
        return true;
      }
    }
    return false;
  }

  /** Sets the button, link and status line from the row's extractions. */
  updateControls(row) {
    const extractions = extractionsOf(row.download);
    const forModel = extractions.filter((e) => e.model === row.select.value);
    const running = forModel.find((e) => RUNNING.has(e.status));
    const done = forModel.find((e) => e.status === "completed");

    const latest = running ?? done ?? forModel.at(-1);

    row.button.disabled = Boolean(running || done);
    if (running) {
      row.button.textContent = "Extracting…";
    } else if (done) {
      row.button.textContent = "Stems ready";
    } else if (latest?.status === "failed") {
      row.button.textContent = "Try again";
    } else {
      row.button.textContent = "Extract stems";
    }
    row.mixerLink.hidden = !extractions.some((e) => e.status === "completed");

    row.status.textContent = latest ? statusLine(latest) : "";
    row.status.dataset.kind = latest?.status === "failed" ? "error" : "info";
  }

  async extract(row) {
    const model = row.select.value;
    row.button.disabled = true;
    row.status.textContent = "Starting…";
    row.status.dataset.kind = "info";

    try {
      const answer = await postJson("/api/extractions", {
        video_id: row.download.video_id,
        model,
        ...this.analyses(),
      });
      const started = {
        id: answer.extraction_id,
        model,
        status: answer.status ?? "queued",
        progress: 0,
        message: answer.message ?? "",
      };
      row.download.extractions = [...extractionsOf(row.download), started];
      this.updateControls(row);
      this.onExtractionStarted();
    } catch (error) {
      row.status.textContent = error.message;
      row.status.dataset.kind = "error";
      row.button.disabled = false;
    }
  }

  /** Applies a Socket.IO extraction event to the row of its song. */
  applyProgress(event) {
    for (const row of this.rows.values()) {
      const extraction = extractionsOf(row.download).find(
        (e) => String(e.id) === String(event.extraction_id),
      );
      if (extraction && !row.fetching) {
        extraction.status = event.status ?? extraction.status;
        extraction.progress = event.progress ?? extraction.progress;
        extraction.message = event.error ?? event.message ?? extraction.message;
        this.updateControls(row);
        return true;
      }
    }
    return false;
  }
}

const MODEL_KEY = "stemtube.model";

/** The model last chosen in this browser, if the server still offers it. */
function rememberedModel(models) {
  try {
    const model = localStorage.getItem(MODEL_KEY);
    return model && model in models ? model : null;
  } catch {
    return null; // storage off: the server's default
  }
}

function rememberModel(model) {
  try {
    localStorage.setItem(MODEL_KEY, model);
  } catch {
    // Storage full or off: the choice holds for this page only.
  }
}

function showFetchStatus(status, download) {
  const parts = [];
  if (download.status === "failed") {
    parts.push(`Download failed${download.message ? `: ${download.message}` : ""}`);
  } else if (download.status === "queued") {
    parts.push("Waiting to download");
  } else {
    parts.push(`Downloading, ${Math.round(download.progress ?? 0)} %`);
    if (download.speed) {
      parts.push(download.speed);
    }
    if (download.eta) {
      parts.push(`${download.eta} left`);
    }
  }
  status.textContent = parts.join(" · ");
  status.dataset.kind = download.status === "failed" ? "error" : "info";
}

/** Returns a download's extractions, also when only the summary is given. */
function extractionsOf(download) {
  if (Array.isArray(download.extractions)) {
    return download.extractions;
  }
  if (download.extraction_id) {
    download.extractions = [
      {
        id: download.extraction_id,
        model: null,
        status: download.extraction_status,
        progress: download.extraction_status === "completed" ? 100 : 0,
        message: "",
      },
    ];
    return download.extractions;
  }
  download.extractions = [];
  return download.extractions;
}

function statusLine(extraction) {
  const model = extraction.model ? `${extraction.model}: ` : "";
  switch (extraction.status) {
    case "queued":
      return `${model}waiting to start`;
    case "extracting":
      return `${model}extracting, ${Math.round(extraction.progress ?? 0)} %`;
    case "completed":
      return `${model}stems ready`;
    case "failed":
      return `${model}failed${extraction.message ? `: ${extraction.message}` : ""}`;
    default:
      return `${model}${extraction.status ?? ""}`;
  }
}
