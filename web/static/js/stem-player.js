// Plays decoded stems together, sample-accurately: every play or seek
// starts one AudioBufferSourceNode per stem at the same context time and
// the same offset into the song.

// Sources are scheduled this far ahead so they all start on the same frame.
const START_LEAD_S = 0.1;
// Time constant of volume changes, short enough to feel instant, long
// enough not to click.
const VOLUME_RAMP_S = 0.01;

export class StemPlayer {
  /**
   * `onEnded()` is called when playback reaches the end of the song,
   * `onLoopEnded()` when a seek outside the A-B loop ends it.
   */
  constructor(context, { onEnded = () => {}, onLoopEnded = () => {} } = {}) {
    this.context = context;
    this.onEnded = onEnded;
    this.onLoopEnded = onLoopEnded;
    this.output = context.createGain();
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
    this.resuming = false;
    // The A-B loop, {start, end} in seconds, played sample-accurately by the
    // sources themselves; null when off.
    this.loop = null;
  }

  /** Adds a decoded stem, routed through its own gain and stereo panner. */
  addStem(name, buffer) {
    const gain = this.context.createGain();
    const panner = this.context.createStereoPanner();
    gain.connect(panner);
    panner.connect(this.output);
    this.stems.set(name, {
      buffer,
      gain,
      panner,
      volume: 1,
      muted: false,
      soloed: false,
      pan: 0,
    });
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
    const reached = this.startOffset + elapsed;
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
    this.output.disconnect();
    this.stems.clear();
  }

  /**
   * The song as the stems are set now (volume, mute, solo, pan), rendered
   * faster than real time into a stereo AudioBuffer.
   */
  async renderMix() {
    const rate = this.context.sampleRate;
    const length = Math.max(1, Math.round(this.duration * rate));
    const offline = new OfflineAudioContext(2, length, rate);
    for (const stem of this.stems.values()) {
      const source = offline.createBufferSource();
      source.buffer = stem.buffer;
      const gain = offline.createGain();
      gain.gain.value = this.heardVolume(stem);
      const panner = offline.createStereoPanner();
      panner.pan.value = stem.pan;
      source.connect(gain).connect(panner).connect(offline.destination);
      source.start(0);
    }
    return offline.startRendering();
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
    const generation = ++this.generation;
    let longest = null;

    for (const stem of this.stems.values()) {
      const source = this.context.createBufferSource();
      source.buffer = stem.buffer;
      if (this.loop) {
        source.loop = true;
        source.loopStart = this.loop.start;
        source.loopEnd = this.loop.end;
      }
      source.connect(stem.gain);
      source.start(when, Math.min(offset, stem.buffer.duration));
      this.sources.push(source);
      if (!longest || stem.buffer.duration > longest.buffer.duration) {
        longest = source;
      }
    }
    longest.addEventListener("ended", () => this.handleEnded(generation));

    this.startTime = when;
    this.startOffset = offset;
    this.playing = true;
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

  handleEnded(generation) {
    if (generation !== this.generation) {
      return;
    }
    this.stopSources();
    this.pausedAt = 0;
    this.onEnded();
  }
}
