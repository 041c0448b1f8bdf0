// Extractions list component: every stem extraction of the user, with a
// progress bar while it runs and the error message when it failed.

import { deleteJson, getJson, mixerUrl } from "./api.js";
import { el, showMessage } from "./dom.js";

const RUNNING = new Set(["queued", "extracting"]);
const STATUS_LABELS = {
  queued: "Waiting to start",
  extracting: "Extracting",
  completed: "Completed",
  failed: "Failed",
};

export class ExtractionsList {
  /** `onRemoved()` is called after an extraction left the user's list. */
  constructor({ list, message, onRemoved = () => {} }) {
    this.list = list;
    this.message = message;
    this.onRemoved = onRemoved;
    this.rows = new Map();
  }

  /** Fetches the list from the server and shows it. */
  async refresh() {
    try {
      const data = await getJson("/api/extractions");
      this.render(data.extractions ?? []);
    } catch (error) {
      const text = `Cannot load the extractions: ${error.message}`;
      showMessage(this.message, text, "error");
    }
  }

  render(extractions) {
    this.rows.clear();
    if (extractions.length === 0) {
      showMessage(this.message, "No extractions yet.");
      this.list.replaceChildren();
      return;
    }

    showMessage(this.message, "");
    this.list.replaceChildren(...extractions.map((e) => this.renderRow(e)));
  }

  renderRow(extraction) {
    const status = el("p", { className: "row-status", attrs: { role: "status" } });
    const progress = el("progress", {
      className: "wide",
      attrs: { max: 100, "aria-label": "Extraction progress" },
    });
    const error = el("p", { className: "message", attrs: { role: "alert" } });
    const mixerLink = el("a", {
      className: "button-link",
      text: "Open mixer",
      attrs: { href: mixerUrl(extraction.download_id) },
    });
    const row = { extraction, status, progress, error, mixerLink };
    this.rows.set(String(extraction.id), row);
    this.update(row);

    const title = extraction.title || extraction.video_id;
    const details = [extraction.model, formatDate(extraction.extraction_date)]
      .filter(Boolean)
      .join(" · ");
    return el("li", { className: "item" }, [
      el("div", { className: "item-main" }, [
        el("p", { className: "item-title", text: title }),
        el("p", { className: "item-details", text: details }),
        status,
        progress,
        error,
      ]),
      el("div", { className: "item-actions" }, [mixerLink, this.removeButton(row)]),
    ]);
  }

  // TODO: a failed extraction's row should offer Try again, as its song's does.
  removeButton(row) {
    const button = el("button", {
      className: "secondary",
      text: "Remove",
      attrs: { type: "button", title: "Take these stems off your list" },
    });
    button.addEventListener("click", async () => {
      const { extraction } = row;
      const title = extraction.title || extraction.video_id;
      const model = extraction.model ? ` (${extraction.model})` : "";
      const question = `Remove the stems of “${title}”${model} from your list?`;
      if (!window.confirm(question)) {
        return;
      }
      button.disabled = true;
      try {
        await deleteJson(`/api/extractions/${encodeURIComponent(extraction.id)}`);
        this.onRemoved();
      } catch (error) {
        showMessage(row.error, `Cannot remove them: ${error.message}`, "error");
        button.disabled = false;
      }
    });
    return button;
  }

  /** Shows the row's current status, progress and error. */
  update(row) {
    const { extraction } = row;
    const running = RUNNING.has(extraction.status);
    const percent = Math.round(extraction.progress ?? 0);

    let text = STATUS_LABELS[extraction.status] ?? extraction.status ?? "";
    if (extraction.status === "extracting") {
      text += `, ${percent} %`;
    }
    if (running && extraction.message) {
      text += ` · ${extraction.message}`;
    }
    row.status.textContent = text;

    row.progress.hidden = !running;
    if (extraction.status === "queued") {
      row.progress.removeAttribute("value");
    } else {
      row.progress.value = percent;
    }

    const failed = extraction.status === "failed";
    const errorText = extraction.message || "The extraction failed.";
    const code = extraction.error_code ? ` (${extraction.error_code})` : "";
    showMessage(row.error, failed ? errorText + code : "", "error");

    row.mixerLink.hidden =
      extraction.status !== "completed" || extraction.download_id == null;
  }

  /**
   * Applies a Socket.IO extraction event. Returns false when the extraction
   * is not listed yet, so the caller can fetch the list again.
   */
  applyProgress(event) {
    const row = this.rows.get(String(event.extraction_id));
    if (!row) {
      return false;
    }

    const { extraction } = row;
    extraction.status = event.status ?? extraction.status;
    extraction.progress = event.progress ?? extraction.progress;
    if (event.status === "failed") {
      extraction.message = event.error ?? event.message ?? extraction.message;
      extraction.error_code = event.code ?? extraction.error_code;
    } else if (event.message !== undefined) {
      extraction.message = event.message;
    }
    this.update(row);
    return true;
  }
}

function formatDate(value) {
  if (!value) {
    return "";
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}
