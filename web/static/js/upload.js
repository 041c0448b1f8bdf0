// Upload component: a file input and a drop zone that send one file to
// /api/upload-file with XMLHttpRequest, so the upload progress can be shown.

import { loginUrl } from "./api.js";
import { formatSize } from "./format.js";
import { showMessage } from "./dom.js";

const UPLOAD_URL = "/api/upload-file";

/**
 * Wires the upload elements (`zone`, `input`, `progress`, `message`) and
 * the size limit `maxUploadMb`. `onUploaded(result)` is called with the
 * server's answer after a successful upload.
 */
export function setupUpload(elements) {
  const { zone, input, progress, message, maxUploadMb, onUploaded } = elements;
  const maxBytes = maxUploadMb * 1024 * 1024;
  let busy = false;

  function start(file) {
    if (busy) {
      showMessage(message, "Wait for the current upload to finish.", "error");
      return;
    }
    if (file.size === 0) {
      showMessage(message, `"${file.name}" is empty.`, "error");
      return;
    }
    if (maxUploadMb > 0 && file.size > maxBytes) {
      const text =
        `"${file.name}" is ${formatSize(file.size)}; ` +
        `the limit is ${maxUploadMb} MB.`;
      showMessage(message, text, "error");
      return;
    }

    busy = true;
    input.disabled = true;
    zone.classList.add("busy");
    progress.hidden = false;
    progress.value = 0;
    showMessage(message, `Uploading "${file.name}"…`);

    send(file, progress)
      .then((result) => {
        const title = result.title || result.filename || file.name;
        showMessage(message, `Uploaded "${title}".`, "success");
        onUploaded(result);
      })
      .catch((error) => showMessage(message, error.message, "error"))
      .finally(() => {
        busy = false;
        input.disabled = false;
        input.value = "";
        zone.classList.remove("busy");
        progress.hidden = true;
      });
  }

  input.addEventListener("change", () => {
    if (input.files.length > 0) {
      start(input.files[0]);
    }
  });

  zone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) {
      zone.classList.remove("dragging");
    }
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const files = event.dataTransfer.files;
    if (files.length > 1) {
      showMessage(message, "Drop one file at a time.", "error");
    } else if (files.length === 1) {
      start(files[0]);
    }
  });

  // A file dropped next to the zone would otherwise replace the page.
  for (const type of ["dragover", "drop"]) {
    document.addEventListener(type, (event) => {
      if (!zone.contains(event.target)) {
        event.preventDefault();
      }
    });
  }
}

/** Uploads `file`; resolves with the JSON answer, rejects with an Error. */
function send(file, progress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", UPLOAD_URL);
    request.responseType = "json";
    request.setRequestHeader("Accept", "application/json");

    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        progress.value = (event.loaded / event.total) * 100;
      }
    });
    request.upload.addEventListener("load", () => {
      // The bytes are sent; the server still probes the file.
      progress.removeAttribute("value");
    });

    request.addEventListener("load", () => {
      const data = request.response;
      if (request.status >= 200 && request.status < 300 && data) {
        resolve(data);
        return;
      }
      if (request.status === 401) {
        window.location.assign(loginUrl());
      }
      reject(new Error(uploadErrorText(request.status, data)));
    });
    request.addEventListener("error", () => {
      reject(new Error("The upload was interrupted. Check the file and try again."));
    });
    request.addEventListener("abort", () => {
      reject(new Error("The upload was cancelled."));
    });

    const body = new FormData();
    body.append("file", file);
    request.send(body);
  });
}

function uploadErrorText(status, data) {
  if (data && typeof data.error === "string" && data.error) {
    return data.error;
  }
  if (status === 413) {
    return "The file is larger than the server accepts.";
  }
  return `The upload failed (HTTP ${status}).`;
}
