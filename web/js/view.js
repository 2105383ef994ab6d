// One camera on one canvas: decodes JPEG frames off the main path (createImageBitmap),
// keeps annotations joined by seq (FrameSync) and a ball trail, and redraws at most once
// per animation frame. The canvas' pixels are the frame's pixels; CSS scales it.
// Each draw records what it put on screen (`drawn`): per model its weights and its age
// (capture ts -> this draw, ms), so the HUD and the untrained banner speak of the pixels
// shown, not of whatever annotation arrived last.

import { FrameSync } from "./frame_sync.js";
import { drawAnnotation, drawBall, modelColor } from "./render.js";

const TRAIL = 12;
const TRAIL_MAX_AGE_NS = 1e9;

export class CameraView {
  constructor(canvas, camera, hidden = new Set()) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.camera = camera;
    this.hidden = hidden; // model names not to draw
    this.reset();
  }

  reset() {
    this.sync = new FrameSync();
    this.trail = [];
    if (this.bitmap) this.bitmap.close();
    this.bitmap = null;
    this.frame = null; // header of the frame in `bitmap`
    this.lastAnnotation = null;
    this.pending = null;
    this.decoding = false;
    this.scheduled = false;
    this.framesDrawn = 0;
    this.framesSkipped = 0;
    this.frameTimes = [];
    /** @type {{model: string, weights: string, ageMs: number, marks: number}[]} */
    this.drawn = []; // the annotations of the last draw (hidden models excluded)
    this.videoAgeMs = null; // age of the frame on screen when it was drawn (capture -> draw, ms)
  }

  onVideo(frame) {
    if (this.decoding) {
      if (this.pending) this.framesSkipped += 1;
      this.pending = frame; // keep only the newest while one decodes
      return;
    }
    this._decode(frame);
  }

  async _decode(frame) {
    this.decoding = true;
    try {
      const bitmap = await createImageBitmap(frame.blob());
      if (this.frame && frame.seq < this.frame.seq && frame.seq > 0 && this.frame.seq - frame.seq < 1000) {
        bitmap.close(); // out of order: a newer frame is already shown
      } else {
        if (this.bitmap) this.bitmap.close();
        this.bitmap = bitmap;
        this.frame = { seq: frame.seq, ts: frame.ts, width: frame.width, height: frame.height };
        const now = performance.now();
        this.frameTimes.push(now);
        while (this.frameTimes.length && now - this.frameTimes[0] > 2000) this.frameTimes.shift();
        this.schedule();
      }
    } catch {
      this.framesSkipped += 1; // a broken JPEG: skip it
    } finally {
      this.decoding = false;
      if (this.pending) {
        const next = this.pending;
        this.pending = null;
        this._decode(next);
      }
    }
  }

  onAnnotation(ann) {
    this.sync.add(ann);
    this.lastAnnotation = ann;
    if (ann.ball && ann.ball.visible) {
      this.trail.push({ model: ann.model, seq: ann.seq, ts: ann.ts, x: ann.ball.x, y: ann.ball.y, w: ann.frame.w, h: ann.frame.h });
      this.trail.sort((a, b) => a.seq - b.seq);
      if (this.trail.length > TRAIL) this.trail.splice(0, this.trail.length - TRAIL);
    }
    // Redraw when it belongs to the frame on screen (arrived late) or when there is no video.
    if (!this.frame || ann.seq === this.frame.seq) this.schedule();
  }

  /** The oldest drawn annotation's age at the last draw (ms), null when none is on screen. */
  get ageMs() {
    return this.drawn.length ? Math.max(...this.drawn.map((d) => d.ageMs)) : null;
  }

  get fps() {
    const t = this.frameTimes;
    return t.length < 2 ? 0 : ((t.length - 1) * 1000) / (t[t.length - 1] - t[0]);
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  draw() {
    const { canvas, ctx } = this;
    const w = this.frame?.width ?? this.lastAnnotation?.frame.w ?? canvas.width;
    const h = this.frame?.height ?? this.lastAnnotation?.frame.h ?? canvas.height;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    if (this.bitmap) {
      ctx.drawImage(this.bitmap, 0, 0, w, h);
    } else {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, w, h);
    }
    const seq = this.frame?.seq ?? this.lastAnnotation?.seq;
    const ts = this.frame?.ts ?? this.lastAnnotation?.ts;
    const now = Date.now();
    const drawn = [];
    for (const { model, annotation } of this.sync.forFrame(seq, ts)) {
      if (this.hidden.has(model)) continue;
      drawAnnotation(ctx, annotation, modelColor(model));
      const ball = annotation.ball?.visible ? 1 : 0;
      drawn.push({ model, weights: annotation.weights, ageMs: now - annotation.ts / 1e6,
                   marks: annotation.objects.length + ball });
    }
    const trail = this.trail.filter((p) => !this.hidden.has(p.model) && p.seq <= seq && ts - p.ts < TRAIL_MAX_AGE_NS);
    if (trail.length) drawBall(ctx, trail, w / trail[0].w, h / trail[0].h);
    this.drawn = drawn;
    if (this.frame) this.videoAgeMs = now - this.frame.ts / 1e6;
    this.framesDrawn += 1;
  }
}

/** Names of the untrained models whose drawings (boxes, keypoints, a ball) are on `view`'s canvas. */
export function untrainedDrawn(view) {
  return view.drawn.filter((d) => d.weights === "untrained" && d.marks > 0).map((d) => d.model);
}

/** The banner's text for those models. */
export function untrainedMessage(names) {
  return `untrained model${names.length > 1 ? "s" : ""} ${names.join(", ")} — detections are not meaningful`;
}
