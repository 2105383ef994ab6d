// Drawing of the calibration view, on a canvas of its own stacked over the video (same size as the
// frame, so one canvas pixel is one frame pixel): the reprojected court lines of the last solve and
// the clicked points (the selected one ringed). Image pixels are the contract's ((0, 0) = the centre
// of the top-left pixel): a point at u is drawn at canvas x = u + 0.5.

const LINE = "rgba(0, 229, 255, 0.9)";
const POINT = "#ffd400";
const SELECTED = "#ff1744";

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {{points: Map<string, [number, number]>, selected: string | null, lines: number[][][] | null,
 *          labels: Map<string, string>, scale: number}} state
 *   `lines`: polylines in image pixels (null: none solved); `labels`: a short label per point name;
 *   `scale`: CSS pixels per image pixel (marks keep their on-screen size).
 */
export function drawCalibration(ctx, state) {
  const { canvas } = ctx;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const px = 1 / Math.max(state.scale, 1e-3); // one CSS pixel in canvas pixels
  if (state.lines) {
    ctx.strokeStyle = LINE;
    ctx.lineWidth = 1.5 * px;
    for (const line of state.lines) {
      ctx.beginPath();
      line.forEach(([u, v], i) => (i === 0 ? ctx.moveTo(u + 0.5, v + 0.5) : ctx.lineTo(u + 0.5, v + 0.5)));
      ctx.stroke();
    }
  }
  ctx.font = `${Math.round(11 * px)}px system-ui, sans-serif`;
  for (const [name, [u, v]] of state.points) {
    const x = u + 0.5;
    const y = v + 0.5;
    const colour = name === state.selected ? SELECTED : POINT;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5 * px;
    ctx.beginPath();
    ctx.arc(x, y, 6 * px, 0, 2 * Math.PI);
    ctx.moveTo(x - 9 * px, y);
    ctx.lineTo(x + 9 * px, y);
    ctx.moveTo(x, y - 9 * px);
    ctx.lineTo(x, y + 9 * px);
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.fillText(state.labels.get(name) ?? "", x + 8 * px, y - 8 * px);
  }
}
