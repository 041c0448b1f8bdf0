// Plays decoded stems together, sample-accurately: every play or seek
// starts one AudioBufferSourceNode per stem at the same context time and
// the same offset into the song.
//
// Pitch and tempo are changed independently with one Signalsmith Stretch
// node (an AudioWorklet) on the mix: the sources play at the tempo's rate,
// which also moves their pitch by 12·log2(rate) semitones, and the stretch
// node shifts the mix by the pitch asked for minus that. One node on the mix
// costs a fraction of one per stem, keeps the stems' native, sample-accurate
// sync and loop points, and needs no second copy of the decoded stems in the
// worklet. At pitch 0 and tempo 100 % the node is left out of the path.

import SignalsmithStretch from "../vendor/signalsmith-stretch/SignalsmithStretch.mjs";

// Sources are scheduled this far ahead so they all start on the same frame.
const START_LEAD_S = 0.1;
// Time constant of volume changes, short enough to feel instant, long
// enough not to click.
const VOLUME_RAMP_S = 0.01;
// The pitch shift, in semitones, and the tempo, as a rate, that can be asked.
export const PITCH_LIMIT = 12;
export const TEMPO_RANGE = [0.5, 1.5];

// The worklet loads the library from this server, not from a blob: URL as
// it would by default, which the pages' Content-Security-Policy refuses.
SignalsmithStretch.moduleUrl = new URL(
  "../vendor/signalsmith-stretch/SignalsmithStretch.mjs",
  import.meta.url,
).href;

/** Whether this browser can change pitch and tempo (worklets need HTTPS). */
export function canStretch(context) {
  return Boolean(context.audioWorklet);
}

export class StemPlayer {
  /**
   * `onEnded()` is called when playback reaches the end of the song,
   * `onLoopEnded()` when a seek outside the A-B loop ends it.
   */
  constructor(context, { onEnded = () => {}, onLoopEnded = () => {} } = {}) {
    this.context = context;
    this.onEnded = onEnded;
    this.onLoopEnded = onLoopEnded;
    // Stems are summed here, then go to `output` directly or through the
    // stretch node.
    this.mix = context.createGain();
    // What is heard: the metronome's clicks join the mix here.
    this.output = context.createGain();
    this.mix.connect(this.output);
    this.output.connect(context.destination);
    // Listens to what is heard, for the level meter.
    this.meter = context.createAnalyser();
    this.meter.fftSize = 2048;
    this.output.connect(this.meter);
    this.samples = new Float32Array(this.meter.fftSize);
    this.stems = new Map();
    this.sources = [];
    this.playing = false;
    // While playing: the context time at which `startOffset` is heard.
    this.startTime = 0;
    this.startOffset = 0;
    // While paused: where playback resumes.
    this.pausedAt = 0;
    // Counts play/stop cycles, so a stopped source's "ended" is ignored.
    this.generation = 0;
    this.endedCount = 0;
    this.resuming = false;
    // The A-B loop, {start, end} in seconds, played sample-accurately by the
    // sources themselves; null when off.
    this.loop = null;
    // Pitch shift in semitones and tempo as a rate (1 = as recorded).
    this.semitones = 0;
    this.rate = 1;
    // The stretch node, made on first use, and whether the mix goes through
    // it; it delays what is heard by `latency` seconds.
    this.stretch = null;
    this.stretched = false;
    this.latency = 0;
  }

  /**
   * Adds a decoded stem, routed through its own gain and stereo panner.
   * Stems may arrive while the others play: the new one joins in sync.
   */
  addStem(name, buffer) {
    const gain = this.context.createGain();
    const panner = this.context.createStereoPanner();
    gain.connect(panner);
    panner.connect(this.mix);
    const stem = {
      buffer,
      gain,
      panner,
      volume: 1,
      muted: false,
      soloed: false,
      pan: 0,
    };
    this.stems.set(name, stem);
    gain.gain.value = this.heardVolume(stem);
    if (this.playing) {
      this.joinPlayback(stem);
    }
  }

  /** Length of the longest stem, in seconds. */
  get duration() {
    let longest = 0;
    for (const stem of this.stems.values()) {
      longest = Math.max(longest, stem.buffer.duration);
    }
    return longest;
  }

  /** Current position in the song, in seconds. */
  get position() {
    if (!this.playing) {
      return this.pausedAt;
    }
    const elapsed = Math.max(0, this.context.currentTime - this.startTime);
    const reached = this.startOffset + elapsed * this.rate;
    if (this.loop && reached >= this.loop.end) {
      const length = this.loop.end - this.loop.start;
      return this.loop.start + ((reached - this.loop.start) % length);
    }
    return Math.min(this.duration, reached);
  }

