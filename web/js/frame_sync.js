// Joins annotations to video frames by (camera, seq). An annotation may arrive just
// before or just after its frame, so each model keeps a small map seq -> annotation;
// when the exact one is missing the model's latest is used, unless it is stale.

/** Annotations older than this (ns) than the frame are not drawn on it. */
export const STALE_NS = 1.5e9;

export class FrameSync {
  constructor(keep = 90) {
    this.keep = keep;
    this.byModel = new Map(); // model -> { bySeq: Map<seq, annotation>, latest: annotation }
  }

  add(ann) {
    let entry = this.byModel.get(ann.model);
    if (!entry) {
      entry = { bySeq: new Map(), latest: null };
      this.byModel.set(ann.model, entry);
    }
    entry.bySeq.set(ann.seq, ann);
    while (entry.bySeq.size > this.keep) entry.bySeq.delete(entry.bySeq.keys().next().value);
    if (!entry.latest || ann.seq >= entry.latest.seq) entry.latest = ann;
  }

  /** [{model, annotation, exact}] to draw on the frame `seq` captured at `ts` (ns). */
  forFrame(seq, ts) {
    const out = [];
    for (const [model, entry] of this.byModel) {
      const exact = entry.bySeq.get(seq);
      if (exact) {
        out.push({ model, annotation: exact, exact: true });
      } else if (entry.latest && (ts == null || ts - entry.latest.ts < STALE_NS)) {
        out.push({ model, annotation: entry.latest, exact: false });
      }
    }
    return out;
  }

  models() {
    return [...this.byModel.keys()];
  }
}
