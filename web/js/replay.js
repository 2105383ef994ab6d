// The /replay page: a camera's recordings on a timeline (gaps visible), an exported range played
// with the archived annotations drawn on the exact frame (requestVideoFrameCallback mediaTime ->
// index -> annotations), the live page's court minimap drawn from the sidecars' analytics lines up to
// the frame on screen (sidecars archived before analytics were kept have none: no minimap), downloads
// of the clip and its sidecar.

import { createMinimap } from "./minimap.js";
import { fetchJson, readToken } from "./page.js";
import { drawAnnotation, modelColor } from "./render.js";
import { analyticsFeed, byFrame, exportFrames, frameIndexAt } from "./replay_sync.js";

const token = readToken();
/** Elements by id, typed loosely: the page's own markup (web/replay.html) fixes their kinds.
 * @type {(id: string) => any} */
const $ = (id) => document.getElementById(id);
const video = $("video"), canvas = $("overlay"), ctx = canvas.getContext("2d");
const state = { frames: [], annotations: new Map(), drawnSeq: null, drawnT: null, ready: false, playing: false,
  sinceClickMs: null, error: null, analytics: 0, minimapSeq: null };
/** @type {ReturnType<typeof createMinimap> | null} */
let minimap = null;
/** @type {ReturnType<typeof analyticsFeed>} */
let feed = analyticsFeed([], []);
window.replayState = state;  // read by tests and for debugging

const auth = () => (token ? { Authorization: `Bearer ${token}` } : {});

async function fetchBlob(path) {
  const response = await fetch(path, { headers: auth() });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response;
}

function showError(err) {
  state.error = String(err);
  $("status").textContent = state.error;
}

function drawTimeline(items, start, end) {
  const bar = $("timeline");
  bar.replaceChildren();
  const span = end - start;
  for (const item of items) {
    const el = document.createElement("button");
    el.className = `span ${item.kind}`;
    el.style.left = `${(100 * (item.start_ns - start)) / span}%`;
    el.style.width = `${Math.max(0.2, (100 * (item.end_ns - item.start_ns)) / span)}%`;
    el.title = `${item.kind} ${new Date(item.start_ns / 1e6).toISOString()} – ${new Date(item.end_ns / 1e6).toISOString()}`;
    if (item.kind === "recording") el.addEventListener("click", () => play(item.start_ns, item.end_ns));
    bar.append(el);
  }
}

async function load() {
  const camera = $("camera").value;
  const end = Date.now() * 1e6, start = end - Number($("minutes").value) * 60e9;
  const params = new URLSearchParams({ camera, start: String(Math.floor(start)), end: String(Math.floor(end)) });
  const data = await fetchJson(`/api/recordings?${params}`, token);
  drawTimeline(data.items, start, end);
  return data.items.filter((i) => i.kind === "recording");
}

/** Export [startNs, endNs) of the camera, play it, draw its annotations in sync. */
export async function play(startNs, endNs) {
  state.ready = false;
  const camera = $("camera").value;
  const q = new URLSearchParams({ camera, start: String(startNs), end: String(endNs) });
  const response = await fetchBlob(`/api/export?${q}`);
  const realStart = response.headers.get("Courtside-Start-Ns");
  const realEnd = response.headers.get("Courtside-End-Ns");
  const blob = await response.blob();
  const ann = await fetchJson(`/api/annotations?${new URLSearchParams({ camera, start: realStart, end: realEnd })}`, token);
  state.frames = exportFrames(ann.segments, realStart);
  state.annotations = byFrame(ann.annotations);
  showMinimap(ann.analytics || []);
  if (video.src) URL.revokeObjectURL(video.src);
  video.src = URL.createObjectURL(blob);
  $("download").href = video.src;
  $("download").download = `${camera}-${realStart}.mp4`;
  const sidecar = new Blob([ann.annotations.map((a) => JSON.stringify(a)).join("\n")], { type: "application/x-ndjson" });
  $("sidecar").href = URL.createObjectURL(sidecar);
  $("sidecar").download = `${camera}-${realStart}.jsonl`;
  $("status").textContent = `from ${new Date(Number(BigInt(realStart) / 1000000n)).toISOString()} (keyframe-aligned), `
    + `${state.frames.length} indexed frames, ${ann.annotations.length} annotations, ${state.analytics} analytics`;
  await new Promise((resolve) => video.addEventListener("loadeddata", resolve, { once: true }));
  state.ready = true;
}

/** A minimap for the range's analytics (made on the first range that has any; hidden for one without). */
function showMinimap(analytics) {
  state.analytics = analytics.length;
  state.minimapSeq = null;
  feed = analyticsFeed(state.frames, analytics);
  if (!minimap && analytics.length) {
    minimap = createMinimap(document.body);
    // Its "replay last rally" button belongs to the live page: here the rally is already playing.
    const button = minimap.canvas.parentElement?.querySelector(".minimap-replay");
    if (button instanceof HTMLElement) button.hidden = true;
  }
  if (!minimap) return;
  minimap.clear();
  const box = minimap.canvas.parentElement;
  if (box) box.hidden = !analytics.length;
}

/** Give the minimap the analytics up to frame `index` (-1: before the first; from the start again after a seek back). */
function feedMinimap(index) {
  if (!minimap) return;
  const { reset, messages } = feed(index);
  if (reset) minimap.clear();
  for (const msg of messages) {
    minimap.update(msg);
    state.minimapSeq = msg.seq;
  }
}

function draw(mediaTime) {
  if (canvas.width !== video.videoWidth && video.videoWidth) {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
  }
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const index = frameIndexAt(state.frames, mediaTime);
  const frame = index < 0 ? null : state.frames[index];
  state.drawnSeq = frame ? frame.seq : null;
  state.drawnT = mediaTime;
  feedMinimap(index);
  if (!frame) return;
  for (const ann of state.annotations.get(frame.ts) || []) drawAnnotation(ctx, ann, modelColor(ann.model));
}

function onFrame(_now, meta) {
  draw(meta.mediaTime);
  video.requestVideoFrameCallback(onFrame);
}

async function main() {
  const cameras = await fetchJson("/api/cameras", token);
  for (const cam of cameras.cameras) $("camera").append(new Option(cam.id, cam.id));
  const params = new URLSearchParams(location.search);
  if (params.get("camera")) $("camera").value = params.get("camera");
  $("load").addEventListener("click", () => load().catch(showError));
  video.requestVideoFrameCallback(onFrame);
  video.addEventListener("seeked", () => draw(video.currentTime));
  video.addEventListener("playing", () => {
    state.playing = true;
    // Opened by the live page's replay button: milliseconds from the click to the clip playing.
    const clicked = Number(params.get("clicked"));
    if (clicked > 0) state.sinceClickMs = performance.timeOrigin + performance.now() - clicked;
  }, { once: true });
  if (params.get("start") && params.get("end")) {  // the timeline loads while the range plays
    await Promise.all([load(), play(params.get("start"), params.get("end"))]);
  } else {
    const recs = await load();
    if (recs.length) await play(recs[recs.length - 1].start_ns, recs[recs.length - 1].end_ns);
  }
  if (params.get("play") === "1") await video.play();  // the live page's replay button: play at once (muted)
}

main().catch(showError);