  /**
   * Loops [start, end) seconds, or stops looping when `start` is null. A
   * playhead outside the loop moves to its start.
   */
  setLoop(start, end) {
    const position = this.position;
    const on = start !== null && end > start;
    this.loop = on ? { start, end: Math.min(end, this.duration) } : null;
    const outside = on && (position < start || position >= this.loop.end);
    const target = outside ? start : position;
    if (this.playing) {
      this.stopSources();
      this.startSources(target);
    } else {
      this.pausedAt = target;
    }
  }

  /** Starts playing, after `leadSeconds` of silence (a count-in) if asked. */
  async play(leadSeconds = 0) {
    if (this.playing || this.resuming || this.stems.size === 0) {
      return;
    }
    // A context made before any click starts suspended.
    this.resuming = true;
    try {
      await this.context.resume();
    } finally {
      this.resuming = false;
    }

    if (this.stems.size === 0) {
      return;
    }
    if (this.pausedAt >= this.duration) {
      this.pausedAt = 0;
    }
    this.startSources(this.pausedAt, leadSeconds);
  }

  pause() {
    if (!this.playing) {
      return;
    }
    this.pausedAt = this.position;
    this.stopSources();
  }

  /** Moves to `seconds`; if playing, all stems restart there together. */
  seek(seconds) {
    const target = Math.min(Math.max(0, seconds), this.duration);
    if (this.loop && (target < this.loop.start || target >= this.loop.end)) {
      this.loop = null; // going elsewhere ends the loop
      this.onLoopEnded();
    }
    if (this.playing) {
      this.stopSources();
      this.startSources(target);
    } else {
      this.pausedAt = target;
    }
  }

  /** Sets a stem's volume, 0 to 1. */
  setVolume(name, volume) {
    const stem = this.stems.get(name);
    if (stem) {
      stem.volume = volume;
      this.applyGain(stem);
    }
  }

  setMuted(name, muted) {
    const stem = this.stems.get(name);
    if (stem) {
      stem.muted = muted;
      this.applyGain(stem);
    }
  }

  /** While any stem is soloed, only soloed stems are heard. */
  setSoloed(name, soloed) {
    const stem = this.stems.get(name);
    if (stem) {
      stem.soloed = soloed;
      for (const each of this.stems.values()) {
        this.applyGain(each);
      }
    }
  }

  /** Places a stem from -1 (left) through 0 (centre) to 1 (right). */
  setPan(name, pan) {
    const stem = this.stems.get(name);
    if (stem) {
      stem.pan = Math.max(-1, Math.min(1, pan));
      const now = this.context.currentTime;
      stem.panner.pan.setTargetAtTime(stem.pan, now, VOLUME_RAMP_S);
    }
  }

  /**
   * Shifts the pitch by `semitones` (-12 to 12) and plays at `rate` times
   * the recorded tempo (0.5 to 1.5), each without changing the other. Throws,
   * changing nothing, when the browser cannot run the stretch worklet.
   */
  async setPitchAndTempo(semitones, rate) {
    const pitch = Math.max(-PITCH_LIMIT, Math.min(PITCH_LIMIT, semitones));
    const tempo = Math.max(TEMPO_RANGE[0], Math.min(TEMPO_RANGE[1], rate));
    const stretched = pitch !== 0 || tempo !== 1;
    if (stretched) {
      await this.ensureStretch();
    }
    const rerouted = stretched !== this.stretched;
    const restart = this.playing && (tempo !== this.rate || rerouted);
    const position = this.position;
    if (restart) {
      this.stopSources();
    }
    this.semitones = pitch;
    this.rate = tempo;
    if (rerouted) {
      this.mix.disconnect();
      this.mix.connect(stretched ? this.stretch : this.output);
      this.stretched = stretched;
      this.latency = stretched ? this.stretchLatency : 0;
    }
    if (stretched) {
      this.stretch.schedule({ semitones: sourceShift(pitch, tempo) });
    }
    if (restart) {
      this.startSources(position);
    }
  }

  /** Makes the stretch node once; later calls wait for the same one. */
  ensureStretch() {
    this.stretchReady ??= (async () => {
      if (!canStretch(this.context)) {
        throw new Error("pitch and tempo need a secure (HTTPS) connection");
      }
      const node = await SignalsmithStretch(this.context);
      node.connect(this.output);
      await node.schedule({ active: true });
      this.stretchLatency = await node.latency();
      this.stretch = node;
    })();
    this.stretchReady.catch(() => {
      this.stretchReady = null; // let a later try start again
    });
    return this.stretchReady;
  }

