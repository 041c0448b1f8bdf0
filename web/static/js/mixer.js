// Mixer view: without a download, a list of songs whose stems are ready;
// with one, its stems loaded into a StemPlayer with per-stem volume, mute
// and waveform, a play/pause button, a seek slider, and the song's sections
// and chords on a timeline (click one to go there).

import { getJson, mixerUrl } from "./api.js";
import { guitarDiagram, guitarShape, pianoDiagram } from "./chord-diagrams.js";
import { el, readPageData, showMessage } from "./dom.js";
import { formatDuration } from "./format.js";
import { Karaoke } from "./karaoke.js";
import { Metronome } from "./metronome.js";
import { loadStem } from "./stem-loader.js";
import { StemPlayer, canStretch } from "./stem-player.js";
import { Timeline, drawWaveform } from "./timeline.js";
import { encodeWav } from "./wav.js";

const { download_id: downloadId } = readPageData();

const pageMessage = document.getElementById("mixer-message");
const picker = document.getElementById("song-picker");
const mixer = document.getElementById("mixer");
const songTitle = document.getElementById("song-title");
const modelChoice = document.getElementById("model-choice");
const modelSelect = document.getElementById("model-select");
const playButton = document.getElementById("play-button");
const positionDisplay = document.getElementById("position");
const seekSlider = document.getElementById("seek");
const outputLevel = document.getElementById("output-level");
const loopA = document.getElementById("loop-a");
const loopB = document.getElementById("loop-b");
const loopToggle = document.getElementById("loop-toggle");
const loopSpan = document.getElementById("loop-span");
const exportButton = document.getElementById("export-mix");
const metronomeToggle = document.getElementById("metronome-toggle");
const countInSelect = document.getElementById("count-in");
const chordPanel = document.getElementById("chord-panel");
const transposeSelect = document.getElementById("transpose");
const chordName = document.getElementById("chord-name");
const chordPiano = document.getElementById("chord-piano");
const chordGuitar = document.getElementById("chord-guitar");
const stemList = document.getElementById("stems");
const pitchInput = document.getElementById("pitch");
const pitchLabel = document.getElementById("pitch-label");
const tempoInput = document.getElementById("tempo");
const tempoLabel = document.getElementById("tempo-label");
const shiftReset = document.getElementById("shift-reset");
const shiftHint = document.getElementById("shift-hint");
const timeline = new Timeline(document.getElementById("timeline"), { onSeek: seekTo });
const karaoke = new Karaoke(
  document.getElementById("lyrics-panel"),
  document.getElementById("lyrics-lines"),
  { onSeek: seekTo },
);

let context = null;
let player = null;
// Increases with each extraction loaded, so a slower earlier load is dropped.
let loadGeneration = 0;
let loadAbort = null;
let frame = null;
let dragging = false;
let metronome = null;
// What the timeline shows, and the chord the diagrams show.
let shownSections = [];
let shownChords = [];
let shownChord = null;
let transpose = 0;
// Pitch shift in semitones and tempo in percent, as the player has them.
let pitch = 0;
let tempo = 100;
let stemRows = [];
let currentExtraction = null;
// Beats per bar, for the count-in.
let meter = 4;
// The song's beat times, for loops that snap to the beat.
let beats = [];
// The loop's ends as set with A and B, whether or not it is on.
let loopStart = null;
let loopEnd = null;

// The song picker.

async function showPicker() {
  picker.hidden = false;
  const pickerMessage = document.getElementById("picker-message");
  const list = document.getElementById("picker-list");

  let extractions;
  try {
    extractions = (await getJson("/api/extractions")).extractions ?? [];
  } catch (error) {
    showMessage(pickerMessage, `Cannot load your songs: ${error.message}`, "error");
    return;
  }

  const songs = completedByDownload(extractions);
  if (songs.size === 0) {
    showMessage(pickerMessage, "No song has its stems ready yet. ");
    pickerMessage.append(el("a", { text: "Go to the library", attrs: { href: "/" } }));
    return;
  }

  const items = [...songs.entries()].map(([id, group]) => {
    const models = group.map((e) => e.model).filter(Boolean).join(", ");
    return el("li", { className: "item" }, [
      el("div", { className: "item-main" }, [
        el("a", {
          className: "item-title",
          text: group[0].title || group[0].video_id,
          attrs: { href: mixerUrl(id) },
        }),
        el("p", { className: "item-details", text: models }),
      ]),
    ]);
  });
  list.replaceChildren(...items);
}

