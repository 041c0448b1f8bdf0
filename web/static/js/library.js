// The shared library: every song someone on this server fetched (and the
// uploads their uploaders shared), to put on one's own list, with the stems
// already made when there are some. Nothing is copied: adding links.

import { getJson, postJson } from "./api.js";
import { el, showMessage } from "./dom.js";
import { formatDuration } from "./format.js";

export class SharedLibrary {
  /** `onAdded()` is called after a song or its stems joined the user's list. */
  constructor({ list, message, filter, onAdded = () => {} }) {
    this.list = list;
    this.message = message;
    this.filter = filter;
    this.onAdded = onAdded;
    this.entries = [];
    filter.addEventListener("input", () => this.render());
  }

  async refresh() {
    try {
      this.entries = (await getJson("/api/library")).library ?? [];
      this.render();
    } catch (error) {
      const text = `Cannot load the shared library: ${error.message}`;
      showMessage(this.message, text, "error");
    }
  }

  render() {
    const words = this.filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = this.entries.filter((entry) => {
      const text = `${entry.title ?? ""} ${entry.author ?? ""}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
    if (this.entries.length === 0) {
      const empty =
        "No song in the shared library yet. Songs fetched from YouTube appear " +
        "here for everyone; uploads stay private to whoever uploaded them.";
      showMessage(this.message, empty);
    } else if (shown.length === 0) {
      showMessage(this.message, "No song in the library matches.");
    } else {
      showMessage(this.message, "");
    }
    this.list.replaceChildren(...shown.map((entry) => this.renderRow(entry)));
  }

  renderRow(entry) {
    const status = el("p", { className: "row-status", attrs: { role: "status" } });
    const actions = [];
    if (entry.user_has_access) {
      status.textContent = "On your list";
    } else {
      actions.push(
        this.addButton("Add song", status, () =>
          postJson(`/api/library/${entry.global_download_id}/add-download`, {}),
        ),
      );
      if (entry.has_extraction) {
        actions.push(
          this.addButton("Add with stems", status, () =>
            postJson(`/api/library/${entry.global_download_id}/add-extraction`, {}),
          ),
        );
      }
    }
    const models = entry.extraction_models ?? [];
    const details = [
      formatDuration(entry.duration),
      entry.author,
      models.length > 0 ? `stems: ${models.join(", ")}` : "no stems yet",
    ].filter(Boolean);
    return el("li", { className: "item" }, [
      thumbnail(entry.thumbnail_url),
      el("div", { className: "item-main" }, [
        el("p", { className: "item-title", text: entry.title || entry.video_id }),
        el("p", { className: "item-details", text: details.join(" · ") }),
        status,
      ]),
      el("div", { className: "item-actions" }, actions),
    ]);
  }

  addButton(text, status, add) {
    const button = el("button", { text, attrs: { type: "button" } });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await add();
        this.onAdded();
      } catch (error) {
        status.textContent = `Cannot add it: ${error.message}`;
        status.dataset.kind = "error";
        button.disabled = false;
      }
    });
    return button;
  }
}

/** The song's picture when it has one on an HTTPS address, else a blank. */
function thumbnail(url) {
  if (typeof url !== "string" || !url.startsWith("https://")) {
    return el("div", { className: "thumbnail" });
  }
  return el("img", {
    className: "thumbnail",
    attrs: { src: url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" },
  });
}
