// Simple chord diagrams: the notes on a one-octave piano, and a guitar
// shape. Guitar shapes are the two movable barre shapes every guitarist
// learns (root on the sixth string, "E shape", or on the fifth, "A shape"),
// moved to the chord's root; the lower of the two on the neck is shown.

const SVG = "http://www.w3.org/2000/svg";
const NOTES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
const NATURAL = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

// Frets above the barre, low E string first; null is a string not played.
const E_SHAPES = {
  maj: [0, 2, 2, 1, 0, 0],
  min: [0, 2, 2, 0, 0, 0],
  7: [0, 2, 0, 1, 0, 0],
  min7: [0, 2, 0, 0, 0, 0],
  maj7: [0, null, 1, 1, 0, null],
  sus4: [0, 2, 2, 2, 0, 0],
  5: [0, 2, 2, null, null, null],
  min6: [0, 2, 2, 0, 2, 0],
};
const A_SHAPES = {
  maj: [null, 0, 2, 2, 2, 0],
  min: [null, 0, 2, 2, 1, 0],
  7: [null, 0, 2, 0, 2, 0],
  min7: [null, 0, 2, 0, 1, 0],
  maj7: [null, 0, 2, 1, 2, 0],
  sus2: [null, 0, 2, 2, 0, 0],
  sus4: [null, 0, 2, 2, 3, 0],
  dim: [null, 0, 1, 2, 1, null],
  hdim7: [null, 0, 1, 0, 1, null],
  dim7: [null, 0, 1, 2, 1, 2],
  aug: [null, 0, 3, 2, 2, 1],
  maj6: [null, 0, 2, 2, 2, 2],
  min6: [null, 0, 2, 2, 1, 2],
  9: [null, 0, -1, 0, 0, null],
  5: [null, 0, 2, 2, null, null],
};
// Qualities without a shape of their own are played as their nearest one.
const FALLBACK = { minmaj7: "min", maj9: "maj7", min9: "min7", 1: "5" };

/** The pitch class of a note name (E#, Cb and G## included), or -1. */
function pitch(note) {
  const natural = NATURAL[note?.[0]];
  if (natural === undefined) {
    return -1;
  }
  let shift = 0;
  for (const sign of note.slice(1)) {
    shift += sign === "#" ? 1 : sign === "b" ? -1 : 0;
  }
  return (((natural + shift) % 12) + 12) % 12;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    node.setAttribute(name, String(value));
  }
  return node;
}

/** An SVG of one octave of keys from C, the chord's `notes` marked. */
export function pianoDiagram(notes) {
  const marked = new Set(notes.map(pitch));
  const white = [0, 2, 4, 5, 7, 9, 11];
  const black = { 1: 0, 3: 1, 6: 3, 8: 4, 10: 5 }; // pitch -> white key before
  const width = 20;
  const drawing = svg("svg", {
    viewBox: `0 0 ${white.length * width} 70`,
    class: "piano",
    role: "img",
    "aria-label": `Piano: ${notes.join(" ")}`,
  });
  white.forEach((note, i) => {
    drawing.append(
      svg("rect", {
        x: i * width,
        y: 0,
        width,
        height: 70,
        class: marked.has(note) ? "key white on" : "key white",
        "data-note": NOTES[note],
      }),
    );
  });
  for (const [note, before] of Object.entries(black)) {
    drawing.append(
      svg("rect", {
        x: (before + 1) * width - 6,
        y: 0,
        width: 12,
        height: 42,
        class: marked.has(Number(note)) ? "key black on" : "key black",
        "data-note": NOTES[note],
      }),
    );
  }
  return drawing;
}

/** The frets to play for `root` and Harte `quality`, or null if none. */
export function guitarShape(root, quality) {
  const kind = E_SHAPES[quality] || A_SHAPES[quality] ? quality : FALLBACK[quality];
  const rootPitch = pitch(root);
  if (rootPitch < 0 || !kind) {
    return null;
  }
  const options = [];
  for (const [shapes, open] of [
    [E_SHAPES, 4],
    [A_SHAPES, 9],
  ]) {
    if (shapes[kind]) {
      const barre = (rootPitch - open + 12) % 12;
      options.push(shapes[kind].map((fret) => (fret === null ? null : barre + fret)));
    }
  }
  // The lower on the neck, with no fret below the nut.
  const playable = options.filter((frets) => frets.every((f) => f === null || f >= 0));
  const highest = (frets) => Math.max(...frets.filter((f) => f !== null));
  playable.sort((a, b) => highest(a) - highest(b));
  return playable[0] ?? null;
}

/** An SVG of a guitar chord box for `frets` (low E first, null not played). */
export function guitarDiagram(frets, name) {
  const drawing = svg("svg", {
    viewBox: "0 0 80 100",
    class: "guitar",
    role: "img",
    "aria-label": `Guitar: ${name}`,
  });
  if (!frets) {
    return drawing;
  }
  const pressed = frets.filter((f) => f !== null && f > 0);
  const low = pressed.length > 0 ? Math.min(...pressed) : 1;
  const base = Math.max(...frets.filter((f) => f !== null)) <= 4 ? 1 : low;
  const left = 15;
  const gap = 11;
  const top = 18;
  const fretGap = 16;
  for (let string = 0; string < 6; string += 1) {
    const x = left + string * gap;
    drawing.append(svg("line", { x1: x, y1: top, x2: x, y2: top + 4 * fretGap }));
  }
  for (let fret = 0; fret <= 4; fret += 1) {
    const y = top + fret * fretGap;
    const nut = fret === 0 && base === 1;
    drawing.append(
      svg("line", {
        x1: left,
        y1: y,
        x2: left + 5 * gap,
        y2: y,
        class: nut ? "nut" : "fret",
      }),
    );
  }
  if (base > 1) {
    const label = svg("text", { x: 2, y: top + fretGap * 0.7, class: "base-fret" });
    label.textContent = String(base);
    drawing.append(label);
  }
  frets.forEach((fret, string) => {
    const x = left + string * gap;
    if (fret === null || fret === 0) {
      const mark = svg("text", { x: x - 3, y: top - 5, class: "open" });
      mark.textContent = fret === null ? "×" : "○";
      drawing.append(mark);
      return;
    }
    const y = top + (fret - base + 0.5) * fretGap;
    drawing.append(svg("circle", { cx: x, cy: y, r: 4, class: "dot" }));
  });
  return drawing;
}