/** Returns completed extractions grouped by download id, in list order. */
function completedByDownload(extractions) {
  const songs = new Map();
  for (const extraction of extractions) {
    if (extraction.status !== "completed" || extraction.download_id == null) {
      continue;
    }
    const group = songs.get(extraction.download_id) ?? [];
    group.push(extraction);
    songs.set(extraction.download_id, group);
  }
  return songs;
}

// One song.

async function openDownload(id) {
  let download;
  try {
    download = await getJson(`/api/downloads/${encodeURIComponent(id)}`);
  } catch (error) {
    showMessage(pageMessage, `Cannot open this song: ${error.message}. `, "error");
    pageMessage.append(el("a", { text: "Choose another", attrs: { href: "/mixer" } }));
    return;
  }

  const title = download.title || download.video_id || "Untitled";
  songTitle.textContent = title;
  document.title = `${title} · Mixer · StemTube`;
  mixer.hidden = false;

  const completed = completedExtractions(download);
  if (completed.length === 0) {
    showMessage(pageMessage, "This song has no extracted stems yet. ", "error");
    pageMessage.append(el("a", { text: "Go to the library", attrs: { href: "/" } }));
    return;
  }

  const first =
    completed.find((e) => download.extraction && e.id === download.extraction.id) ??
    completed[0];
  if (completed.length > 1) {
    modelSelect.replaceChildren(
      ...completed.map((e) =>
        el("option", { text: e.model ?? `#${e.id}`, attrs: { value: e.id } }),
      ),
    );
    modelSelect.value = String(first.id);
    modelSelect.addEventListener("change", () => openExtraction(modelSelect.value));
    modelChoice.hidden = false;
  }
  await openExtraction(first.id);
}

function completedExtractions(download) {
  const listed = (download.extractions ?? []).filter((e) => e.status === "completed");
  if (listed.length > 0) {
    return listed;
  }
  const single = download.extraction;
  return single?.status === "completed" ? [single] : [];
}

/** Loads every stem of an extraction into a new player. */
async function openExtraction(extractionId) {
  const generation = ++loadGeneration;
  loadAbort?.abort();
  loadAbort = new AbortController();
  const { signal } = loadAbort;
  closePlayer();
  showMessage(pageMessage, "");

  let extraction;
  try {
    extraction = await getJson(`/api/extractions/${encodeURIComponent(extractionId)}`);
  } catch (error) {
    showMessage(pageMessage, `Cannot load the stems: ${error.message}`, "error");
    return;
  }
  if (generation !== loadGeneration) {
    return;
  }

  const urls = extraction.stem_urls ?? {};
  const names = extraction.stems ?? Object.keys(urls);
  const rows = names.map((name) => new StemRow(name));
  stemList.replaceChildren(...rows.map((row) => row.element));
  drawWaveforms(extractionId, rows, generation);

  context ??= new AudioContext();
  player = new StemPlayer(context, { onEnded: showStopped, onLoopEnded: showLoop });
  beats = extraction.beats ?? [];
  meter = extraction.meter || 4;
  metronome = new Metronome(context, player.output, player);
  metronome.setBeats(beats, extraction.downbeats ?? []);
  metronome.setEnabled(metronomeToggle.checked);
  currentExtraction = extractionId;
  shownSections = extraction.structure ?? [];
  shownChords = extraction.chords ?? [];
  const saved = savedSettings();

  // Each stem joins the player as soon as it is decoded: the song can be
  // played from the first one, the others coming in, in sync, as they load.
  const results = await Promise.allSettled(
    rows.map(async (row) => {
      const url = urls[row.name] ?? stemUrl(extractionId, row.name);
      const buffer = await row.load(context, url, signal);
      if (generation !== loadGeneration) {
        return;
      }
      const first = player.stems.size === 0;
      player.addStem(row.name, buffer);
      stemRows.push(row);
      row.attach(player, saveSettings);
      row.restore(saved.stems?.[row.name]);
      if (first) {
        playerReady(extractionId, generation, saved);
      } else if (player.duration > Number(seekSlider.max)) {
        seekSlider.max = String(player.duration);
        showTimeline();
      }
    }),
  );
  if (generation !== loadGeneration) {
    return;
  }
  const failed = results.filter((result) => result.status === "rejected").length;
  if (player.stems.size === 0) {
    showMessage(pageMessage, "None of the stems could be loaded.", "error");
  } else if (failed > 0) {
    showMessage(pageMessage, "Some stems could not be loaded; playing the others.");
  }
}

