// Drawing of annotations on a 2D canvas whose pixels are the frame's pixels.

export const PALETTE = ["#00e5ff", "#ffd600", "#ff4081", "#76ff03", "#ff9100", "#d500f9", "#1de9b6", "#ff5252"];

/** COCO-17 skeleton: pairs of keypoint indices. */
export const COCO_EDGES = [
  [0, 1], [0, 2], [1, 3], [2, 4], [5, 6], [5, 7], [7, 9], [6, 8], [8, 10],
  [5, 11], [6, 12], [11, 12], [11, 13], [13, 15], [12, 14], [14, 16],
];
export const KEYPOINT_MIN_SCORE = 0.3;
export const BALL_COLOR = "#ffffff";

/** A stable colour per model name (same on every page and device). */
export function modelColor(model) {
  let h = 0;
  for (const ch of model) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export function lineWidthFor(canvas) {
  return Math.max(2, Math.round(canvas.width / 320));
}

/** Boxes with label/score/track id, then skeletons. Scales from ann.frame to the canvas. */
export function drawAnnotation(ctx, ann, color) {
  const canvas = ctx.canvas;
  const sx = canvas.width / (ann.frame?.w || canvas.width);
  const sy = canvas.height / (ann.frame?.h || canvas.height);
  const lw = lineWidthFor(canvas);
  const font = Math.max(12, Math.round(canvas.width / 80));
  ctx.save();
  ctx.lineWidth = lw;
  ctx.strokeStyle = color;
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (const obj of ann.objects) {
    const [x1, y1, x2, y2] = obj.box;
    const x = Math.round(x1 * sx), y = Math.round(y1 * sy);
    const w = Math.round((x2 - x1) * sx), h = Math.round((y2 - y1) * sy);
    ctx.strokeRect(x, y, w, h);
    const text = `${obj.label} ${obj.score.toFixed(2)}${obj.track_id != null ? ` #${obj.track_id}` : ""}`;
    const tw = ctx.measureText(text).width + 8;
    const th = font + 6;
    const ty = y - th - lw >= 0 ? y - th - lw : y + lw;
    ctx.fillStyle = color;
    ctx.fillRect(x + (ty < y ? -lw / 2 : lw), ty, tw, th);
    ctx.fillStyle = "#000";
    ctx.fillText(text, x + (ty < y ? -lw / 2 : lw) + 4, ty + 3);
    if (obj.keypoints) drawSkeleton(ctx, obj.keypoints, sx, sy, color, lw);
  }
  ctx.restore();
}

export function drawSkeleton(ctx, kps, sx, sy, color, lw) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = Math.max(1, lw - 1);
  ctx.beginPath();
  for (const [a, b] of COCO_EDGES) {
    const p = kps[a], q = kps[b];
    if (!p || !q || p[2] < KEYPOINT_MIN_SCORE || q[2] < KEYPOINT_MIN_SCORE) continue;
    ctx.moveTo(p[0] * sx, p[1] * sy);
    ctx.lineTo(q[0] * sx, q[1] * sy);
  }
  ctx.stroke();
  ctx.fillStyle = "#fff";
  for (const [x, y, s] of kps) {
    if (s < KEYPOINT_MIN_SCORE) continue;
    ctx.beginPath();
    ctx.arc(x * sx, y * sy, lw + 1, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}

/** The ball and a fading trail; `trail` is [{x, y}] in frame pixels, oldest first. */
export function drawBall(ctx, trail, sx = 1, sy = 1) {
  if (!trail.length) return;
  const lw = lineWidthFor(ctx.canvas);
  ctx.save();
  ctx.lineWidth = lw;
  for (let i = 1; i < trail.length; i++) {
    ctx.globalAlpha = i / trail.length;
    ctx.strokeStyle = BALL_COLOR;
    ctx.beginPath();
    ctx.moveTo(trail[i - 1].x * sx, trail[i - 1].y * sy);
    ctx.lineTo(trail[i].x * sx, trail[i].y * sy);
    ctx.stroke();
  }
  const last = trail[trail.length - 1];
  ctx.globalAlpha = 1;
  ctx.fillStyle = "#ffeb3b";
  ctx.strokeStyle = "#000";
  ctx.beginPath();
  ctx.arc(last.x * sx, last.y * sy, lw * 3, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}
