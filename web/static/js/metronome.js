// A metronome that follows the song's detected beats (not a fixed tempo),
// accenting downbeats, with a count-in before playback starts. Clicks are
// short oscillator bursts scheduled ahead on the audio clock, so they stay
// on the beat whatever the page's timers do.

// How far ahead clicks are scheduled, and how often the scheduler runs.
const LOOKAHEAD_S = 0.2;
const INTERVAL_MS = 50;
const CLICK_S = 0.03;

export class Metronome {
  /** Clicks go to `destination` of `context`; `player` gives the position. */
  constructor(context, destination, player) {
    this.context = context;
    this.destination = destination;
    this.player = player;
    this.beats = [];
    this.downbeats = new Set();
    this.enabled = false;
    this.timer = null;
    this.lastScheduled = -Infinity;
  }

  /** The song's beat and downbeat times, in seconds. */
  setBeats(beats, downbeats) {
    this.beats = [...beats].sort((a, b) => a - b);
    this.downbeats = new Set(downbeats);
  }

  /** Seconds between beats (the median gap), or 0.5 without beats. */
  get beatSeconds() {
    const gaps = this.beats.slice(1).map((b, i) => b - this.beats[i]);
    if (gaps.length === 0) {
      return 0.5;
    }
    gaps.sort((a, b) => a - b);
    return gaps[Math.floor(gaps.length / 2)];
  }

  /** Seconds heard between clicks, at the player's tempo. */
  get beatInterval() {
    return this.beatSeconds / (this.player.rate ?? 1);
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.lastScheduled = -Infinity;
    if (enabled && this.timer === null) {
      this.timer = setInterval(() => this.schedule(), INTERVAL_MS);
    } else if (!enabled && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Clicks `count` beats from `when` (a context time), the first accented. */
  countIn(count, when) {
    for (let i = 0; i < count; i += 1) {
      this.click(when + i * this.beatInterval, i === 0);
    }
  }

  schedule() {
    if (!this.enabled || !this.player.playing) {
      this.lastScheduled = -Infinity;
      return;
    }
    const position = this.player.position;
    const now = this.context.currentTime;
    // Before the song starts (a count-in), the clock runs ahead of it.
    const startsIn = Math.max(0, this.player.startTime - now);
    if (position + LOOKAHEAD_S < this.lastScheduled) {
      this.lastScheduled = -Infinity; // looped back, or sought
    }
    for (const beat of this.beats) {
      const ahead = (beat - position) / (this.player.rate ?? 1) + startsIn;
      if (beat > this.lastScheduled && ahead >= 0 && ahead < LOOKAHEAD_S) {
        this.click(now + ahead, this.downbeats.has(beat));
        this.lastScheduled = beat;
      }
    }
  }

  click(when, accented) {
    const tone = this.context.createOscillator();
    tone.frequency.value = accented ? 1500 : 1000;
    const gain = this.context.createGain();
    gain.gain.setValueAtTime(0.0001, when);
    gain.gain.exponentialRampToValueAtTime(accented ? 0.6 : 0.35, when + 0.002);
    gain.gain.exponentialRampToValueAtTime(0.0001, when + CLICK_S);
    tone.connect(gain).connect(this.destination);
    tone.start(when);
    tone.stop(when + CLICK_S + 0.01);
  }

  dispose() {
    this.setEnabled(false);
  }
}