/** Turns the controls on once the first stem can be heard. */
function playerReady(extractionId, generation, saved) {
  seekSlider.max = String(player.duration);
  seekSlider.disabled = false;
  playButton.disabled = false;
  loopA.disabled = false;
  loopB.disabled = false;
  exportButton.disabled = false;
  metronomeToggle.disabled = beats.length === 0;
  countInSelect.disabled = beats.length === 0;
  const stretchable = canStretch(context);
  pitchInput.disabled = !stretchable;
  tempoInput.disabled = !stretchable;
  shiftReset.disabled = !stretchable;
  shiftHint.hidden = stretchable;
  chordPanel.hidden = shownChords.length === 0;
  showTimeline();
  if (shownChords.length > 0) {
    // Asked even untransposed: the answer names each chord's notes.
    setTranspose(Number.isInteger(saved.transpose) ? saved.transpose : 0);
  }
  const savedPitch = Number.isInteger(saved.pitch) ? saved.pitch : 0;
  const savedTempo = Number.isInteger(saved.tempo) ? saved.tempo : 100;
  if (stretchable && (savedPitch !== 0 || savedTempo !== 100)) {
    setShift(savedPitch, savedTempo, { chordsFollow: false });
  }
  showLyrics(extractionId, generation);
  updatePosition();
}

/** Shows the song's lyrics, when it has some, for singing along. */
async function showLyrics(extractionId, generation) {
  let found;
  try {
    const id = encodeURIComponent(extractionId);
    found = await getJson(`/api/extractions/${id}/lyrics`);
  } catch {
    return; // no lyrics panel; the stems still play
  }
  if (generation === loadGeneration && found.available) {
    karaoke.show(found.lyrics ?? [], found.offset_ms ?? 0);
    updatePosition();
  }
}

/** Draws each stem's waveform from the peaks the server computed. */
async function drawWaveforms(extractionId, rows, generation) {
  const points = Math.max(16, Math.min(4000, Math.round(stemList.clientWidth || 1000)));
  let found;
  try {
    const id = encodeURIComponent(extractionId);
    found = await getJson(`/api/extractions/${id}/peaks?points=${points}`);
  } catch {
    return; // the waveforms are a help, not a need: the stems still play
  }
  if (generation !== loadGeneration) {
    return;
  }
  for (const row of rows) {
    const pairs = found.peaks?.[row.name];
    if (pairs) {
      drawWaveform(row.wave, pairs, found.duration, seekTo);
    }
  }
}

function showTimeline() {
  timeline.show({
    duration: player?.duration ?? 0,
    sections: shownSections,
    chords: shownChords,
  });
  shownChord = null;
  updatePosition();
}

// Chords: transposed by the server, the current one drawn for piano and guitar.

