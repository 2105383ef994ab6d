// Pure mapping for replay: archive index entries -> media time of an exported MP4 -> annotations and
// the analytics a minimap is fed as the video plays.
// Units: *_ns are Unix nanoseconds (BigInt-safe as Numbers at ms precision is not enough, so the
// math subtracts the export start first); media times are seconds from the file's first frame.

/**
 * Frames of an export, in media-time order: [{t, seq, ts}], from the segment headers that
 * /api/annotations returns (each with start_ns, pts_origin and index [[seq, pts, ts], ...]).
 * startNs is the export's Courtside-Start-Ns (a string, to keep every digit).
 */
export function exportFrames(segments, startNs) {
  const origin = BigInt(startNs);
  const frames = [];
  for (const { segment } of segments) {
    if (!segment) continue;
    const segStart = Number(BigInt(segment.start_ns) - origin) / 1e9;
    for (const [seq, pts, ts] of segment.index) {
      const t = segStart + (pts - segment.pts_origin);
      if (t >= -1e-6) frames.push({ t, seq, ts: String(ts) });
    }
  }
  frames.sort((a, b) => a.t - b.t);
  return frames;
}

/** Annotations grouped by the ts of their frame: Map(ts string -> [annotation]). */
export function byFrame(annotations) {
  const out = new Map();
  for (const ann of annotations) {
    const key = String(ann.ts);
    if (!out.has(key)) out.set(key, []);
    out.get(key).push(ann);
  }
  return out;
}

/** Index in frames of the frame shown at media time t: the last one at or before t (half a frame of
 * slack); -1 before the first. */
export function frameIndexAt(frames, t, slack = 0.016) {
  let lo = 0, hi = frames.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].t <= t + slack) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
  }
  return found;
}

/** The frame shown at media time t (see frameIndexAt), or null. */
export function frameAt(frames, t, slack = 0.016) {
  const found = frameIndexAt(frames, t, slack);
  return found < 0 ? null : frames[found];
}

/**
 * What a minimap (which accumulates: the ball's trail, the heatmap, the rally count) must be given
 * to show frame `index` of `frames`: a function of the index on screen returning
 * {reset, messages}: the analytics messages (the sidecar's analytics lines, grouped by the ts of
 * their frame) of every frame after the last one fed up to `index`, in frame order, each once;
 * a seek back sets `reset` (clear the minimap) and feeds again from the first frame.
 */
export function analyticsFeed(frames, analytics) {
  const byTs = byFrame(analytics);
  let fed = -1; // index of the last frame whose analytics were given
  return (index) => {
    const reset = index < fed;
    if (reset) fed = -1;
    const messages = [];
    for (let i = fed + 1; i <= index && i < frames.length; i++) messages.push(...(byTs.get(frames[i].ts) || []));
    fed = Math.max(fed, Math.min(index, frames.length - 1));
    return { reset, messages };
  };
}
