// Karaoke lyrics: the song's lines with the line and the word being sung
// marked as the song plays; clicking a line goes to it.

import { el } from "./dom.js";

export class Karaoke {
  /** `onSeek(seconds)` is called when a line is clicked. */
  constructor(container, list, { onSeek }) {
    this.container = container;
    this.list = list;
    this.onSeek = onSeek;
    this.lines = [];
    this.offset = 0;
    this.current = -1;
  }

  /**
   * Shows `lines` ({start, end, text, words: [{start, end, word}]}); the
   * caller's `offsetMs` is added to every time, as the lyrics route says.
   */
  show(lines, offsetMs = 0) {
    this.offset = offsetMs / 1000;
    this.current = -1;
    this.lines = lines.map((line) => {
      const words = (line.words ?? []).map((word) =>
        Object.assign(el("span", { className: "word", text: word.word }), {
          timing: word,
        }),
      );
      const shown = words.length > 0 ? spaced(words) : [line.text];
      const item = el("li", { className: "lyric-line" }, [
        el("button", {
          className: "lyric-seek",
          text: "▶",
          attrs: { type: "button", "aria-label": `Go to “${line.text}”` },
        }),
        el("span", { className: "lyric-text" }, shown),
      ]);
      item.querySelector("button").addEventListener("click", () =>
        this.onSeek(line.start + this.offset),
      );
      return { line, item, words };
    });
    this.list.replaceChildren(...this.lines.map((entry) => entry.item));
    this.container.hidden = this.lines.length === 0;
  }

  /** Marks the line and word sung at `position` seconds. */
  update(position) {
    const time = position - this.offset;
    let index = -1;
    this.lines.forEach(({ line }, i) => {
      if (line.start <= time) {
        index = i;
      }
    });
    if (index !== this.current) {
      this.lines[this.current]?.item.classList.remove("current");
      this.lines[index]?.item.classList.add("current");
      this.current = index;
      this.scrollTo(this.lines[index]?.item);
    }
    for (const [i, { words }] of this.lines.entries()) {
      for (const word of words) {
        const { start, end } = word.timing;
        const until = Math.max(end, start + 0.05);
        const singing = i === index && start <= time && time < until;
        word.classList.toggle("current", singing);
        word.classList.toggle("sung", i < index || (i === index && end <= time));
      }
    }
  }

  scrollTo(item) {
    if (!item) {
      return;
    }
    const top = item.offsetTop - this.list.offsetTop;
    this.list.scrollTop = Math.max(0, top - this.list.clientHeight / 3);
  }
}

/** The word spans with a space between each. */
function spaced(words) {
  return words.flatMap((word, i) => (i === 0 ? [word] : [" ", word]));
}
