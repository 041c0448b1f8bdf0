// Downloads a stem file with progress and decodes it into an AudioBuffer.

import { loginUrl } from "./api.js";

/**
 * Returns the decoded AudioBuffer of the audio file at `url`.
 *
 * `onProgress(fraction)` is called while the file downloads, with a number
 * from 0 to 1, or null when the server does not say the file's size;
 * `onDecoding()` is called once the bytes are in. `signal` aborts the
 * download.
 */
export async function loadStem(context, url, { signal, onProgress, onDecoding }) {
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (response.status === 401) {
    window.location.assign(loginUrl());
  }
  if (!response.ok) {
    throw new Error(`the server answered ${response.status}`);
  }

  const bytes = await readWithProgress(response, onProgress);
  onDecoding();
  try {
    return await context.decodeAudioData(bytes.buffer);
  } catch {
    throw new Error("the browser cannot decode this audio");
  }
}

async function readWithProgress(response, onProgress) {
  const total = Number(response.headers.get("Content-Length")) || 0;
  if (!response.body) {
    const whole = new Uint8Array(await response.arrayBuffer());
    onProgress(1);
    return whole;
  }

  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  onProgress(total ? 0 : null);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    chunks.push(value);
    received += value.length;
    onProgress(total ? Math.min(1, received / total) : null);
  }

  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
