// The song's timeline: its sections and chords as lanes of buttons that seek
// where they start, a playhead that follows playback, and the waveforms the
// server computed for each stem (drawn before the stems have loaded).

import { el } from "./dom.js";
import { formatDuration } from "./format.js";

// A chord's box is kept at least this wide, in CSS pixels: on a narrow
// screen the lanes get wider than the page and scroll sideways together,
// following the playhead.
const MIN_CHORD_PX = 40;

export class Timeline {
  /** `onSeek(seconds)` is called when a section, chord or waveform is clicked. */
  constructor(container, { onSeek }) {
    this.container = container;
    this.onSeek = onSeek;
    this.duration = 0;
    this.lanes = [];
    this.playheads = [];
    this.scroller = null;
    this.tracks = null;
  }

  /**
   * Shows `sections` ({start, end, label}) and `chords` ({start, end, name})
   * over a song of `duration` seconds; either may be empty.
   */
  show({ duration, sections = [], chords = [] }) {
    this.duration = duration;
    this.lanes = [];
    this.playheads = [];
    const titles = [];
    const tracks = [];
    if (sections.length > 0) {
      const name = (section) => capitalized(section.label);
      titles.push(el("span", { className: "lane-title", text: "Sections" }));
      tracks.push(this.lane("sections", sections, name));
    }
    const heard = chords.filter((c) => c.label !== "N");
    if (heard.length > 0) {
      titles.push(el("span", { className: "lane-title", text: "Chords" }));
      tracks.push(this.lane("chords", heard, (c) => c.name ?? c.label));
    }
    this.tracks = el("div", { className: "timeline-tracks" }, tracks);
    const shortest = typicalLength(heard);
    if (shortest > 0 && duration > 0) {
      const width = Math.ceil((duration / shortest) * MIN_CHORD_PX);
      this.tracks.style.width = `max(100%, ${width}px)`;
    }
    this.scroller = el("div", { className: "timeline-scroll" }, [this.tracks]);
    this.container.replaceChildren(
      el("div", { className: "lane-titles" }, titles),
      this.scroller,
    );
    this.container.hidden = tracks.length === 0;
  }

  lane(kind, spans, text) {
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
    return el("div", { className: `lane-track ${kind}-lane` }, [
      ...buttons.map((b) => b.button),
      playhead,
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
    this.keepInView(position);
    for (const buttons of this.lanes) {
      for (const { button, span } of buttons) {
        const current = span.start <= position && position < span.end;
        button.classList.toggle("current", current);
      }
    }
  }

  /** Scrolls wide lanes so the playhead stays in sight. */
  keepInView(position) {
    const scroller = this.scroller;
    if (!scroller || scroller.scrollWidth <= scroller.clientWidth) {
      return;
    }
    const x = (this.percent(position) / 100) * scroller.scrollWidth;
    const margin = scroller.clientWidth / 8;
    const seen = scroller.scrollLeft;
    if (x < seen + margin / 2 || x > seen + scroller.clientWidth - margin) {
      scroller.scrollLeft = Math.max(0, x - scroller.clientWidth / 3);
    }
  }
}

/** The median length of the chords, in seconds (0 without chords). */
function typicalLength(chords) {
  const lengths = chords.map((c) => c.end - c.start).filter((l) => l > 0);
  lengths.sort((a, b) => a - b);
  return lengths.length > 0 ? lengths[Math.floor(lengths.length / 2)] : 0;
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