transposeSelect.replaceChildren(
  ...Array.from({ length: 13 }, (_, i) => i - 6).map((shift) =>
    el("option", {
      text: shift > 0 ? `+${shift}` : String(shift),
      attrs: { value: shift, selected: shift === 0 },
    }),
  ),
);

async function setTranspose(shift) {
  const extractionId = currentExtraction;
  let found;
  try {
    const id = encodeURIComponent(extractionId);
    found = await getJson(`/api/extractions/${id}/chords?transpose=${shift}`);
  } catch (error) {
    showMessage(pageMessage, `Cannot transpose the chords: ${error.message}`, "error");
    return;
  }
  if (extractionId !== currentExtraction) {
    return;
  }
  transpose = shift;
  transposeSelect.value = String(shift);
  shownChords = found.chords ?? [];
  showTimeline();
  saveSettings();
}

function showCurrentChord(position) {
  const chord = shownChords.find((c) => c.start <= position && position < c.end);
  if (chord === shownChord) {
    return;
  }
  shownChord = chord;
  const heard = chord && chord.label !== "N" && chord.label !== "X";
  chordName.textContent = heard ? chord.name : "N.C.";
  if (!heard) {
    chordPiano.replaceChildren();
    chordGuitar.replaceChildren();
    return;
  }
  const notes = chord.notes ?? [];
  const quality = (chord.label.split(":")[1] ?? "maj").split(/[/(]/)[0] || "maj";
  chordPiano.replaceChildren(notes.length > 0 ? pianoDiagram(notes) : "");
  const root = notes[0] ?? chord.name.match(/^[A-G][#b]?/)?.[0];
  chordGuitar.replaceChildren(guitarDiagram(guitarShape(root, quality), chord.name));
}

transposeSelect.addEventListener("change", () =>
  setTranspose(Number(transposeSelect.value)),
);

function seekTo(seconds) {
  if (!player) {
    return;
  }
  player.seek(seconds);
  updatePosition();
}

/** The documented stem address, for answers without `stem_urls`. */
function stemUrl(extractionId, name) {
  const id = encodeURIComponent(extractionId);
  return `/api/extracted_stems/${id}/${encodeURIComponent(name)}`;
}

function closePlayer() {
  metronome?.dispose();
  metronome = null;
  player?.dispose();
  player = null;
  showStopped();
  playButton.disabled = true;
  seekSlider.disabled = true;
  seekSlider.value = "0";
  positionDisplay.textContent = "0:00 / 0:00";
  loopStart = loopEnd = null;
  for (const control of [
    loopA,
    loopB,
    loopToggle,
    exportButton,
    metronomeToggle,
    countInSelect,
    pitchInput,
    tempoInput,
    shiftReset,
  ]) {
    control.disabled = true;
  }
  pitch = 0;
  tempo = 100;
  showShift();
  showLoop();
  stemList.replaceChildren();
  timeline.show({ duration: 0 });
  karaoke.show([]);
  chordPanel.hidden = true;
  shownChords = [];
  shownSections = [];
  shownChord = null;
  stemRows = [];
  transpose = 0;
  transposeSelect.value = "0";
}

// One stem: loading progress, then volume, mute, solo, pan and waveform.

class StemRow {
  constructor(name) {
    this.name = name;
    this.progress = el("progress", {
      className: "wide",
      attrs: { max: 100, value: 0, "aria-label": `${name} loading` },
    });
    this.state = el("span", { className: "stem-state", text: "Loading…" });
    this.mute = el("button", {
      className: "secondary",
      text: "Mute",
      attrs: { type: "button", "aria-pressed": "false", disabled: true },
    });
    this.volume = el("input", {
      attrs: {
        type: "range",
        min: 0,
        max: 100,
        value: 100,
        "aria-label": `${name} volume`,
        disabled: true,
      },
    });
    this.volumeLabel = el("output", { className: "volume-label", text: "100 %" });
    this.solo = el("button", {
      className: "secondary",
      text: "Solo",
      attrs: { type: "button", "aria-pressed": "false", disabled: true },
    });
    this.pan = el("input", {
      className: "pan",
      attrs: {
        type: "range",
        min: -100,
        max: 100,
        value: 0,
        "aria-label": `${name} pan`,
        disabled: true,
      },
    });
    this.panLabel = el("output", { className: "pan-label", text: "C" });
    this.wave = el("canvas", {
      className: "waveform",
      attrs: { "aria-label": `${name} waveform: click to go there`, role: "img" },
    });

    this.element = el("li", { className: "stem" }, [
      el("span", { className: "stem-name", text: name }),
      el("div", { className: "stem-load" }, [this.progress, this.state]),
      el("div", { className: "stem-controls" }, [
        this.mute,
        this.solo,
        this.volume,
        this.volumeLabel,
        this.pan,
        this.panLabel,
      ]),
      this.wave,
    ]);
  }

  /** Loads the stem; resolves with its AudioBuffer. */
  async load(context, url, signal) {
    try {
      return await loadStem(context, url, {
        signal,
        onProgress: (fraction) => this.showProgress(fraction),
        onDecoding: () => {
          this.progress.removeAttribute("value");
          this.state.textContent = "Decoding…";
        },
      });
    } catch (error) {
      this.progress.hidden = true;
      this.state.textContent = `Failed: ${error.message}`;
      this.element.classList.add("failed");
      throw error;
    }
  }

  showProgress(fraction) {
    if (fraction === null) {
      this.progress.removeAttribute("value");
      this.state.textContent = "Loading…";
      return;
    }
    this.progress.value = fraction * 100;
    this.state.textContent = `Loading ${Math.round(fraction * 100)} %`;
  }

  /**
   * Shows the controls and connects them to `stemPlayer`; `onChange()` is
   * called after the user changes one.
   */
  attach(stemPlayer, onChange) {
    this.player = stemPlayer;
    this.progress.hidden = true;
    this.state.textContent = "";
    this.element.classList.add("ready");
    for (const control of [this.mute, this.solo, this.volume, this.pan]) {
      control.disabled = false;
    }
    const changed = (apply) => () => {
      apply();
      onChange();
    };
    this.mute.addEventListener("click", changed(() => this.setMuted(!this.muted)));
    this.solo.addEventListener("click", changed(() => this.setSoloed(!this.soloed)));
    this.pan.addEventListener(
      "input",
      changed(() => this.setPan(Number(this.pan.value) / 100)),
    );
    this.volume.addEventListener(
      "input",
      changed(() => this.setVolume(Number(this.volume.value) / 100)),
    );
  }

  get muted() {
    return this.mute.getAttribute("aria-pressed") === "true";
  }

  get soloed() {
    return this.solo.getAttribute("aria-pressed") === "true";
  }

  setMuted(muted) {
    this.mute.setAttribute("aria-pressed", String(muted));
    this.player.setMuted(this.name, muted);
  }

  setSoloed(soloed) {
    this.solo.setAttribute("aria-pressed", String(soloed));
    this.player.setSoloed(this.name, soloed);
  }

  /** `pan` from -1 (left) to 1 (right). */
  setPan(pan) {
    const percent = Math.round(Math.max(-1, Math.min(1, pan)) * 100);
    this.pan.value = String(percent);
    const side = percent < 0 ? "L" : "R";
    this.panLabel.textContent = percent === 0 ? "C" : `${side} ${Math.abs(percent)}`;
    this.player.setPan(this.name, percent / 100);
  }

  /** `volume` from 0 to 1. */
  setVolume(volume) {
    const percent = Math.round(Math.max(0, Math.min(1, volume)) * 100);
    this.volume.value = String(percent);
    this.volumeLabel.textContent = `${percent} %`;
    this.player.setVolume(this.name, percent / 100);
  }

  settings() {
    return {
      volume: Number(this.volume.value) / 100,
      muted: this.muted,
      soloed: this.soloed,
      pan: Number(this.pan.value) / 100,
    };
  }

  /** Puts back settings saved by `settings()`; unknown values are skipped. */
  restore(saved) {
    if (typeof saved?.volume === "number") {
      this.setVolume(saved.volume);
    }
    if (typeof saved?.pan === "number") {
      this.setPan(saved.pan);
    }
    if (typeof saved?.muted === "boolean") {
      this.setMuted(saved.muted);
    }
    if (typeof saved?.soloed === "boolean") {
      this.setSoloed(saved.soloed);
    }
  }
}

// Mixer settings, remembered per song in this browser.

function settingsKey() {
  return `stemtube.mixer.${downloadId}`;
}

function savedSettings() {
  try {
    return JSON.parse(localStorage.getItem(settingsKey()) ?? "{}") ?? {};
  } catch {
    return {}; // storage off or damaged: start from the defaults
  }
}

function saveSettings() {
  // Stems still loading keep what was saved for them.
  const stems = {
    ...savedSettings().stems,
    ...Object.fromEntries(stemRows.map((row) => [row.name, row.settings()])),
  };
  try {
    const settings = { stems, transpose, pitch, tempo };
    localStorage.setItem(settingsKey(), JSON.stringify(settings));
  } catch {
    // Storage full or off: the mix still works, it is just not remembered.
  }
}

// Transport: play/pause, position and seeking.

async function togglePlay() {
  if (!player) {
    return;
  }
  if (player.playing) {
    player.pause();
    showStopped();
    return;
  }

  const bars = metronome?.enabled ? Number(countInSelect.value) : 0;
  const lead = bars * meter * (metronome?.beatInterval ?? 0);
  await player.play(lead);
  if (bars > 0 && player?.playing) {
    metronome.countIn(bars * meter, player.startTime - lead);
  }
  if (player?.playing) {
    playButton.textContent = "Pause";
    frame ??= requestAnimationFrame(tick);
  }
}

function showStopped() {
  playButton.textContent = "Play";
  updatePosition();
}

function tick() {
  updatePosition();
  const level = player?.playing ? player.level() : 0;
  outputLevel.value = Math.min(1, level * 4);
  outputLevel.dataset.rms = level.toFixed(5);
  frame = player?.playing ? requestAnimationFrame(tick) : null;
}

function updatePosition() {
  if (!player) {
    return;
  }
  const position = dragging ? Number(seekSlider.value) : player.position;
  if (!dragging) {
    seekSlider.value = String(position);
  }
  timeline.update(position);
  karaoke.update(position);
  showCurrentChord(position);
  const text = `${formatDuration(position)} / ${formatDuration(player.duration)}`;
  if (positionDisplay.textContent !== text) {
    positionDisplay.textContent = text;
  }
}

// Pitch and tempo, each changed without the other.

/**
 * Sets the pitch shift (semitones) and tempo (percent). Unless told not to,
 * the chords follow the pitch while they are not transposed on their own.
 */
async function setShift(semitones, percent, { chordsFollow = true } = {}) {
  if (!player) {
    return;
  }
  const shown = player;
  try {
    await player.setPitchAndTempo(semitones, percent / 100);
  } catch (error) {
    showMessage(pageMessage, `Cannot change pitch or tempo: ${error.message}`, "error");
    showShift();
    return;
  }
  if (shown !== player) {
    return; // another song was opened meanwhile
  }
  const follow = chordsFollow && transpose === chordShift(pitch);
  pitch = Math.round(player.semitones);
  tempo = Math.round(player.rate * 100);
  showShift();
  if (follow && chordShift(pitch) !== transpose && !chordPanel.hidden) {
    await setTranspose(chordShift(pitch));
  }
  saveSettings();
  updatePosition();
}

/** The chord transposition, -6 to 6, that names the chords heard at `shift`. */
function chordShift(shift) {
  return ((((shift + 6) % 12) + 12) % 12) - 6;
}

function showShift() {
  pitchInput.value = String(pitch);
  tempoInput.value = String(tempo);
  pitchLabel.textContent = pitch > 0 ? `+${pitch}` : String(pitch);
  tempoLabel.textContent = `${tempo} %`;
}

pitchInput.addEventListener("input", () => {
  const shift = Number(pitchInput.value);
  pitchLabel.textContent = shift > 0 ? `+${shift}` : String(shift);
});
tempoInput.addEventListener("input", () => {
  tempoLabel.textContent = `${tempoInput.value} %`;
});
pitchInput.addEventListener("change", () =>
  setShift(Number(pitchInput.value), tempo),
);
tempoInput.addEventListener("change", () =>
  setShift(pitch, Number(tempoInput.value)),
);
shiftReset.addEventListener("click", () => setShift(0, 100));

// The A-B loop: its ends snap to the nearest beat.

/** The beat nearest `seconds` when one is within half a beat, else `seconds`. */
function snapToBeat(seconds) {
  let best = null;
  for (const beat of beats) {
    if (best === null || Math.abs(beat - seconds) < Math.abs(best - seconds)) {
      best = beat;
    }
  }
  const count = beats.length;
  const spacing = count > 1 ? (beats[count - 1] - beats[0]) / (count - 1) : 0;
  return best !== null && Math.abs(best - seconds) <= spacing / 2 ? best : seconds;
}

// TODO: remember the A-B loop with the song's other settings.
function setLoopEnd(which) {
  if (!player) {
    return;
  }
  const at = snapToBeat(player.position);
  if (which === "a") {
    loopStart = at;
  } else {
    loopEnd = at;
  }
  if (loopStart !== null && loopEnd !== null && loopEnd <= loopStart) {
    [loopStart, loopEnd] = which === "a" ? [at, null] : [null, at];
  }
  loopToggle.disabled = loopStart === null || loopEnd === null;
  if (player.loop) {
    applyLoop(true);
  }
  showLoop();
}

function applyLoop(on) {
  if (on && loopStart !== null && loopEnd !== null) {
    player.setLoop(loopStart, loopEnd);
  } else {
    player?.setLoop(null, null);
  }
  showLoop();
  updatePosition();
}

function showLoop() {
  const on = Boolean(player?.loop);
  loopToggle.setAttribute("aria-pressed", String(on));
  const shown = (t) => (t === null ? "…" : formatDuration(t));
  const ends = [loopStart, loopEnd].map(shown);
  const span = loopStart === null && loopEnd === null ? "No loop" : ends.join("–");
  loopSpan.textContent = on ? `Looping ${span}` : span;
}

// Export: the song as mixed now, rendered offline and saved as a WAV file.

async function exportMix() {
  if (!player) {
    return;
  }
  exportButton.disabled = true;
  showMessage(pageMessage, "Rendering the mix…");
  try {
    const blob = encodeWav(await player.renderMix());
    const link = el("a", {
      attrs: {
        href: URL.createObjectURL(blob),
        download: `${songTitle.textContent || "StemTube"} (mix).wav`,
      },
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    showMessage(pageMessage, "");
  } catch (error) {
    showMessage(pageMessage, `Cannot export the mix: ${error.message}`, "error");
  } finally {
    exportButton.disabled = !player;
  }
}

exportButton.addEventListener("click", exportMix);
metronomeToggle.addEventListener("change", () =>
  metronome?.setEnabled(metronomeToggle.checked),
);
loopA.addEventListener("click", () => setLoopEnd("a"));
loopB.addEventListener("click", () => setLoopEnd("b"));
loopToggle.addEventListener("click", () => applyLoop(!player?.loop));

playButton.addEventListener("click", togglePlay);
seekSlider.addEventListener("input", () => {
  dragging = true;
  updatePosition();
});
seekSlider.addEventListener("change", () => {
  dragging = false;
  player?.seek(Number(seekSlider.value));
  updatePosition();
});

if (downloadId) {
  openDownload(downloadId);
} else {
  showPicker();
}
