// Pure geometry of the calibration view: where a canvas shown with `object-fit: contain` puts its
// image inside its element box, and client (CSS pixel) <-> image (frame pixel) coordinates.
// Image pixels follow the contract's convention: (0, 0) is the centre of the top-left pixel, so a
// pixel's area spans u - 0.5 .. u + 0.5 (the same as cv2.projectPoints and courtside.court.camera).

/**
 * The image's box (CSS pixels) inside an element box `rect` showing a `width` x `height` image
 * letterboxed (object-fit: contain).
 * @param {{left: number, top: number, width: number, height: number}} rect
 * @param {number} width
 * @param {number} height
 * @returns {{left: number, top: number, width: number, height: number, scale: number}}
 */
export function contentBox(rect, width, height) {
  const scale = Math.min(rect.width / width, rect.height / height);
  const w = width * scale;
  const h = height * scale;
  return { left: rect.left + (rect.width - w) / 2, top: rect.top + (rect.height - h) / 2, width: w, height: h, scale };
}

/**
 * Client coordinates -> image pixels [u, v]; null outside the image (on the letterbox bars).
 * @param {{left: number, top: number, width: number, height: number}} rect
 * @param {number} width
 * @param {number} height
 * @param {number} x
 * @param {number} y
 * @returns {[number, number] | null}
 */
export function clientToImage(rect, width, height, x, y) {
  const box = contentBox(rect, width, height);
  const u = (x - box.left) / box.scale - 0.5;
  const v = (y - box.top) / box.scale - 0.5;
  if (u < -0.5 || v < -0.5 || u > width - 0.5 || v > height - 0.5) return null;
  return [u, v];
}

/**
 * Image pixels -> client coordinates [x, y] (the inverse of clientToImage).
 * @param {{left: number, top: number, width: number, height: number}} rect
 * @param {number} width
 * @param {number} height
 * @param {number} u
 * @param {number} v
 * @returns {[number, number]}
 */
export function imageToClient(rect, width, height, u, v) {
  const box = contentBox(rect, width, height);
  return [box.left + (u + 0.5) * box.scale, box.top + (v + 0.5) * box.scale];
}

/**
 * The name of the placed point nearest to (u, v) within `radius` image pixels, else null.
 * @param {Map<string, [number, number]>} points
 * @param {number} u
 * @param {number} v
 * @param {number} radius
 * @returns {string | null}
 */
export function nearestPoint(points, u, v, radius) {
  let best = null;
  let bestD = radius;
  for (const [name, [pu, pv]] of points) {
    const d = Math.hypot(pu - u, pv - v);
    if (d <= bestD) {
      best = name;
      bestD = d;
    }
  }
  return best;
}

/**
 * Points of an image `from` = [w, h] rescaled to an image `to` = [w, h] (the same view resized).
 * @param {Record<string, number[]>} points
 * @param {[number, number]} from
 * @param {[number, number]} to
 * @returns {Map<string, [number, number]>}
 */
export function rescaled(points, from, to) {
  const sx = to[0] / from[0];
  const sy = to[1] / from[1];
  const out = new Map();
  for (const [name, [u, v]] of Object.entries(points)) out.set(name, [(u + 0.5) * sx - 0.5, (v + 0.5) * sy - 0.5]);
  return out;
}
