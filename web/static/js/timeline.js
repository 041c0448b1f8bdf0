// The song's timeline: its sections and chords as lanes of buttons that seek
// where they start, a playhead that follows playback, and the waveforms the
// server computed for each stem (drawn before the stems have loaded).

import { el } from "./dom.js";
import { formatDuration } from "./format.js";

// TODO: on a phone the chord lane is too narrow for its names; it should scroll.
export class Timeline {
  /** `onSeek(seconds)` is called when a section, chord or waveform is clicked. */
  constructor(container, { onSeek }) {
    this.container = container;
    this.onSeek = onSeek;
    this.duration = 0;
    this.lanes = [];
    this.playheads = [];
  }

  /**
   * Shows `sections` ({start, end, label}) and `chords` ({start, end, name})
   * over a song of `duration` seconds; either may be empty.
   */
  show({ duration, sections = [], chords = [] }) {
    this.duration = duration;
    this.lanes = [];
    const rows = [];
    if (sections.length > 0) {
      const name = (section) => capitalized(section.label);
      rows.push(this.lane("Sections", "sections", sections, name));
    }
    const heard = chords.filter((c) => c.label !== "N");
    if (heard.length > 0) {
      rows.push(this.lane("Chords", "chords", heard, (c) => c.name ?? c.label));
    }
    this.container.replaceChildren(...rows);
    this.container.hidden = rows.length === 0;
  }

  lane(title, kind, spans, text) {
    const playhead = el("span", {
      className: "playhead",
      attrs: { "aria-hidden": "true" },
    });
    this.playheads.push(playhead);
    const buttons = spans
      .filter((span) => span.end > span.start && span.start < this.duration)
      .map((span) => {
        const label = text(span);
        const button = el("button", {
          className: `span ${kind}-span`,
          text: label,
          attrs: {
            type: "button",
            title: `${label} at ${formatDuration(span.start)}`,
            "aria-label": `${label}, ${formatDuration(span.start)}`,
            "data-start": span.start,
            "data-label": span.label,
          },
        });
        button.style.left = `${this.percent(span.start)}%`;
        const end = Math.min(span.end, this.duration);
        button.style.width = `${this.percent(end - span.start)}%`;
        button.addEventListener("click", () => this.onSeek(span.start));
        return { button, span };
      });
    this.lanes.push(buttons);
    return el("div", { className: `lane ${kind}-lane` }, [
      el("span", { className: "lane-title", text: title }),
      el("div", { className: "lane-track" }, [
        ...buttons.map((b) => b.button),
        playhead,
      ]),
    ]);
  }

  percent(seconds) {
    return this.duration > 0 ? (100 * seconds) / this.duration : 0;
  }

  /** Moves the playheads to `position` and marks what is playing there. */
  update(position) {
    const left = `${this.percent(position)}%`;
    for (const playhead of this.playheads) {
      playhead.style.left = left;
    }
    for (const buttons of this.lanes) {
      for (const { button, span } of buttons) {
        const current = span.start <= position && position < span.end;
        button.classList.toggle("current", current);
      }
    }
  }
}

function capitalized(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

/**
 * Draws a waveform from (min, max) pairs, one per column, into `canvas`;
 * clicking it calls `onSeek(seconds)` over a song of `duration` seconds.
 */
export function drawWaveform(canvas, pairs, duration, onSeek) {
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 48;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const drawing = canvas.getContext("2d");
  drawing.scale(ratio, ratio);
  drawing.clearRect(0, 0, width, height);
  drawing.fillStyle = getComputedStyle(canvas).color;
  const middle = height / 2;
  const step = width / pairs.length;
  pairs.forEach(([low, high], index) => {
    const top = middle - Math.max(high, 0) * middle;
    const bottom = middle - Math.min(low, 0) * middle;
    drawing.fillRect(index * step, top, Math.max(step, 1), Math.max(bottom - top, 1));
  });
  canvas.dataset.drawn = "true";
  canvas.onclick = (event) => {
    const box = canvas.getBoundingClientRect();
    const fraction = (event.clientX - box.left) / box.width;
    onSeek(Math.max(0, Math.min(1, fraction)) * duration);
  };
}
