// YouTube panel: search, or paste a link, and download a song's audio into
// the library. Progress then shows in the songs list.

import { getJson, postJson } from "./api.js";
import { el, showMessage } from "./dom.js";

/**
 * Wires the search form. `onDownloadStarted(answer)` is called with the
 * server's answer once it accepted a download.
 */
export function setupYouTube({ form, input, button, results, message, onDownloadStarted }) {
  async function download(body, trigger) {
    if (trigger) {
      trigger.disabled = true;
    }
    try {
      const answer = await postJson("/api/downloads", body);
      const text = answer.download_started
        ? `Downloading “${answer.title}”…`
        : `“${answer.title}” is already in the library; it is on your list.`;
      showMessage(message, text, "success");
      onDownloadStarted(answer);
    } catch (error) {
      showMessage(message, error.message, "error");
      if (trigger) {
        trigger.disabled = false;
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      showMessage(message, "Type words to search for, or paste a YouTube link.");
      return;
    }
    if (looksLikeLink(text)) {
      results.replaceChildren();
      await download({ url: text }, button);
      button.disabled = false;
      return;
    }

    button.disabled = true;
    showMessage(message, "Searching…");
    try {
      const answer = await getJson(`/api/search?q=${encodeURIComponent(text)}`);
      const found = answer.results ?? [];
      showMessage(message, found.length ? "" : "Nothing found.");
      results.replaceChildren(
        ...found.map((video) => resultRow(video, (trigger) => download({ video_id: video.id }, trigger))),
      );
    } catch (error) {
      showMessage(message, error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
}

function looksLikeLink(text) {
  return /^(https?:\/\/|www\.|m\.|music\.)?(youtube\.com|youtu\.be|youtube-nocookie\.com)\//i.test(
    text,
  );
}

function resultRow(video, onDownload) {
  const thumbnail = smallestThumbnail(video.thumbnails ?? []);
  let picture = el("div", { className: "thumbnail" });
  if (thumbnail) {
    const placeholder = picture;
    picture = el("img", {
      className: "thumbnail",
      attrs: { src: thumbnail.url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" },
    });
    // Offline servers and blocked hosts: an empty frame, not a broken image.
    picture.addEventListener("error", () => picture.replaceWith(placeholder));
  }
  const button = el("button", { text: "Download", attrs: { type: "button" } });
  button.addEventListener("click", () => onDownload(button));
  const details = [video.author, video.duration || "live"].filter(Boolean).join(" · ");
  return el("li", { className: "item" }, [
    picture,
    el("div", { className: "item-main" }, [
      el("p", { className: "item-title", text: video.title }),
      el("p", { className: "item-details", text: details }),
    ]),
    el("div", { className: "item-actions" }, [button]),
  ]);
}

/** The smallest thumbnail at least 160 pixels wide, else the largest. */
function smallestThumbnail(thumbnails) {
  const wide = thumbnails.filter((t) => (t.width ?? 0) >= 160);
  const pool = wide.length ? wide : thumbnails;
  return pool.reduce(
    (best, t) => (best === null || (t.width ?? 0) < (best.width ?? 0) ? t : best),
    null,
  );
}