  /** The loudness of what is heard now, as an RMS amplitude (0 to about 1). */
  level() {
    this.meter.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const sample of this.samples) {
      sum += sample * sample;
    }
    return Math.sqrt(sum / this.samples.length);
  }

  /** Stops playback and disconnects every node; the player is then unusable. */
  dispose() {
    this.stopSources();
    for (const stem of this.stems.values()) {
      stem.gain.disconnect();
      stem.panner.disconnect();
    }
    this.mix.disconnect();
    this.stretch?.disconnect();
    this.output.disconnect();
    this.stems.clear();
  }

  /**
   * The song as the stems are set now (volume, mute, solo, pan, pitch and
   * tempo), rendered faster than real time into a stereo AudioBuffer.
   */
  async renderMix() {
    const sampleRate = this.context.sampleRate;
    const frames = Math.max(1, Math.round((this.duration / this.rate) * sampleRate));
    // The stretch node delays its output: render that much more, then cut
    // it from the start. Its latency is the same in any context at one rate.
    const delay = this.stretched ? Math.round(this.latency * sampleRate) : 0;
    const offline = new OfflineAudioContext(2, frames + delay, sampleRate);
    let destination = offline.destination;
    if (this.stretched) {
      destination = await SignalsmithStretch(offline);
      destination.connect(offline.destination);
      await destination.schedule({
        active: true,
        semitones: sourceShift(this.semitones, this.rate),
      });
    }
    for (const stem of this.stems.values()) {
      const source = offline.createBufferSource();
      source.buffer = stem.buffer;
      source.playbackRate.value = this.rate;
      const gain = offline.createGain();
      gain.gain.value = this.heardVolume(stem);
      const panner = offline.createStereoPanner();
      panner.pan.value = stem.pan;
      source.connect(gain).connect(panner).connect(destination);
      source.start(0);
    }
    const rendered = await offline.startRendering();
    if (delay === 0) {
      return rendered;
    }
    const mix = new AudioBuffer({ numberOfChannels: 2, length: frames, sampleRate });
    for (let channel = 0; channel < 2; channel += 1) {
      const samples = rendered.getChannelData(channel);
      mix.copyToChannel(samples.subarray(delay, delay + frames), channel);
    }
    return mix;
  }

  heardVolume(stem) {
    const soloing = [...this.stems.values()].some((each) => each.soloed);
    const heard = !stem.muted && (!soloing || stem.soloed);
    return heard ? stem.volume : 0;
  }

  applyGain(stem) {
    const value = this.heardVolume(stem);
    stem.gain.gain.setTargetAtTime(value, this.context.currentTime, VOLUME_RAMP_S);
  }

  startSources(offset, leadSeconds = 0) {
    const when = this.context.currentTime + START_LEAD_S + leadSeconds;
    this.generation += 1;
    this.endedCount = 0;
    for (const stem of this.stems.values()) {
      this.startSource(stem, when, offset);
    }
    // Heard once the stretch node, if in the path, lets it through.
    this.startTime = when + this.latency;
    this.startOffset = offset;
    this.playing = true;
  }

  /** Starts one stem at context time `when`, `offset` seconds into it. */
  startSource(stem, when, offset) {
    const source = this.context.createBufferSource();
    source.buffer = stem.buffer;
    source.playbackRate.value = this.rate;
    if (this.loop) {
      source.loop = true;
      source.loopStart = this.loop.start;
      source.loopEnd = this.loop.end;
    }
    source.connect(stem.gain);
    source.start(when, Math.min(offset, stem.buffer.duration));
    const generation = this.generation;
    source.addEventListener("ended", () => this.handleEnded(generation));
    this.sources.push(source);
  }

  /**
   * Joins a stem that arrived while the others play: it starts a moment
   * from now at the song position the others will have reached then.
   */
  joinPlayback(stem) {
    const sourcesStarted = this.startTime - this.latency;
    const when = Math.max(this.context.currentTime + START_LEAD_S, sourcesStarted);
    let offset = this.startOffset + (when - sourcesStarted) * this.rate;
    if (this.loop && offset >= this.loop.end) {
      const length = this.loop.end - this.loop.start;
      offset = this.loop.start + ((offset - this.loop.start) % length);
    }
    this.startSource(stem, when, offset);
  }

  stopSources() {
    this.generation += 1;
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // A source that already ended cannot be stopped again; nothing to do.
      }
      source.disconnect();
    }
    this.sources = [];
    this.playing = false;
  }

  /** The song ends when every source of this play has ended. */
  handleEnded(generation) {
    if (generation !== this.generation) {
      return;
    }
    this.endedCount += 1;
    if (this.endedCount < this.sources.length) {
      return;
    }
    this.stopSources();
    this.pausedAt = 0;
    this.onEnded();
  }
}

/**
 * The shift the stretch node applies so that the mix, played at `rate`,
 * sounds `semitones` away from the recording.
 */
function sourceShift(semitones, rate) {
  return semitones - 12 * Math.log2(rate);
}
